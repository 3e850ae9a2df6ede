"""One recording across many workers (issue 19): the same long file on one worker and on two.

The portal is the real stack (daphne, warm `manage.py asrworker` processes, the default profile:
the bundled Whisper tiny.en, int8, beam 5) on a throwaway VAR_DIR and Redis database 11, asked
through its OpenAI-compatible endpoint with a personal API token; the request waits for the
transcript. The recording is bench/peer.py's reading (the test clips, 0.5 s apart, whole rounds to
about `--seconds`, so the reference is exact). Each worker runs with OMP_NUM_THREADS=`--threads`
(1: one core each, so two workers use two cores as one two-threaded worker would not need to).

With one worker alive the job runs whole; with two, the worker that claims it cuts it in pauses
into chunks that both recognise (transcription/chunked.py, ASR_CHUNK_SECONDS). One and two workers
alternate `--repeats` times; the ratio is of the medians, with each side's word error rate.

    .venv/bin/python bench/chunks.py [--seconds 600] [--repeats 2] [--threads 1] [--chunk 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _harness import (
    TOKEN_FILE,
    db_rows,
    load_average,
    portal,
    portal_env,
    run_benchmark,
    site_setup,
    token_setup,
)
from _queueing import workers
from peer import QUEUE, REDIS_URL, ask_portal, reading, timed, wer


def registered() -> list[dict]:
    """Workers in the live-worker registry: those of the side before must be gone, or a job is cut
    for a worker that will never take a chunk."""
    import redis

    connection = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    return [connection.hgetall(key) for key in connection.scan_iter(match="portal:worker:*")]


def one_side(site, count: int, path: Path, said: str) -> tuple[float, float, list[str]]:
    """(seconds, WER, a line per chunk) for the reading on `count` fresh warm workers."""
    if registered():  # a worker killed on stop (warm shutdown over 10 s) stays listed for its TTL
        print(f"  waiting for the side before's workers to leave the registry: {registered()}", flush=True)
        deadline = time.monotonic() + 90
        while registered() and time.monotonic() < deadline:
            time.sleep(1)
    with workers(site, count, [], name=f"workers{count}"):
        token = (site.var_dir / TOKEN_FILE).read_text()
        seconds, text = timed(ask_portal, site.base, token, path)
    job = db_rows(site.var_dir, "SELECT id FROM transcription_job ORDER BY queued_at DESC LIMIT 1")[0]["id"]
    rows = db_rows(
        site.var_dir,
        'SELECT "index", start, "end", worker, processing_seconds FROM transcription_jobchunk '
        'WHERE job_id = ? ORDER BY "index"',
        (job,),
    )
    lines = [
        f"    chunk {r['index']}: {r['start']:6.1f}-{r['end']:6.1f} s, worker {r['worker'][:8]}, "
        f"{r['processing_seconds']:.1f} s"
        for r in rows
    ]
    return seconds, wer(said, text), lines


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--seconds", type=float, default=600, help="length of the reading")
    parser.add_argument("--repeats", type=int, default=2, help="one-worker/two-worker pairs")
    parser.add_argument("--threads", type=int, default=1, help="OMP_NUM_THREADS of each worker")
    parser.add_argument("--chunk", type=int, default=300, help="ASR_CHUNK_SECONDS")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-chunks-") as tmp:
        var_dir = Path(tmp)
        path, said = reading(var_dir / "reading.wav", args.seconds)
        env = portal_env(var_dir, redis_url=REDIS_URL, queue=QUEUE, API_WAIT_SECONDS="1800")
        env |= {"OMP_NUM_THREADS": str(args.threads), "ASR_CHUNK_SECONDS": str(args.chunk)}
        setup = site_setup("whisper", var_dir, QUEUE) + token_setup(var_dir)
        print(f"{args.seconds:.0f} s reading, OMP_NUM_THREADS={args.threads}, ASR_CHUNK_SECONDS={args.chunk}")
        print(f"load average before: {load_average()}", flush=True)
        times: dict[int, list[float]] = {1: [], 2: []}
        with portal(var_dir, env, setup=setup, worker_args=None) as site:
            with workers(site, 1, [], name="warm"):  # the first request pays for lazy set-up
                timed(ask_portal, site.base, (var_dir / TOKEN_FILE).read_text(), path)
            for run in range(args.repeats):
                for count in (1, 2) if run % 2 == 0 else (2, 1):
                    seconds, error, lines = one_side(site, count, path, said)
                    times[count].append(seconds)
                    print(f"  run {run + 1}: {count} worker(s) {seconds:6.1f} s  WER {100 * error:.2f} %  "
                          f"chunks {len(lines)}", *lines, sep="\n", flush=True)  # fmt: skip
        one, two = statistics.median(times[1]), statistics.median(times[2])
        print(f"one worker {one:.1f} s, two workers {two:.1f} s: {one / two:.2f}x faster")
        print(f"load average after: {load_average()}", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    run_benchmark(main, redis_url=REDIS_URL)

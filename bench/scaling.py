"""Benchmark 3, scaling: jobs per minute with 1 and 2 workers on one queue, batching off and on.

`--clips` (default 100) different five-second WAV files are cut from the LibriVox test speech.
The real portal (daphne, production-like settings) runs on a throwaway VAR_DIR and Redis
database 9 with no worker of its own. For each configuration, in the order
1 worker / no batching, 1 worker / batching, 2 workers / no batching, 2 workers / batching
(`--repeats` rounds of all four, so slow drifts of a shared machine hit every configuration):

  1. start the workers (`manage.py asrworker --batch-max-jobs 1` or `--batch-max-jobs N`,
     model preloaded) and wait until they are warm;
  2. upload all clips at once (100 files a request, as the dashboard's API allows), as one user;
  3. wait until every job has ended; check each is `done` with text and was claimed once;
  4. stop the workers.

Throughput is jobs / (last job finished - first job queued) x 60: submission, queueing, fair
dispatch, claiming, decoding, recognition and every database write and progress event included.
The report gives each run and the medians, and the ratios measured side by side in this one run:
2 workers / 1 worker (batching off, and on) and batched / unbatched (1 worker, and 2).

Run it by hand from the repository root (it is not a test); it flushes Redis database 9:

    .venv/bin/python bench/scaling.py [--clips 100] [--seconds 5] [--batch 8] [--repeats 1]
    .venv/bin/python bench/scaling.py --engine funasr      # the tiny FunASR model instead
    .venv/bin/python bench/scaling.py --threads 1          # one core a worker (OMP_NUM_THREADS=1)
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _harness import Client, load_average, portal, portal_env, run_benchmark, site_setup, speech_snippets
from _queueing import finished_jobs, upload_all, wait_all_finished, workers

REDIS_URL = "redis://127.0.0.1:6379/9"
QUEUE = "bench-scaling"


@dataclass
class Run:
    workers: int
    batch: int
    seconds: float  # first job queued to last job finished
    jobs: int
    batched_share: float  # jobs that ran in an engine call with others

    @property
    def per_minute(self) -> float:
        return self.jobs / self.seconds * 60


def measure(site, client: Client, clips: list[Path], count: int, batch: int) -> Run:
    with workers(site, count, ["--batch-max-jobs", str(batch)], name=f"w{count}-b{batch}") as processes:
        since = time.time()
        upload_all(client, clips)
        wait_all_finished(site.var_dir, processes, timeout=60 + 30 * len(clips))
    rows = finished_jobs(site.var_dir, since)
    bad = [r for r in rows if r["status"] != "done" or not r["text"].strip() or r["attempt"] != 1]
    if len(rows) != len(clips) or bad:
        raise RuntimeError(f"{len(rows)} jobs for {len(clips)} clips; {len(bad)} not done once with text")
    seconds = max(r["finished_at"] for r in rows) - min(r["queued_at"] for r in rows)
    batched = sum(1 for r in rows if json.loads(r["options"]).get("batched", 1) > 1)
    return Run(workers=count, batch=batch, seconds=seconds, jobs=len(rows), batched_share=batched / len(rows))


def report(runs: list[Run], batch: int) -> None:
    print(f"\n{'workers':>7} {'batch':>5} {'jobs':>5} {'seconds':>8} {'jobs/min':>9} {'batched':>8}")
    for r in runs:
        print(
            f"{r.workers:>7} {r.batch:>5} {r.jobs:>5} {r.seconds:>8.1f} {r.per_minute:>9.1f} "
            f"{r.batched_share:>8.0%}"
        )
    median = {
        (w, b): statistics.median(r.per_minute for r in runs if (r.workers, r.batch) == (w, b))
        for w in (1, 2)
        for b in (1, batch)
    }
    print("\nMedian jobs/minute, and ratios (measured side by side in this run)")
    for (w, b), value in median.items():
        print(f"  {w} worker(s), batch {b}: {value:.1f}")
    print(f"  2 workers / 1 worker, no batching: {median[2, 1] / median[1, 1]:.2f}x")
    print(f"  2 workers / 1 worker, batching:    {median[2, batch] / median[1, batch]:.2f}x")
    print(f"  batched / unbatched, 1 worker:     {median[1, batch] / median[1, 1]:.2f}x")
    print(f"  batched / unbatched, 2 workers:    {median[2, batch] / median[2, 1]:.2f}x")
    print(f"  best / 1 worker unbatched:         {max(median.values()) / median[1, 1]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=100, help="files per run")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each file")
    parser.add_argument("--batch", type=int, default=8, help="--batch-max-jobs when batching")
    parser.add_argument("--repeats", type=int, default=1, help="rounds of the four configurations")
    parser.add_argument("--engine", choices=["whisper", "funasr"], default="whisper")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="OMP_NUM_THREADS for every worker (0: the libraries' default, which uses every core)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="asr-bench-scaling-") as tmp:
        var_dir = Path(tmp) / "var"
        var_dir.mkdir()
        clips = speech_snippets(Path(tmp) / "clips", args.clips, args.seconds)
        env = portal_env(var_dir, redis_url=REDIS_URL, queue=QUEUE, engine=args.engine)
        if args.threads:  # CTranslate2 and torch both size their thread pools from it
            env["OMP_NUM_THREADS"] = str(args.threads)
        setup = site_setup(args.engine, var_dir, QUEUE)
        with portal(var_dir, env, setup=setup) as site:
            client = Client(site.base)
            client.login("bench", site.password)
            threads = args.threads or "default"
            print(
                f"{args.clips} clips of {args.seconds:g} s, {args.engine}, {threads} thread(s) a worker; "
                f"load average {load_average()}"
            )
            runs = []
            for round_ in range(1, args.repeats + 1):
                for count, batch in ((1, 1), (1, args.batch), (2, 1), (2, args.batch)):
                    runs.append(measure(site, client, clips, count, batch))
                    r = runs[-1]
                    print(
                        f"round {round_}: {count} worker(s), batch {batch}: {r.seconds:.1f} s, "
                        f"{r.per_minute:.1f} jobs/min (load average {load_average()})",
                        flush=True,
                    )
        report(runs, args.batch)


if __name__ == "__main__":
    run_benchmark(main, redis_url=REDIS_URL)

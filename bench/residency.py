"""Does one worker keep its model resident and its memory flat over many jobs?

Starts the real portal (daphne and one `manage.py asrworker`, model preloaded) on a throwaway
VAR_DIR and Redis database 8, then sends `--jobs` jobs (default 100) one after another, each a
different `--seconds`-long cut of the LibriVox test clips, uploaded like a browser and followed
on its websocket until done. After each job it reads:

  rss     the worker process's resident memory (VmRSS in /proc/<pid>/status), read here
  loads   portal_worker_model_loads_total from /metrics: the models the worker has loaded
          (the engine's load_count, published with the worker's heartbeat after every job)

and reports the memory after jobs 1, 10, 25, 50, 75 and the last, the growth from job 10 to the
last job (target: under 5 %), and the model loads (target: 1). `--engine funasr` runs the tiny
SeACo-Paraformer instead of Whisper tiny.en (see bench/overhead.py).

Run it by hand from the repository root (it is not a test); it flushes Redis database 8:

    .venv/bin/python bench/residency.py [--jobs 100] [--seconds 8] [--engine whisper|funasr]
"""

from __future__ import annotations

import argparse
import re
import secrets
import tempfile
import time
import urllib.request
from pathlib import Path

from _harness import (
    USERNAME,
    Client,
    Site,
    db_job,
    load_average,
    multipart,
    portal,
    portal_env,
    rss_mb,
    run_benchmark,
    site_setup,
    speech_snippets,
)

REDIS_URL = "redis://127.0.0.1:6379/8"  # never 0 (development), 14 (overhead) or 15 (tests)
QUEUE = "bench"
TARGET_GROWTH = 0.05
LOADS = re.compile(r"^portal_worker_model_loads_total\{[^}]*\} (\d+)$", re.MULTILINE)


def model_loads(site: Site) -> int:
    """The worker's model loads, as /metrics shows them (one worker, so one line)."""
    request = urllib.request.Request(
        f"{site.base}/metrics", headers={"Authorization": f"Bearer {site.env['METRICS_TOKEN']}"}
    )
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request) as response:
        text = response.read().decode()
    found = LOADS.findall(text)
    if len(found) != 1:
        raise RuntimeError(f"expected one worker on /metrics, found {len(found)}")
    return int(found[0])


def run_job(client: Client, site: Site, path: Path) -> None:
    job_id = client.upload(*multipart([path]))
    status, _ = client.wait_finished(job_id, site, timeout=300)
    job = db_job(site.var_dir, job_id)
    if status != "done" or job["status"] != "done":
        raise RuntimeError(f"job {job_id} ended {job['status']!r}: {job['error']!r}")


def report(samples: list[tuple[float, int]]) -> None:
    """samples[i]: (worker RSS in MB, model loads) after job i + 1."""
    print(f"\n{'after job':>9} {'worker RSS MB':>14} {'model loads':>12}")
    last = len(samples)
    for n in sorted({1, 10, 25, 50, 75, last} & set(range(1, last + 1))):
        print(f"{n:>9} {samples[n - 1][0]:>14.1f} {samples[n - 1][1]:>12}")
    print("worker RSS MB after each job:")
    for row in range(0, last, 20):
        print("  " + " ".join(f"{s[0]:.0f}" for s in samples[row : row + 20]))
    first = min(10, last)  # the first ten jobs warm caches up: growth counts from job 10
    rss = [s[0] for s in samples[first - 1 :]]
    growth = (rss[-1] - rss[0]) / rss[0]
    print(f"\nRSS min / max over jobs {first}..{last}: {min(rss):.1f} / {max(rss):.1f} MB")
    print(f"growth from job {first} to job {last}: {growth:+.2%} (target: under {TARGET_GROWTH:.0%})")
    print(f"model loads after job {last}: {samples[-1][1]} (target: 1)")
    met = growth < TARGET_GROWTH and samples[-1][1] == 1
    print("verdict:", "met" if met else "NOT met")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=8, help="audio per job")
    parser.add_argument("--engine", choices=["whisper", "funasr"], default="whisper")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="asr-bench-") as tmp:
        var_dir = Path(tmp) / "var"
        var_dir.mkdir()
        token = secrets.token_urlsafe(16)
        env = portal_env(var_dir, redis_url=REDIS_URL, queue=QUEUE, engine=args.engine, METRICS_TOKEN=token)
        clips = speech_snippets(Path(tmp) / "clips", args.jobs, args.seconds)
        with portal(var_dir, env, setup=site_setup(args.engine, var_dir, QUEUE), worker_args=[]) as site:
            client = Client(site.base)
            client.login(USERNAME, site.password)
            print(f"worker RSS after preloading: {rss_mb(site.worker.pid):.1f} MB; load {load_average()}")
            started, samples = time.monotonic(), []
            for i, path in enumerate(clips, 1):
                run_job(client, site, path)
                samples.append((rss_mb(site.worker.pid), model_loads(site)))
                if i % 10 == 0:
                    print(f"  {i} jobs, RSS {samples[-1][0]:.1f} MB, load {load_average()}", flush=True)
            print(f"{args.jobs} jobs of {args.seconds:g} s in {time.monotonic() - started:.0f} s")
        report(samples)


if __name__ == "__main__":
    run_benchmark(main, redis_url=REDIS_URL)

"""500 short files submitted at once through the API: memory stays bounded, none is lost.

Starts the real portal (daphne and one `manage.py asrworker`, Whisper tiny.en preloaded) on a
throwaway VAR_DIR and Redis database 8, makes a personal API token, cuts `--files` different
`--seconds`-long clips from the LibriVox test audio, and POSTs them all to /api/v1/jobs/
(`Authorization: Bearer`, one file per request, `--parallel` requests at a time, all in one
batch label) as fast as the portal answers. Meanwhile it samples the resident memory (VmRSS)
of the daphne and worker processes every half second, and it waits until every job has ended.

It reports the submission time, the time until the last job ended, the memory of both
processes (start, peak, end), and checks that nothing was lost or run twice:

  - every POST answered 201 with one new job id, and the ids are all different;
  - the database holds exactly `--files` jobs in the batch, all `done` with text;
  - each job was claimed once (`Job.attempt` = 1: the claim is what runs a job), and the worker's
    log shows no RQ job taken from the queue twice (with batching across jobs a job may run
    inside another job's RQ job, so its own may never be taken).

Run it by hand from the repository root (it is not a test); it flushes Redis database 8:

    .venv/bin/python bench/batches.py [--files 500] [--seconds 3] [--parallel 4]
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from _harness import (
    TOKEN_FILE,
    Site,
    db_rows,
    load_average,
    multipart,
    portal,
    portal_env,
    rss_mb,
    run_benchmark,
    site_setup,
    speech_snippets,
    token_setup,
)

REDIS_URL = "redis://127.0.0.1:6379/8"  # never 0 (development), 14 (overhead) or 15 (tests)
QUEUE = "bench"
BATCH = "bench-batch"
STALL_SECONDS = 300  # no job ended for this long: give up and report what is there


# --- Memory, sampled in a thread while the run goes on


@dataclass
class Memory:
    samples: dict[str, list[float]] = field(default_factory=lambda: {"daphne": [], "worker": []})

    def report(self) -> None:
        print(f"\nRSS MB  {'start':>9} {'peak':>9} {'end':>9}   ({len(self.samples['worker'])} samples)")
        for name, values in self.samples.items():
            print(f"{name:<7} {values[0]:>9.1f} {max(values):>9.1f} {values[-1]:>9.1f}")


def sample_memory(site: Site, memory: Memory, stop: threading.Event) -> None:
    while True:
        memory.samples["daphne"].append(rss_mb(site.daphne.pid))
        memory.samples["worker"].append(rss_mb(site.worker.pid))
        if stop.wait(0.5):
            return


# --- Submitting


def submit(site: Site, token: str, path: Path) -> list[str]:
    body, content_type = multipart([path], fields={"batch": BATCH})
    request = urllib.request.Request(
        f"{site.base}/api/v1/jobs/",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=120) as response:
        if response.status != 201:
            raise RuntimeError(f"POST /api/v1/jobs/ answered {response.status}")
        return [job["id"] for job in json.load(response)["jobs"]]


def submit_all(site: Site, token: str, clips: list[Path], parallel: int) -> list[str]:
    with ThreadPoolExecutor(parallel) as pool:
        return [job_id for ids in pool.map(lambda p: submit(site, token, p), clips) for job_id in ids]


# --- Waiting and checking


def ended_count(site: Site) -> int:
    query = "SELECT COUNT(*) AS n FROM transcription_job WHERE status IN ('done', 'failed')"
    return db_rows(site.var_dir, query)[0]["n"]


def wait_all_ended(site: Site, total: int) -> None:
    last_change, last = time.monotonic(), -1
    while (ended := ended_count(site)) < total:
        if ended != last:
            last_change, last = time.monotonic(), ended
        if time.monotonic() - last_change > STALL_SECONDS or site.worker.poll() is not None:
            print(f"stalled at {ended} of {total} ended jobs", flush=True)
            return
        time.sleep(1)


def check(site: Site, ids: list[str], files: int) -> bool:
    jobs = db_rows(site.var_dir, "SELECT id, status, attempt, text, options FROM transcription_job")
    in_batch = [j for j in jobs if json.loads(j["options"]).get("batch") == BATCH]
    statuses = Counter(j["status"] for j in in_batch)
    attempts = Counter(j["attempt"] for j in in_batch)
    log = site.logs["worker"].read_text(errors="replace")
    # RQ logs "<queue>: transcription.jobs.transcribe('<id>') (transcribe-<id>)" when it takes a
    # job, and "Successfully completed transcription.jobs.transcribe('<id>') job in ..." after.
    starts = Counter(re.findall(r"transcribe\('([0-9a-f-]+)'\) \(transcribe-", log))
    oks = Counter(
        re.findall(r"Successfully completed transcription\.jobs\.transcribe\('([0-9a-f-]+)'\)", log)
    )
    run_counts = Counter((starts.get(job_id, 0), oks.get(job_id, 0)) for job_id in ids)
    checks = {
        f"{files} POSTs gave {files} different job ids": len(ids) == files and len(set(ids)) == files,
        f"{files} jobs in the batch in the database": len(in_batch) == files,
        f"all done with text (statuses: {dict(statuses)})": statuses["done"] == files
        and all(j["text"].strip() for j in in_batch),
        f"each claimed once (attempts: {dict(attempts)})": set(attempts) == {1},
        # With batching across jobs a job may run inside another job's RQ job: its own is never taken.
        f"no RQ job taken twice ((taken, completed): jobs = {dict(run_counts)})": all(
            taken <= 1 for taken, _ in run_counts
        ),
    }
    for what, ok in checks.items():
        print(f"  [{'ok' if ok else 'FAILED'}] {what}")
    return all(checks.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=3, help="audio per file")
    parser.add_argument("--parallel", type=int, default=4, help="requests in flight at once")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="asr-bench-") as tmp:
        var_dir = Path(tmp) / "var"
        var_dir.mkdir()
        env = portal_env(var_dir, redis_url=REDIS_URL, queue=QUEUE)
        clips = speech_snippets(Path(tmp) / "clips", args.files, args.seconds)
        setup = site_setup("whisper", var_dir, QUEUE) + token_setup(var_dir)
        with portal(var_dir, env, setup=setup, worker_args=[]) as site:
            token = (var_dir / TOKEN_FILE).read_text()
            memory, stop = Memory(), threading.Event()
            sampler = threading.Thread(target=sample_memory, args=(site, memory, stop), daemon=True)
            sampler.start()
            print(f"submitting {args.files} files of {args.seconds:g} s; load {load_average()}", flush=True)
            started = time.monotonic()
            ids = submit_all(site, token, clips, args.parallel)
            submitted = time.monotonic() - started
            print(f"submitted in {submitted:.1f} s; load {load_average()}", flush=True)
            wait_all_ended(site, args.files)
            finished = time.monotonic() - started
            time.sleep(1)  # a last memory sample after the last job
            stop.set()
            sampler.join()
            print(f"\nsubmitted in {submitted:.1f} s; all ended after {finished:.1f} s", end="")
            print(f" ({args.files / finished * 60:.0f} jobs a minute); load {load_average()}")
            memory.report()
            print("\nchecks:")
            ok = check(site, ids, args.files)
        print("verdict:", "met" if ok else "NOT met")


if __name__ == "__main__":
    run_benchmark(main, redis_url=REDIS_URL)

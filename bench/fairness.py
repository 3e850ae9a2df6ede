"""Fair scheduling: how long one user's single file waits behind another user's big upload.

User A uploads `--jobs` (default 500) short files (`--seconds`, default 2, cut from the LibriVox
test speech), 100 a request; as soon as A's last request is answered, user B uploads one file.
B's wait is B's job's `finished_at - queued_at` (submit to done) from the database. This runs
twice, side by side in one run: with fair scheduling (the default: a dispatch window of
ASR_DISPATCH_WINDOW jobs on the RQ queue, filled round-robin across users) and with
ASR_FAIR_SCHEDULING=false (every job enqueued at once: first come, first served). Each mode gets
a fresh portal (daphne and one warm `manage.py asrworker`, Whisper tiny.en unless
`--engine funasr`) on a throwaway VAR_DIR and Redis database 9; it stops once B's job has ended
(A's backlog is not waited for). The report gives B's wait in both modes and their ratio, how
many of A's jobs had finished when B's did, and the place the dashboard showed for B's job just
after its upload (the positions selector, read through the portal's own code).

Run it by hand from the repository root (it is not a test); it flushes Redis database 9:

    .venv/bin/python bench/fairness.py [--jobs 500] [--seconds 2] [--window 8] [--batch 8]
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _harness import (
    Client,
    db_job,
    load_average,
    manage,
    multipart,
    portal,
    portal_env,
    run_benchmark,
    site_setup,
    speech_snippets,
)
from _queueing import finished_jobs, upload_all

REDIS_URL = "redis://127.0.0.1:6379/9"
QUEUE = "bench-fairness"
USER_B = "bench-b"
POSITION = (
    "from django.contrib.auth import get_user_model\n"
    "from transcription import selectors\n"
    "from transcription.models import Job\n"
    "user = get_user_model().objects.get(username={user!r})\n"
    "print(selectors.job_queue_positions(user=user, jobs=Job.objects.filter(owner=user)).get(Job.objects.get("
    "owner=user).id))\n"
)


@dataclass
class Outcome:
    mode: str
    wait: float  # B's job: queued to finished, seconds
    a_done_before: int  # A's jobs finished before B's
    position: str  # B's place in the queue, as the dashboard showed it after the upload
    a_submit: float  # seconds A's uploads took


def measure(fair: bool, args, tmp: Path, clips: list[Path], b_clip: Path) -> Outcome:
    var_dir = tmp / ("fair" if fair else "fifo")
    var_dir.mkdir()
    env = portal_env(
        var_dir,
        redis_url=REDIS_URL,
        queue=QUEUE,
        engine=args.engine,
        ASR_FAIR_SCHEDULING="true" if fair else "false",
        ASR_DISPATCH_WINDOW=str(args.window),
    )
    password = secrets.token_urlsafe(16)
    setup = site_setup(args.engine, var_dir, QUEUE) + (
        "from django.contrib.auth import get_user_model\n"
        f"get_user_model().objects.create_user({USER_B!r}, password={password!r})\n"
    )
    with portal(var_dir, env, setup=setup, worker_args=["--batch-max-jobs", str(args.batch)]) as site:
        user_a, user_b = Client(site.base), Client(site.base)
        user_a.login("bench", site.password)
        user_b.login(USER_B, password)
        started = time.time()
        upload_all(user_a, clips)
        a_submit = time.time() - started
        b_id = user_b.upload(*multipart([b_clip]))
        position = manage(site.env, "shell", "-v", "0", "-c", POSITION.format(user=USER_B)).strip()
        status, _ = user_b.wait_finished(
            b_id, site, timeout=120 + 10 * len(clips), claim_timeout=60 + 10 * len(clips)
        )
        if status != "done":
            raise RuntimeError(f"B's job ended {status}")
        rows = finished_jobs(site.var_dir, started)
    b_row = next(r for r in rows if r["id"] == db_job(var_dir, b_id)["id"])
    a_done = sum(
        1
        for r in rows
        if r["owner_id"] != b_row["owner_id"]
        and r["finished_at"]
        and r["finished_at"] <= b_row["finished_at"]
    )
    mode = "fair" if fair else "first come, first served"
    wait = b_row["finished_at"] - b_row["queued_at"]
    return Outcome(mode=mode, wait=wait, a_done_before=a_done, position=position, a_submit=a_submit)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=500, help="user A's files")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each file")
    parser.add_argument("--window", type=int, default=8, help="ASR_DISPATCH_WINDOW in fair mode")
    parser.add_argument("--batch", type=int, default=8, help="the worker's --batch-max-jobs")
    parser.add_argument("--engine", choices=["whisper", "funasr"], default="whisper")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="asr-bench-fairness-") as tmp:
        clips = speech_snippets(Path(tmp) / "clips", args.jobs + 1, args.seconds)
        print(
            f"A: {args.jobs} files of {args.seconds:g} s, then B: 1; load average {load_average()}",
            flush=True,
        )
        outcomes = []
        for fair in (True, False):
            outcomes.append(measure(fair, args, Path(tmp), clips[:-1], clips[-1]))
            o = outcomes[-1]
            print(f"{o.mode}: B waited {o.wait:.1f} s (load average {load_average()})", flush=True)
    print(f"\n{'mode':<26} {'B wait s':>9} {'A done first':>13} {'B position':>11} {'A upload s':>11}")
    for o in outcomes:
        print(f"{o.mode:<26} {o.wait:>9.1f} {o.a_done_before:>13} {o.position:>11} {o.a_submit:>11.1f}")
    fair, fifo = outcomes
    print(f"\nB's wait, first come first served / fair: {fifo.wait / fair.wait:.1f}x")


if __name__ == "__main__":
    run_benchmark(main, redis_url=REDIS_URL)

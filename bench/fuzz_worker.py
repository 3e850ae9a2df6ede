"""The whole hostile corpus (tests/hostile_corpus.py, about 480 files) through the real portal:
uploaded like a browser to a live daphne, transcribed by a real `manage.py asrworker` (Whisper
tiny.en), which this script restarts should it ever die, counting each death.

Reports: worker deaths (target 0), every job's end (done, or failed with a sentence: nothing may
stay queued or running, nothing may fail with a traceback or "unexpectedly"), the sentences users
see, and the uploads the portal refused at once. bench/fuzz_uploads.py runs the same corpus through
the decoder alone and reports the decoder's memory.

Run it by hand from the repository root (it is not a test); it flushes Redis database 9:

    .venv/bin/python bench/fuzz_worker.py [--seed 0] [--timeout 1800]
"""

from __future__ import annotations

import argparse
import collections
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

from _harness import (
    ROOT,
    USERNAME,
    Client,
    db_rows,
    load_average,
    multipart,
    portal,
    portal_env,
    run_benchmark,
    site_setup,
    spawn,
    stop,
)

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REDIS_URL = "redis://127.0.0.1:6379/9"
QUEUE = "bench-fuzz"
SENTENCE = re.compile(r"[A-Z].{10,}[.?!]", re.S)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds for the worker to end every job")
    args = parser.parse_args()
    from tests import hostile_corpus

    with tempfile.TemporaryDirectory(prefix="bench-fuzz-") as tmp:
        var_dir = Path(tmp)
        written, skipped = hostile_corpus.write(hostile_corpus.corpus(args.seed), var_dir / "corpus")
        print(f"{len(written)} files written ({len(skipped)} this PyAV cannot write); load {load_average()}")
        env = portal_env(var_dir, redis_url=REDIS_URL, queue=QUEUE, ASR_HEARTBEAT_SECONDS="2")
        with portal(var_dir, env, setup=site_setup("whisper", var_dir, QUEUE), worker_args=None) as site:
            client = Client(site.base)
            client.login(USERNAME, site.password)
            started = time.monotonic()
            refused_at_upload = upload_all(client, written)
            deaths, worker_seconds = run_worker_until_done(site, args.timeout)
            report(site, written, refused_at_upload, deaths, worker_seconds, time.monotonic() - started)


def upload_all(client: Client, written) -> dict[str, str]:
    """Upload every file; the portal may refuse one at once (over a limit): name -> its answer."""
    refused = {}
    for item, path in written:
        body, content_type = multipart([path])
        try:
            client.upload(body, content_type)
        except Exception as exc:  # noqa: BLE001 - counted and shown: a refusal is an outcome
            refused[item.name] = str(exc)
    return refused


def run_worker_until_done(site, timeout: float) -> tuple[list[str], float]:
    """One worker at a time, restarted after a death, until no job is queued or running."""
    deaths: list[str] = []
    deadline = time.monotonic() + timeout
    log = site.var_dir / "worker.log"
    started = time.monotonic()
    while time.monotonic() < deadline:
        worker = spawn([sys.executable, "manage.py", "asrworker", "--queue", QUEUE], site.env, log)
        try:
            while worker.poll() is None and unfinished(site) and time.monotonic() < deadline:
                time.sleep(1)
        finally:
            stop(worker)
        code = worker.returncode
        if code is not None and code < 0 and -code != signal.SIGTERM:
            deaths.append(f"signal {-code} ({signal.Signals(-code).name})")
            continue  # reconcile (the next worker's) puts its job back
        if not unfinished(site):
            break
    return deaths, time.monotonic() - started


def unfinished(site) -> int:
    rows = db_rows(
        site.var_dir, "SELECT COUNT(*) AS n FROM transcription_job WHERE status IN ('queued', 'running')"
    )
    return rows[0]["n"]


def report(site, written, refused_at_upload, deaths, worker_seconds, elapsed) -> None:
    jobs = db_rows(site.var_dir, "SELECT original_name, status, error FROM transcription_job")
    by_status = collections.Counter(job["status"] for job in jobs)
    sentences = collections.Counter(job["error"] for job in jobs if job["status"] == "failed")
    bad = [job for job in jobs if job["status"] == "failed" and not _sentence(job["error"])]
    expected = {item.name: item.expect for item, _ in written}
    playlists_done = [
        j["original_name"]
        for j in jobs
        if expected.get(j["original_name"]) == "refused" and j["status"] == "done"
    ]
    print(f"\nworker deaths: {len(deaths)} {deaths or ''}")
    print(f"jobs: {len(jobs)} of {len(written)} files; refused at upload: {len(refused_at_upload)}")
    print(f"  by status: {dict(by_status)}  (queued or running at the end: {unfinished(site)})")
    print(f"  failed without a sentence: {len(bad)} {[j['original_name'] for j in bad][:10]}")
    print(f"  expected refused but done: {len(playlists_done)} {playlists_done[:10]}")
    print(f"worker time {worker_seconds:.0f} s, whole run {elapsed:.0f} s; load {load_average()}")
    print("\nsentences users saw (count, message):")
    for message, count in sentences.most_common():
        print(f"  {count:4d}  {message[:150]}")


def _sentence(message: str) -> bool:
    return bool(SENTENCE.fullmatch(message)) and "Traceback" not in message and "unexpectedly" not in message


if __name__ == "__main__":
    run_benchmark(main, redis_url=REDIS_URL)

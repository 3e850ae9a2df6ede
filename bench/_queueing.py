"""What bench/scaling.py and bench/fairness.py share: a portal with no worker of its own, workers
started and stopped around each measured run, uploads of many files, and the throwaway
database watched until jobs end. Built on `_harness` (import this one from a script run from the
repository root, like the benchmarks themselves)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from _harness import READY_LINE, Client, Site, db_rows, db_time, multipart, spawn, stop, wait_until

UPLOAD_CHUNK = 100  # files per upload request: the portal's default UPLOAD_MAX_FILES


@contextmanager
def workers(site: Site, count: int, args: list[str], name: str) -> Iterator[list]:
    """`count` warm `manage.py asrworker` processes (model preloaded) on the site's settings;
    stopped on exit. Their logs are VAR_DIR/<name>-<i>.log."""
    with ExitStack() as stack:
        started = []
        for i in range(count):
            log = site.var_dir / f"{name}-{i}.log"
            process = spawn([sys.executable, "manage.py", "asrworker", *args], site.env, log)
            stack.callback(stop, process)
            started.append((process, log))
        for process, log in started:
            ready = lambda log=log: READY_LINE in log.read_text(errors="replace")  # noqa: E731
            wait_until(ready, what="asrworker", process=process, log=log, timeout=300)
        yield [process for process, _ in started]


def upload_all(client: Client, paths: list[Path]) -> None:
    """Upload `paths` as fast as the portal takes them, UPLOAD_CHUNK files a request."""
    for i in range(0, len(paths), UPLOAD_CHUNK):
        client.upload(*multipart(paths[i : i + UPLOAD_CHUNK]))


def unfinished(var_dir: Path) -> int:
    return db_rows(
        var_dir, "SELECT COUNT(*) AS n FROM transcription_job WHERE status IN ('queued', 'running')"
    )[0]["n"]


def wait_all_finished(var_dir: Path, processes: list, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while unfinished(var_dir):
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("a worker exited: see its log under VAR_DIR")
        if time.monotonic() > deadline:
            raise RuntimeError(f"jobs still unfinished after {timeout:.0f} s")
        time.sleep(0.5)


def finished_jobs(var_dir: Path, since: float) -> list[dict]:
    """Jobs queued at or after `since` (a Unix time), with times as Unix seconds."""
    rows = db_rows(var_dir, "SELECT id, owner_id, status, text, options, queued_at, started_at, finished_at, "
                   "attempt FROM transcription_job")  # fmt: skip
    for row in rows:
        for column in ("queued_at", "started_at", "finished_at"):
            row[column] = db_time(row[column]) if row[column] else None
    return [row for row in rows if row["queued_at"] >= since]

"""scripts/serve.sh (what `make run` serves with) supervising real processes: a worker that dies
is restarted while the web server keeps serving, a worker that cannot start stops everything with
its message, and SIGTERM or Ctrl-C leaves no process behind.

Each run gets a throwaway VAR_DIR (SQLite there), a free port, and a marker in its environment
that every process it starts inherits: /proc/*/environ then finds whatever is left, whichever
process group or session it moved to. Small shell stand-ins replace the commands
(SERVE_WORKER_CMD, ...) where the real ones are not the point; the real daphne and the real
`asrworker` run where they are. Each test takes a few seconds (the slowest, the real asrworker
failing three times, 5 to 15 s); the file, about 30 s.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

# First run: dies (a segfault, or exit 1); every later run stays up. $1: a flag file, $2: how.
CRASH_ONCE = """#!/usr/bin/env bash
if [ ! -e "$1" ]; then
  touch "$1"
  echo "stand-in crashing ($2)" >&2
  if [ "$2" = segv ]; then kill -SEGV $$; else exit 1; fi
fi
echo "stand-in up: $1" >&2
exec sleep 600
"""
# Ignores SIGTERM, and so do the children it leaves running: only SIGKILL ends them.
STUBBORN = """#!/usr/bin/env bash
trap '' TERM
sleep 600 &
sleep 600 &
echo "stubborn stand-in up" >&2
wait
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def script(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


def survivors(marker: str) -> list[str]:
    """Every live process whose environment carries the marker: 'pid command line'."""
    found = []
    needle = f"SERVE_TEST_MARKER={marker}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if needle in (proc / "environ").read_bytes().split(b"\0"):  # a zombie's is empty
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{proc.name} {command}")
        except OSError:  # gone meanwhile, or not ours
            continue
    return found


class Serve:
    """scripts/serve.sh in a session (and process group) of its own, output to a log file."""

    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.marker, self.port = uuid.uuid4().hex, free_port()
        self.log_path = tmp_path / "serve.log"
        full_env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}  # SQLite
        full_env.update(
            DJANGO_SETTINGS_MODULE="tests.settings",
            VAR_DIR=str(tmp_path / "var"),
            REDIS_URL=REDIS_URL,
            HOST="127.0.0.1",
            PORT=str(self.port),
            SERVE_TEST_MARKER=self.marker,
            PYTHONUNBUFFERED="1",
            SERVE_STREAM_CMD="exec sleep 600",  # the live captioning worker: not the point here
        )
        full_env.update(env)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                ["scripts/serve.sh"],
                cwd=ROOT,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log:
            if time.monotonic() > deadline:
                pytest.fail(f"no {text!r} within {timeout} s:\n{self.log[-4000:]}")
            if self.process.poll() is not None and text not in self.log:
                pytest.fail(
                    f"serve.sh exited ({self.process.returncode}) before {text!r}:\n{self.log[-4000:]}"
                )
            time.sleep(0.1)

    def stop(self, how: signal.Signals, timeout: float = 20) -> int:
        """Signal serve.sh's process group, as a terminal's Ctrl-C or a service manager does."""
        os.killpg(self.process.pid, how)
        return self.process.wait(timeout=timeout)

    def cleanup(self) -> None:
        """After a failed test: leave nothing running."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        for line in survivors(self.marker):
            try:
                os.kill(int(line.split()[0]), signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def serve(tmp_path):
    started: list[Serve] = []

    def start(**env: str) -> Serve:
        started.append(Serve(tmp_path, **env))
        return started[-1]

    yield start
    for run in started:
        run.cleanup()


@pytest.fixture(scope="module")
def migrated_db(tmp_path_factory) -> Path:
    """A migrated SQLite database (the shipped engine profiles in it), made once, copied per test."""
    var = tmp_path_factory.mktemp("migrated-var")
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="tests.settings", VAR_DIR=str(var))
    ran = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    return var / "db.sqlite3"


def migrated(tmp_path: Path, db: Path) -> None:
    (tmp_path / "var").mkdir(exist_ok=True)
    shutil.copy(db, tmp_path / "var" / "db.sqlite3")


def get(url: str) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return response.status


def test_a_worker_that_dies_is_restarted_and_the_real_daphne_keeps_serving(serve, tmp_path, migrated_db):
    """The user's report: the ASR worker segfaulted and was never started again. Now it is, with a
    message naming the signal; the webhook worker likewise after exit 1; the real daphne serves
    throughout. Then Ctrl-C (SIGINT to serve.sh's process group) leaves nothing running."""
    migrated(tmp_path, migrated_db)  # for the real demo admin
    crash_once = script(tmp_path / "crash_once.sh", CRASH_ONCE)
    run = serve(
        SERVE_WORKER_CMD=f"{crash_once} {tmp_path / 'asr-crashed'} segv",
        SERVE_WEBHOOK_CMD=f"{crash_once} {tmp_path / 'webhook-crashed'} exit",
        SERVE_LLM_CMD="exec sleep 600",
    )
    run.wait_for("The ASR worker was killed by signal SIGSEGV (11) after ")
    run.wait_for("The webhook worker exited with code 1 after ")
    assert run.log.count("restarting it in 1 s (failure 1 in a row).") == 2
    run.wait_for(f"stand-in up: {tmp_path / 'asr-crashed'}")
    run.wait_for(f"stand-in up: {tmp_path / 'webhook-crashed'}")
    run.wait_for("Log in as 'admin' with password")
    run.wait_for(f"Listening on TCP address 127.0.0.1:{run.port}")
    assert get(f"http://127.0.0.1:{run.port}/accounts/login/") == 200
    assert run.process.poll() is None, "serve.sh goes on"
    running = [line.split(None, 1)[1].strip() for line in survivors(run.marker)]
    assert running.count("sleep 600") == 4, "the workers up (the live captioning worker too)"

    assert run.stop(signal.SIGINT) == 0
    assert "Stopping..." in run.log
    assert survivors(run.marker) == []


def test_b_a_worker_that_cannot_start_stops_everything_with_its_message(serve, tmp_path, migrated_db):
    """The real asrworker with a profile whose model is missing: CommandError at once, three times
    (1 s, then 2 s apart), then serve.sh stops the rest and exits non-zero."""
    migrated(tmp_path, migrated_db)
    run = serve(
        SERVE_WORKER_CMD=".venv/bin/python manage.py asrworker --profile 'Paraformer-zh (hotwords)'",
        SERVE_WEBHOOK_CMD="exec sleep 600",
        SERVE_LLM_CMD="exec sleep 600",
        SERVE_WEB_CMD="exec sleep 600",
        SERVE_ADMIN_CMD="true",
        SERVE_READY_SECONDS="20",  # not 10: Django starting on a busy test machine is slow too
    )
    assert run.process.wait(timeout=40) == 1
    log = run.log
    assert log.count("CommandError: Profile 'Paraformer-zh (hotwords)' cannot run here: Model") == 3
    assert "The ASR worker exited with code 1 after" in log
    assert "restarting it in 1 s (failure 1 in a row)" in log
    assert "restarting it in 2 s (failure 2 in a row)" in log
    assert (
        "The ASR worker could not start: it failed 3 times in a row, each time within 20 s "
        "(the last one exited with code 1); see its messages above." in log
    )
    assert "Stopping everything." in log
    assert survivors(run.marker) == []


# Run 1 stays up a while, then fails; runs 2 and 3 fail at once; run 4 retires (exit 0); 5 stays up.
FLAKY = """#!/usr/bin/env bash
n=$(( $(cat "$1" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$1"
case $n in
  1) sleep 1.5; exit 1 ;;
  2|3) exit 1 ;;
  4) exit 0 ;;
  *) exec sleep 600 ;;
esac
"""


def test_a_worker_that_once_ran_is_never_given_up_and_waits_longer_each_time(tmp_path):
    """scripts/supervise.sh alone, with short settings: after a run longer than SERVE_READY_SECONDS
    quick failures do not stop it; the delay doubles up to SERVE_MAX_BACKOFF; exit 0 is a
    retirement (a fresh worker, no failure). SIGTERM then ends it and its worker."""
    marker, log_path = uuid.uuid4().hex, tmp_path / "supervise.log"
    env = dict(
        os.environ,
        SERVE_READY_SECONDS="1",
        SERVE_START_TRIES="2",
        SERVE_MAX_BACKOFF="2",
        SERVE_TEST_MARKER=marker,
    )
    flaky = script(tmp_path / "flaky.sh", FLAKY)
    with log_path.open("wb") as log:
        supervisor = subprocess.Popen(
            ["scripts/supervise.sh", "ASR worker", f"{flaky} {tmp_path / 'runs'}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 20
        while "retired itself" not in log_path.read_text():
            assert supervisor.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        deadline = time.monotonic() + 5
        while (tmp_path / "runs").read_text().strip() != "5":
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        os.kill(supervisor.pid, signal.SIGTERM)
        assert supervisor.wait(timeout=10) == 0
    finally:
        if supervisor.poll() is None:
            os.killpg(supervisor.pid, signal.SIGKILL)
    lines = [line.removeprefix("[serve] ") for line in log_path.read_text().splitlines()]
    assert lines[0].startswith("The ASR worker exited with code 1 after ")
    assert lines[0].endswith("restarting it in 1 s (failure 1 in a row).")
    assert lines[1].endswith("restarting it in 2 s (failure 2 in a row).")
    assert lines[2].endswith("restarting it in 2 s (failure 3 in a row).")
    assert lines[3].startswith("The ASR worker retired itself after ")
    assert len(lines) == 4, lines
    assert survivors(marker) == []


def test_c_sigterm_ends_every_process_even_those_that_ignore_it(serve, tmp_path):
    """SIGTERM: each piece gets SIGTERM; after SERVE_STOP_SECONDS what is left of their process
    groups (a worker ignoring SIGTERM and its children) is killed. serve.sh exits 0."""
    stubborn = script(tmp_path / "stubborn.sh", STUBBORN)
    run = serve(
        SERVE_WORKER_CMD=stubborn,
        SERVE_WEBHOOK_CMD="exec sleep 600",
        SERVE_LLM_CMD="exec sleep 600",
        SERVE_WEB_CMD=f"exec {sys.executable} -m http.server {free_port()} --bind 127.0.0.1",
        SERVE_ADMIN_CMD="true",
        SERVE_STOP_SECONDS="2",
    )
    run.wait_for("stubborn stand-in up")
    run.wait_for("FunASR Portal:")
    deadline = time.monotonic() + 10
    while len(survivors(run.marker)) < 8:  # serve.sh, 2 supervisors, stubborn + 2 sleeps, sleep, server
        assert time.monotonic() < deadline, survivors(run.marker)
        time.sleep(0.1)

    started = time.monotonic()
    assert run.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 8
    assert "Killing what did not stop within 2 s" in run.log
    assert survivors(run.marker) == []


def test_the_web_server_exiting_stops_everything(serve, tmp_path):
    run = serve(
        SERVE_WORKER_CMD="exec sleep 600",
        SERVE_WEBHOOK_CMD="exec sleep 600",
        SERVE_LLM_CMD="exec sleep 600",
        SERVE_WEB_CMD="sleep 0.5; echo 'port taken' >&2; exit 7",
        SERVE_ADMIN_CMD="true",
    )
    assert run.process.wait(timeout=20) == 1
    assert "port taken" in run.log
    assert "The web server exited (status 7); stopping everything." in run.log
    assert survivors(run.marker) == []


def test_c_sigterm_also_stops_the_redis_serve_started(serve, tmp_path):
    """No Redis answers at REDIS_URL: serve.sh starts one (scripts/ensure-redis.sh) and stops it too."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    if (ROOT / "var" / "redis" / "redis.pid").exists():
        pytest.skip("a Redis started by ensure-redis.sh runs from this checkout already")
    run = serve(
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        SERVE_WORKER_CMD="exec sleep 600",
        SERVE_WEBHOOK_CMD="exec sleep 600",
        SERVE_LLM_CMD="exec sleep 600",
        SERVE_WEB_CMD="exec sleep 600",
        SERVE_ADMIN_CMD="true",
    )
    run.wait_for("FunASR Portal:")
    assert "Starting redis-server on port" in run.log
    # Found by its pid file: redis-server rewrites its environment (its process title).
    redis = Path("/proc") / (ROOT / "var" / "redis" / "redis.pid").read_text().strip()
    assert "redis-server" in (redis / "cmdline").read_text()

    try:
        assert run.stop(signal.SIGTERM) == 0
        assert survivors(run.marker) == []
        # stop-redis.sh signals it and does not wait: give it a moment to save and go.
        deadline = time.monotonic() + 10
        while redis.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not redis.exists(), "Redis still runs"
    finally:
        if redis.exists():  # the test failed: stop it anyway
            subprocess.run(["scripts/stop-redis.sh"], cwd=ROOT, check=False)

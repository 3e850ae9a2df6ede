"""Redis really stopped and restarted (a private redis-server with no persistence, the worst
case): the web keeps serving pages and taking uploads, and the queued jobs are rebuilt from the
database once Redis is back."""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from tests import test_browser
from tests.conftest import AUDIO
from tests.test_browser import database_url, free_port, wait_for_port
from transcription.models import Job

ROOT = Path(__file__).resolve().parent.parent
CLIP = AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("default_profile"),
    pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server"),
]


class PrivateRedis:
    def __init__(self, tmp_path: Path) -> None:
        self.port, self.dir, self.process = free_port(), tmp_path, None

    def start(self) -> None:
        options = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            ["redis-server", *options, "--dir", str(self.dir)], stdout=subprocess.DEVNULL
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


def environment(redis_port: int) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TEST_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "VAR_DIR": str(settings.VAR_DIR),
        "ASR_HEARTBEAT_SECONDS": "1",  # reconcile leaves jobs younger than this alone
    }


def start_daphne(env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "portal.asgi:application"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL), port


def manage(env: dict, *args: str) -> str:
    command = [sys.executable, "manage.py", *args]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


class Browser:
    """Just enough of a browser: cookies, CSRF tokens, forms and a multipart upload."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.read().decode()

    def csrf(self, page: str) -> str:
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    def log_in(self, username: str, password: str) -> None:
        token = self.csrf(self.get("/accounts/login/"))
        data = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": username, "password": password}
        )
        self.opener.open(self.base + "/accounts/login/", data.encode(), timeout=30).read()

    def upload(self, path: Path) -> int:
        token = self.csrf(self.get("/"))
        boundary = uuid.uuid4().hex
        parts = [
            f"--{boundary}\r\nContent-Disposition: form-data; name=csrfmiddlewaretoken\r\n\r\n{token}\r\n",
            f'--{boundary}\r\nContent-Disposition: form-data; name=files; filename="{path.name}"\r\n',
            "Content-Type: audio/wav\r\n\r\n",
        ]
        body = "".join(parts).encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Referer": self.base + "/"}
        request = urllib.request.Request(self.base + "/jobs/upload/", data=body, headers=headers)
        with self.opener.open(request, timeout=30) as response:
            return response.status


def test_it_keeps_serving_through_a_redis_restart_and_loses_no_job(tmp_path, alice):
    redis = PrivateRedis(tmp_path)
    redis.start()
    env = environment(redis.port)
    daphne, port = start_daphne(env)
    try:
        wait_for_port(port)
        browser = Browser(f"http://127.0.0.1:{port}")
        redis.stop()  # Redis goes away...
        browser.log_in("alice", "alice-pass")  # ...people can still log in,
        page = browser.get("/")
        assert "transcription queue is unavailable" in page  # are told what is going on,
        assert browser.upload(CLIP) == 200  # and can still upload (followed the redirect).
        job = Job.objects.get(owner=alice)
        assert job.status == Job.Status.QUEUED

        redis.start()  # back, empty
        time.sleep(1.1)
        assert "1 enqueued again" in manage(env, "reconcile")
        manage(env, "asrworker", "--burst", "--no-preload")
        job.refresh_from_db()
        assert job.status == Job.Status.DONE and "young man" in job.text.lower()
        assert "transcription queue is unavailable" not in browser.get("/")
    finally:
        daphne.kill()
        daphne.wait(timeout=10)
        if redis.process.poll() is None:
            redis.stop()


browser = test_browser.browser  # the fixture: Debian's Chromium through Playwright
LIVE = re.compile(r"\bon\b")  # the dashboard's "live updates" dot is lit


@pytest.mark.skipif(not Path(test_browser.CHROMIUM).exists(), reason="Debian's chromium is not installed")
@pytest.mark.parametrize("noticed", [True, False], ids=["outage the page notices", "momentary restart"])
def test_it_keeps_an_open_dashboard_live_through_a_redis_restart(tmp_path, alice, browser, noticed):
    """The dashboard stays open in the browser while Redis stops and comes back empty (its groups
    gone): the page's live updates stop and resume by themselves, and a file uploaded afterwards
    reaches "Done" in the same page, from websocket events alone (daphne and the worker lived
    through it). A momentary restart must not leave a socket open that no group reaches."""
    from playwright.sync_api import expect

    redis = PrivateRedis(tmp_path)
    redis.start()
    env = environment(redis.port)
    daphne, port = start_daphne(env)
    with (tmp_path / "worker.log").open("w") as log:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "asrworker", "--no-preload"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
    try:
        wait_for_port(port)
        page = browser.new_page()
        test_browser.log_in(page, f"http://127.0.0.1:{port}", "alice", "alice-pass")
        live = page.locator("#live")
        expect(live).to_have_class(LIVE)
        page.evaluate("window.notReloaded = true")

        redis.stop()
        if noticed:
            expect(live).not_to_have_class(LIVE, timeout=20_000)  # the page knows updates are paused
        redis.start()  # back, empty: no groups, no queue
        expect(live).to_have_class(LIVE, timeout=30_000)  # reconnected by itself

        page.set_input_files("#id_files", str(CLIP))
        page.click("#upload-form button[type=submit]")
        status = page.locator('#jobs tr[data-job] [data-field="status"]')
        expect(status).to_have_count(1)
        expect(status).to_have_class(re.compile(r"\bdone\b"), timeout=90_000)
        assert page.evaluate("window.notReloaded") is True  # no reload: the events came over the socket
        assert Job.objects.get(owner=alice).status == Job.Status.DONE
        assert worker.poll() is None
    finally:
        for process in (worker, daphne):
            process.kill()
            process.wait(timeout=10)
        if redis.process.poll() is None:
            redis.stop()

"""Live captions in Debian's Chromium (issue 20): the fake microphone plays LibriVox speech into the
live page, which streams it through daphne to a real `manage.py asrstream` process (Whisper
tiny.en); captions appear before the speech ends, and after Stop the recording is a job whose
transcript is made as an upload's. A streaming worker killed mid-session still leaves a job with
all the audio the page sent."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import wave

import numpy as np
import pytest
from django.conf import settings

from portal import queues
from tests import test_browser, test_browser_microphone
from tests.conftest import AUDIO, english_clips, run_worker
from tests.test_browser import ROOT, database_url, log_in, outside_playwright
from tests.test_browser_microphone import launch
from transcription import streaming
from transcription.evaluation import word_error_rate
from transcription.models import Job

pytestmark = test_browser.pytestmark
portal_url = test_browser.portal_url  # the fixture: daphne in a subprocess
driver = test_browser_microphone.driver  # the fixture: Playwright

CLIPS = ["sense_and_sensibility_01_austen_64kb-0870", "sense_and_sensibility_01_austen_64kb-0890"]


@pytest.fixture
def microphone(tmp_path):
    """The clips one after another with half a second between them, as the fake microphone's file."""
    gap = np.zeros(8000, dtype="<i2")
    pieces = []
    for name in CLIPS:
        with wave.open(str(AUDIO / f"{name}.wav"), "rb") as clip:
            pieces += [np.frombuffer(clip.readframes(clip.getnframes()), dtype="<i2"), gap]
    path = tmp_path / "microphone.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(16000)
        out.writeframes(np.concatenate(pieces).tobytes())
    return path, sum(p.size for p in pieces) / 16000


@pytest.fixture
def stream_worker(default_profile):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "VAR_DIR": str(settings.VAR_DIR),
    }
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "asrstream", "--sessions", "2"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not streaming.list_all(queues.connection()):
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            pytest.fail(f"asrstream did not start: {worker.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)
    yield worker
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=10)


def start_live(driver, portal_url, microphone, *, before=None):
    """Chromium with `microphone` as its fake microphone, Alice logged in, a live session started;
    `before(page)` is called first (to route the page's sockets)."""
    browser = launch(
        driver,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone}%noloop",
    )
    page = browser.new_page()
    if before:
        before(page)
    log_in(page, portal_url, "alice", "alice-pass")
    page.get_by_role("link", name="Live", exact=True).click()
    page.get_by_role("button", name="Start").click()
    return browser, page


def test_captions_appear_while_speaking_and_the_recording_becomes_a_job(
    portal_url,
    driver,
    alice,
    stream_worker,
    microphone,
):
    from playwright.sync_api import expect

    path, seconds = microphone
    browser, page = start_live(driver, portal_url, path)
    try:
        expect(page.locator("#live-status")).to_have_text("Recording.", timeout=10_000)
        began = time.monotonic()
        page.wait_for_function("() => document.getElementById('live-level').value > 0.3")  # the meter moves
        expect(page.locator("#live-captions")).to_contain_text(re.compile(r"\w+ \w+"), timeout=seconds * 1000)
        shown_after = time.monotonic() - began
        expect(page.locator("#live-final")).not_to_be_empty(timeout=10_000)
        page.wait_for_timeout(max(0, (seconds + 1 - (time.monotonic() - began)) * 1000))
        page.get_by_role("button", name="Stop").click()
        expect(page.locator("#live-done")).to_be_visible(timeout=20_000)
        captions = page.locator("#live-final").inner_text()
        job_url = page.locator("#live-job").get_attribute("href")
    finally:
        browser.close()
    assert shown_after < seconds - 2  # words on screen while the speech was still playing
    said = " ".join(english_clips()[str(AUDIO / f"{name}.wav")] for name in CLIPS)
    assert word_error_rate([(said, captions)]) < 0.3, captions
    job = Job.objects.get()
    assert job_url == f"/jobs/{job.id}/" and job.status == "queued" and job.duration >= seconds
    outside_playwright(run_worker)
    job.refresh_from_db()
    assert job.status == "done" and word_error_rate([(said, job.text)]) < 0.15, job.text


def test_a_streaming_worker_killed_mid_session_leaves_a_job_with_all_the_audio(
    portal_url,
    driver,
    alice,
    stream_worker,
    microphone,
):
    from playwright.sync_api import expect

    path, seconds = microphone
    browser, page = start_live(driver, portal_url, path)
    try:
        expect(page.locator("#live-status")).to_have_text("Recording.", timeout=10_000)
        began = time.monotonic()
        expect(page.locator("#live-captions")).to_contain_text(re.compile(r"\w"), timeout=seconds * 1000)
        stream_worker.send_signal(signal.SIGKILL)  # no goodbye: its registry entry lingers until its TTL
        page.wait_for_timeout(4000)
        recorded = time.monotonic() - began
        page.get_by_role("button", name="Stop").click()
        # The worker's last caption never comes: the session ends after live_consumer.FINAL_TIMEOUT.
        expect(page.locator("#live-done")).to_be_visible(timeout=30_000)
    finally:
        browser.close()
    job = Job.objects.get()
    # Every sample the page captured until Stop: about the time it ran (the page started capturing
    # a moment before "Recording." showed).
    assert job.status == "queued" and recorded - 0.5 <= job.duration <= recorded + 2


def test_the_page_reconnects_after_a_dropped_connection_and_loses_no_audio(
    portal_url, driver, alice, stream_worker, microphone
):
    from playwright.sync_api import expect

    path, seconds = microphone
    sockets = []

    def relay(ws):  # every live socket through the test, so that it can cut one
        server = ws.connect_to_server()
        sockets.append((ws, server))

    browser, page = start_live(
        driver, portal_url, path, before=lambda p: p.route_web_socket("**/ws/live/", relay)
    )
    try:
        expect(page.locator("#live-status")).to_have_text("Recording.", timeout=10_000)
        began = time.monotonic()
        page.wait_for_timeout(3000)
        ws, server = sockets[0]
        server.close()  # the network drops: the page hears the socket close
        ws.close(code=1001, reason="gone")
        expect(page.locator("#live-status")).to_contain_text("reconnecting", timeout=5_000)
        expect(page.locator("#live-status")).to_have_text("Recording.", timeout=15_000)
        assert len(sockets) >= 2  # a new socket, resuming the same session
        page.wait_for_timeout(2000)
        recorded = time.monotonic() - began
        page.get_by_role("button", name="Stop").click()
        expect(page.locator("#live-done")).to_be_visible(timeout=20_000)
    finally:
        browser.close()
    job = Job.objects.get()  # one session, one job
    # What the page captured while the socket was gone was sent when it came back: about all of it.
    assert job.status == "queued" and recorded - 0.5 <= job.duration <= recorded + 2


def test_a_colleague_watches_the_captions_live_on_the_job_page(
    portal_url, driver, alice, bob, colleagues, stream_worker, microphone
):
    from playwright.sync_api import expect

    from transcription import sharing

    path, seconds = microphone
    browser, page = start_live(driver, portal_url, path)
    try:
        expect(page.locator("#live-status")).to_have_text("Recording.", timeout=10_000)
        job = Job.objects.get()
        outside_playwright(lambda: sharing.share_create(job=job, actor=alice, team=colleagues))
        watcher = browser.new_context().new_page()
        log_in(watcher, portal_url, "bob", "bob-pass")
        watcher.goto(f"{portal_url}/jobs/{job.id}/")
        expect(watcher.locator('[data-field="status"]')).to_have_text("Recording")
        # Bob sees Alice's words appear while she speaks, read-only.
        expect(watcher.locator("#live-captions .live-final-text")).to_contain_text(
            re.compile(r"\w+ \w+"), timeout=seconds * 1000
        )
        page.get_by_role("button", name="Stop").click()
        expect(page.locator("#live-done")).to_be_visible(timeout=20_000)
        expect(watcher.locator('[data-field="status"]')).to_have_text("Queued", timeout=10_000)
    finally:
        browser.close()


def test_a_refused_microphone_is_explained_and_nothing_starts(portal_url, driver, alice, stream_worker):
    from playwright.sync_api import expect

    browser = launch(driver, "--use-fake-device-for-media-stream")  # no permission granted
    try:
        context = browser.new_context(permissions=[])
        context.clear_permissions()
        page = context.new_page()
        log_in(page, portal_url, "alice", "alice-pass")
        page.goto(f"{portal_url}/live/")
        page.get_by_role("button", name="Start").click()
        alert = page.locator("#live-error")
        expect(alert).to_be_visible()
        expect(alert).to_contain_text("not allowed to use your microphone")
        expect(page.get_by_role("button", name="Start")).to_be_enabled()
    finally:
        browser.close()
    assert not Job.objects.exists()

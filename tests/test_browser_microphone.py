"""Recording from the microphone on the dashboard, in Debian's Chromium: a fake microphone that
plays a LibriVox clip, MediaRecorder, the level meter, the upload, and the transcript; and the
explanation a person gets when the browser may not use the microphone.
"""

from __future__ import annotations

import re
import shutil

import pytest

from tests import test_browser
from tests.conftest import AUDIO, english_clips, run_worker
from tests.test_browser import CHROMIUM, log_in, outside_playwright
from transcription.models import Job

pytestmark = test_browser.pytestmark
portal_url = test_browser.portal_url  # the fixture: daphne in a subprocess

CLIP = "sense_and_sensibility_01_austen_64kb-0880"  # "he was not an ill disposed young man", 3 s
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(driver, *extra: str):
    return driver.chromium.launch(executable_path=CHROMIUM, args=[*LAUNCH_ARGS, *extra])


@pytest.fixture
def driver(monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # as in tests/test_browser.py
    with sync_playwright() as playwright:
        yield playwright


def test_a_recording_from_the_microphone_is_uploaded_and_transcribed(portal_url, driver, alice, tmp_path):
    from playwright.sync_api import expect

    clip = tmp_path / "microphone.wav"
    shutil.copy(AUDIO / f"{CLIP}.wav", clip)
    # The fake microphone plays the file once (%noloop), then silence.
    browser = launch(
        driver,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={clip}%noloop",
    )
    try:
        page = browser.new_page()
        log_in(page, portal_url, "alice", "alice-pass")
        page.get_by_role("button", name="Record", exact=True).click()
        expect(page.get_by_role("button", name="Stop and upload")).to_be_visible()
        expect(page.locator("#record-time")).to_have_text("0:01", timeout=5_000)
        # The level meter moves with the voice.
        page.wait_for_function("document.getElementById('record-level').value > 0.3")
        expect(page.locator("#record-time")).to_have_text("0:04", timeout=5_000)
        page.get_by_role("button", name="Stop and upload").click()

        item = page.locator("#upload-list li")
        expect(item).to_have_attribute("data-state", "done", timeout=10_000)
        expect(item).to_contain_text(re.compile(r"Recording \d{4}-\d\d-\d\d \d\d-\d\d\.webm"))
        row = page.locator("#jobs tr[data-job]")
        expect(row).to_have_count(1)
        expect(row.locator('[data-field="status"]')).to_have_text("Queued")
        expect(page.get_by_role("button", name="Record", exact=True)).to_be_visible()

        outside_playwright(run_worker)

        expect(row.locator('[data-field="status"]')).to_have_text("Done", timeout=30_000)
    finally:
        browser.close()
    job = Job.objects.get()
    assert re.fullmatch(r"Recording \d{4}-\d\d-\d\d \d\d-\d\d\.webm", job.original_name)
    reference = set(english_clips()[str(AUDIO / f"{CLIP}.wav")].split())
    heard = set(re.findall(r"[a-z]+", job.text.lower()))
    assert len(reference & heard) >= 4, job.text


def test_a_refused_microphone_is_explained(portal_url, driver, alice):
    from playwright.sync_api import expect

    # No fake prompt to accept it, and no permission granted: the browser refuses.
    browser = launch(driver, "--use-fake-device-for-media-stream")
    try:
        context = browser.new_context(permissions=[])
        context.clear_permissions()
        page = context.new_page()
        log_in(page, portal_url, "alice", "alice-pass")
        page.get_by_role("button", name="Record", exact=True).click()
        alert = page.locator("#record-error")
        expect(alert).to_be_visible()
        expect(alert).to_have_attribute("role", "alert")
        expect(alert).to_contain_text("not allowed to use your microphone")
        expect(alert).to_contain_text("Site settings")
        expect(alert).to_contain_text("HTTPS or from localhost")
        expect(page.get_by_role("button", name="Record", exact=True)).to_be_enabled()
        expect(page.locator("#upload-list li")).to_have_count(0)
    finally:
        browser.close()

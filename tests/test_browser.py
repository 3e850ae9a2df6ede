"""The portal as a person uses it: Debian's Chromium, driven by Playwright, against daphne.

daphne runs in a subprocess on the test database; the worker runs in this process (the real
worker command), so the page must update from websocket events alone.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import english_clips, run_worker
from transcription.models import Job

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# `UPDATE_SCREENSHOTS=1 make test` refreshes the README's screenshots in docs/.
SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOTS") == "1"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("default_profile"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def portal_url():
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "VAR_DIR": str(settings.VAR_DIR),
    }
    daphne = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "portal.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, timeout=30)
    except AssertionError:
        daphne.kill()
        pytest.fail(f"daphne did not start: {daphne.stderr.read().decode()[-2000:]}")
    yield f"http://127.0.0.1:{port}"
    daphne.terminate()
    daphne.wait(timeout=10)


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, which makes Django
    # refuse database calls from it; nothing here is actually async.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield browser
        browser.close()


def outside_playwright(func) -> None:
    """Call `func` (the worker, or a publish) so that its events reach the browser. Playwright's
    sync API keeps its event loop marked as running in this thread, and async_to_sync (how the
    worker publishes) refuses to run under it: the events would be lost, and the page would only
    learn the news from its next jobs.sync. The loop is idle meanwhile; hide it for that time.
    (A thread of its own would not do: the worker's signal handlers need the main thread.)"""
    loop = asyncio.events._get_running_loop()
    asyncio.events._set_running_loop(None)
    try:
        func()
    finally:
        asyncio.events._set_running_loop(loop)


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_it_uploads_three_files_and_shows_them_finish_live(portal_url, browser, alice, bob, tmp_path):
    from playwright.sync_api import expect

    shots = DOCS if SCREENSHOTS else tmp_path
    # Two clips, and one recording of two sentences apart (to have segments to click through).
    import soundfile as sf

    from tests.conversations import conversation

    clips = [Path(p) for p in english_clips()][:2] + [tmp_path / "two_sentences.wav"]
    sf.write(
        clips[2], conversation([("reader", 0), ("reader", 2)], pause=1.5).samples, 16_000, subtype="PCM_16"
    )
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    log_in(page, portal_url, "alice", "alice-pass")
    page.set_input_files("#id_files", [str(c) for c in clips])
    page.click("#upload-form button[type=submit]")
    rows = page.locator("#jobs tr[data-job]")
    expect(rows).to_have_count(3)
    expect(page.locator('#jobs [data-field="status"]', has_text="Queued")).to_have_count(3)
    page.evaluate("window.notReloaded = true")

    outside_playwright(run_worker)

    expect(page.locator('#jobs [data-field="status"]', has_text="Done")).to_have_count(3, timeout=30_000)
    assert page.evaluate("window.notReloaded") is True  # the update came over the websocket
    page.screenshot(path=str(shots / "dashboard.png"))

    # The job page: click a segment, and the player jumps to its start.
    # The clip the model cut into most segments (how it cuts varies with the CPU's kernels).
    job = max(Job.objects.filter(owner=alice), key=lambda j: len(j.segments))
    assert len(job.segments) >= 2
    # Until the page has loaded, its scripts (modules, run in order after the HTML) may not have
    # run yet: the buttons below would do nothing.
    with page.expect_navigation():
        page.click(f"text={job.original_name}")
    expect(page.locator(".transcript")).to_contain_text(job.segments[0]["text"])
    page.locator("button.seek").nth(1).click()
    page.wait_for_function(
        "start => Math.abs(document.getElementById('player').currentTime - start) < 0.3",
        arg=job.segments[1]["start"],
    )
    expect(page.locator("ol.segments li").nth(1)).to_have_class("playing")  # highlighted as it plays
    # Correct a segment inline; the machine's words stay beside the edit, and survive a reload.
    first = page.locator("ol.segments li").first
    first.locator("button.edit").click()
    first.locator("textarea.segment-editor").fill("And Mr John Dashwood had then leisure to consider")
    first.get_by_role("button", name="Save").click()
    expect(first.locator(".segment-text")).to_have_text("And Mr John Dashwood had then leisure to consider")
    page.reload()
    expect(page.locator("ol.segments li").first.locator(".machine")).to_contain_text(job.segments[0]["text"])
    job.refresh_from_db()
    assert job.segments[0]["text"] == "And Mr John Dashwood had then leisure to consider"
    page.screenshot(path=str(shots / "job.png"), full_page=True)

    # Bob sees none of it.
    other = browser.new_context().new_page()
    log_in(other, portal_url, "bob", "bob-pass")
    expect(other.locator("#jobs tr[data-job]")).to_have_count(0)
    assert other.goto(f"{portal_url}/jobs/{job.id}/").status == 404


def test_it_finds_a_word_in_history_and_downloads_subtitles(
    portal_url, browser, alice, bob, default_profile, django_capture_on_commit_callbacks, tmp_path
):
    import srt
    from playwright.sync_api import expect

    from tests.conftest import upload_of
    from transcription import services

    clip = next(p for p in english_clips() if p.endswith("0870.wav"))
    with django_capture_on_commit_callbacks(execute=True):
        services.job_create(owner=alice, profile=default_profile, upload=upload_of(Path(clip)))
        services.job_create(owner=bob, profile=default_profile, upload=upload_of(Path(clip), "bobs.wav"))
    outside_playwright(run_worker)

    page = browser.new_page()
    log_in(page, portal_url, "alice", "alice-pass")
    page.goto(f"{portal_url}/history/")
    page.fill("input[name=q]", "Dashwood")
    page.keyboard.press("Enter")
    results = page.locator("table.history tbody tr")
    expect(results).to_have_count(1)  # alice's job, never bob's
    expect(results.first).to_contain_text("Dashwood")

    results.first.locator("a").first.click()
    with page.expect_download() as download:
        page.get_by_role("link", name="SubRip subtitles").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name.endswith(".srt")
    cues = list(srt.parse(path.read_text()))
    assert cues and "Dashwood" in " ".join(c.content for c in cues)
    assert all(a.end <= b.start for a, b in zip(cues, cues[1:], strict=False))

"""The dashboard's uploads as a person uses them, in Debian's Chromium against daphne: files
dropped on the drop zone, one request per file with its own progress bar, batches, the size
limit, live rows (queue position, time left), Cancel and Retry.
"""

from __future__ import annotations

import base64
import io
import wave
from pathlib import Path

import pytest

from tests import test_browser
from tests.conftest import english_clips, run_worker
from tests.test_browser import DOCS, SCREENSHOTS, log_in, outside_playwright
from transcription import progress
from transcription.models import Job

pytestmark = test_browser.pytestmark
portal_url = test_browser.portal_url  # the fixtures: daphne in a subprocess, Debian's Chromium
browser = test_browser.browser

LIMIT_MB = 1

# Counts the websocket messages the page receives, by type, so a test can tell that an update
# came as a job.updated event rather than from a later jobs.sync.
COUNT_EVENTS = """
  window.portalEvents = {};
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = function (...args) {
    const socket = new NativeWebSocket(...args);
    socket.addEventListener("message", (m) => {
      const type = JSON.parse(m.data).type;
      window.portalEvents[type] = (window.portalEvents[type] || 0) + 1;
    });
    return socket;
  };
  Object.assign(window.WebSocket, NativeWebSocket);
"""


@pytest.fixture
def small_upload_limit(monkeypatch):
    """UPLOAD_MAX_MB for the daphne subprocess (read from the environment when it starts)."""
    monkeypatch.setenv("UPLOAD_MAX_MB", str(LIMIT_MB))


def silent_wav(seconds: float) -> bytes:
    """A real WAV file of silence: 16 kHz, 16-bit mono, 32 kB a second."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\0\0" * int(16000 * seconds))
    return buffer.getvalue()


def drop_files(page, selector: str, files: list[tuple[str, bytes]]) -> None:
    """Drag files onto the element: a DataTransfer holding File objects made in the page, then
    dragenter, dragover and drop, as a person's drag and drop sends them."""
    payload = [{"name": name, "data": base64.b64encode(data).decode()} for name, data in files]
    page.evaluate(
        """([selector, files]) => {
          const transfer = new DataTransfer();
          for (const f of files) {
            const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
            transfer.items.add(new File([bytes], f.name, { type: "audio/wav" }));
          }
          const zone = document.querySelector(selector);
          for (const type of ["dragenter", "dragover", "drop"]) {
            const init = { bubbles: true, cancelable: true, dataTransfer: transfer };
            zone.dispatchEvent(new DragEvent(type, init));
          }
        }""",
        [selector, payload],
    )


def test_dropped_files_upload_one_by_one_and_finish_live_in_their_batch(
    small_upload_limit, portal_url, browser, alice, tmp_path
):
    from playwright.sync_api import expect

    clips = [Path(p) for p in english_clips()][:3]
    big = ("long-silence.wav", silent_wav(42))  # 1.3 MB, over the 1 MB limit
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.add_init_script(COUNT_EVENTS)
    page = context.new_page()
    log_in(page, portal_url, "alice", "alice-pass")
    other_tab = context.new_page()
    other_tab.goto(portal_url)
    expect(page.locator("#upload-limit")).to_have_text("Up to 1.0 MB per file.")

    page.fill("#id_batch", "Board meeting")
    drop_files(page, "#drop-zone", [(c.name, c.read_bytes()) for c in clips] + [big])
    items = page.locator("#upload-list li")
    expect(items).to_have_count(4)
    # Refused before it is sent, in the server's words; the others wait for the button.
    refused = items.filter(has_text=big[0])
    expect(refused).to_have_attribute("data-state", "refused")
    expect(refused).to_contain_text("long-silence.wav is 1.3 MB; the limit is 1.0 MB.")
    expect(items.filter(has_text="Ready to upload")).to_have_count(3)
    page.get_by_role("button", name="Upload and transcribe").click()

    # Each file had its own request and its own bar, now full.
    uploaded = page.locator('#upload-list li[data-state="done"]')
    expect(uploaded).to_have_count(3)
    for i in range(3):
        expect(uploaded.nth(i).locator("progress")).to_have_js_property("value", 1)
        expect(uploaded.nth(i).locator(".upload-percent")).to_have_text("100%")
    expect(page.locator("#upload-summary")).to_have_text("3 uploaded, 1 refused.")

    # Three queued rows, each with its place in the queue, under the batch's header.
    rows = page.locator("#jobs tr[data-job]")
    expect(rows).to_have_count(3)
    expect(page.locator('#jobs [data-field="status"]', has_text="Queued")).to_have_count(3)
    for n in (1, 2, 3):
        expect(page.locator('#jobs [data-field="position"]', has_text=f"#{n} in queue")).to_have_count(1)
    header = page.locator('#jobs tr[data-batch-header="Board meeting"]')
    expect(header).to_contain_text("0/3 done")
    expect(header).to_contain_text("3 files")
    # The other tab of this browser shows them too, without a reload.
    expect(other_tab.locator("#jobs tr[data-job]")).to_have_count(3)

    # Without the browser's check, the server refuses the big file with the same words.
    page.evaluate("document.getElementById('upload-form').removeAttribute('data-max-bytes')")
    drop_files(page, "#drop-zone", [big])
    page.get_by_role("button", name="Upload and transcribe").click()
    expect(items.filter(has_text=big[0]).nth(1)).to_contain_text(
        "long-silence.wav is 1.3 MB; the limit is 1.0 MB.", timeout=10_000
    )
    expect(items.filter(has_text=big[0]).nth(1)).to_have_attribute("data-state", "refused")
    page.evaluate("window.notReloaded = true")

    outside_playwright(run_worker)

    expect(page.locator('#jobs [data-field="status"]', has_text="Done")).to_have_count(3, timeout=30_000)
    expect(header).to_contain_text("3/3 done")
    expect(header.locator("progress")).to_have_js_property("value", 1)
    assert page.evaluate("window.notReloaded") is True  # the update came over the websocket
    assert page.evaluate("window.portalEvents['job.updated'] || 0") > 0
    expect(other_tab.locator('#jobs [data-field="status"]', has_text="Done")).to_have_count(3)
    expect(other_tab.locator('#jobs tr[data-batch-header="Board meeting"]')).to_contain_text("3/3 done")
    assert Job.objects.filter(owner=alice).count() == 3  # the refused file made no job
    assert {j.options.get("batch") for j in Job.objects.all()} == {"Board meeting"}
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str((DOCS if SCREENSHOTS else tmp_path) / "dashboard.png"), full_page=True)


def test_cancel_retry_and_time_left_from_the_dashboard(portal_url, browser, alice):
    from playwright.sync_api import expect

    clip = Path(next(iter(english_clips())))
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    page.clock.install()  # the page's time, ours to move: the time left is computed from it
    log_in(page, portal_url, "alice", "alice-pass")
    drop_files(page, "#drop-zone", [(clip.name, clip.read_bytes())])
    page.get_by_role("button", name="Upload and transcribe").click()
    row = page.locator("#jobs tr[data-job]")
    expect(row).to_have_count(1)
    status = row.locator('[data-field="status"]')
    expect(status).to_have_text("Queued")
    expect(row.locator('[data-field="position"]')).to_have_text("#1 in queue")
    expect(row.get_by_role("button", name="Retry")).to_be_hidden()

    # The time left appears from the second progress event on: rate = Δprogress / Δtime.
    # (As a worker would report it, written and published by hand to control the timing.)
    job = Job.objects.get()

    def report(fraction: float) -> None:
        Job.objects.filter(id=job.id).update(status=Job.Status.RUNNING, progress=fraction, duration=30.0)
        job.refresh_from_db()
        outside_playwright(lambda: progress.send_job_update(job))

    page.clock.pause_at(page.evaluate("Date.now()") + 1000)  # time stands still from here...
    report(0.2)
    expect(status).to_have_text("Running")
    expect(row.locator('[data-field="progress-text"]')).to_have_text("6 of 30 s")
    expect(row.locator('[data-field="eta"]')).to_have_text("")
    page.clock.run_for(10_000)  # ...but for these ten seconds
    report(0.5)
    expect(row.locator('[data-field="progress-text"]')).to_have_text("15 of 30 s")
    # 0.3 of the job in 10 s: the half left takes 16.7 s more.
    expect(row.locator('[data-field="eta"]')).to_have_text("about 17 s left")
    page.clock.resume()

    page.evaluate("window.notReloaded = true")
    row.get_by_role("button", name="Cancel").click()
    expect(status).to_have_text("Failed")
    expect(row.locator('[data-field="error"]')).to_have_text("Cancelled by the user.")
    expect(row.get_by_role("button", name="Cancel")).to_be_hidden()
    expect(row.locator('[data-field="eta"]')).to_have_text("")
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED

    row.get_by_role("button", name="Retry").click()
    expect(status).to_have_text("Queued")
    expect(row.locator('[data-field="error"]')).to_have_text("")
    expect(row.locator('[data-field="position"]')).to_have_text("#1 in queue")
    expect(row.get_by_role("button", name="Cancel")).to_be_visible()
    assert page.evaluate("window.notReloaded") is True
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED


def test_without_javascript_the_form_uploads_and_the_rows_cancel_and_retry(portal_url, browser, alice):
    from playwright.sync_api import expect

    clips = [Path(p) for p in english_clips()][:2]
    page = browser.new_context(java_script_enabled=False).new_page()
    log_in(page, portal_url, "alice", "alice-pass")
    expect(page.locator("#drop-zone .drop-hint")).to_be_hidden()  # the drop zone needs JavaScript
    expect(page.locator("#recorder")).to_be_hidden()
    page.set_input_files("#id_files", [str(c) for c in clips])
    page.fill("#id_batch", "Training")
    page.get_by_role("button", name="Upload and transcribe").click()
    expect(page.locator("main > .message")).to_have_text("2 file(s) queued.")
    rows = page.locator("#jobs tr[data-job]")
    expect(rows).to_have_count(2)
    expect(rows.locator(".batch-tag")).to_have_text(["Training", "Training"])

    first = rows.first
    name = first.locator("td.file a").inner_text()
    first.get_by_role("button", name="Cancel").click()
    expect(page.locator("main > .message")).to_have_text(f"{name}: Cancelled.")
    expect(first.locator('[data-field="status"]')).to_have_text("Failed")
    expect(first.locator('[data-field="error"]')).to_have_text("Cancelled by the user.")
    first.get_by_role("button", name="Retry").click()
    expect(page.locator("main > .message")).to_have_text(f"{name}: Queued again.")
    expect(first.locator('[data-field="status"]')).to_have_text("Queued")
    assert Job.objects.filter(status=Job.Status.QUEUED).count() == 2

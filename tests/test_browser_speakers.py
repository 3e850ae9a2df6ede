"""Who said what, as a person sees it in Chromium: a meeting uploaded with speakers on comes back
with each line's speaker in colour; renaming one names every line of theirs, and "play only this
speaker" dims the others."""

from __future__ import annotations

import soundfile as sf

from tests import test_browser
from tests.conftest import run_worker
from tests.conversations import MEETING, conversation
from tests.test_browser import log_in, outside_playwright
from transcription.models import Job

pytestmark = test_browser.pytestmark
portal_url = test_browser.portal_url  # the fixtures: daphne in a subprocess, Debian's Chromium
browser = test_browser.browser


def test_it_shows_who_spoke_and_renames_a_speaker(portal_url, browser, alice, tmp_path):
    from playwright.sync_api import expect

    meeting = tmp_path / "meeting.wav"
    sf.write(meeting, conversation(MEETING, pause=1.0).samples, 16_000, subtype="PCM_16")
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    log_in(page, portal_url, "alice", "alice-pass")
    page.locator("#id_speakers").select_option("auto")
    page.set_input_files("#id_files", str(meeting))
    page.locator("#upload-submit").click()
    expect(
        page.locator('#upload-list li[data-state="queued"], #upload-list li[data-state="done"]')
    ).to_have_count(1)
    outside_playwright(run_worker)
    job = Job.objects.get(owner=alice)
    assert list(job.speakers) == ["S1", "S2", "S3"]

    page.goto(f"{portal_url}/jobs/{job.id}/")
    table = page.locator("#speakers")
    expect(table.locator("tbody tr")).to_have_count(3)
    first = page.locator("ol.segments li").first
    expect(first.locator(".speaker")).to_have_text("Speaker 1")
    row = table.locator('tr[data-speaker="S1"]')
    row.locator("form.rename input[name=name]").fill("Elinor")
    row.locator("form.rename button").click()
    expect(first.locator(".speaker")).to_have_text("Elinor")
    reader_lines = page.locator('ol.segments li[data-speaker="S1"] .speaker')
    expect(reader_lines).to_have_text(["Elinor"] * reader_lines.count())
    assert Job.objects.get(pk=job.pk).speakers["S1"]["name"] == "Elinor"

    page.wait_for_load_state("load")  # the page came back after the rename: its scripts have run
    table.locator('tr[data-speaker="S2"] input.follow').check()
    expect(page.locator("ol.segments li.other-speaker")).to_have_count(
        page.locator('ol.segments li[data-speaker]:not([data-speaker="S2"])').count()
    )
    expect(page.locator('ol.segments li[data-speaker="S2"].other-speaker')).to_have_count(0)

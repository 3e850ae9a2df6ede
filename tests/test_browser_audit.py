"""The job page's "Activity", as its owner sees it in Chromium: folded away until opened, it lists
who viewed, played and exported the transcript; a colleague who may not see the job sees neither
the job nor its activity, and leaves no trace in it."""

from __future__ import annotations

from django.core.files.base import ContentFile

from audit.models import AuditEvent
from tests import test_browser
from tests.conftest import AUDIO
from tests.test_browser import log_in
from transcription.models import Job

pytestmark = test_browser.pytestmark
portal_url = test_browser.portal_url  # the fixtures: daphne in a subprocess, Debian's Chromium
browser = test_browser.browser


def test_it_shows_the_owner_who_did_what_with_the_transcript(portal_url, browser, alice, bob):
    from playwright.sync_api import expect

    clip = sorted(AUDIO.glob("*.wav"))[0]
    job = Job.objects.create(
        owner=alice,
        original_name="周会.wav",
        status=Job.Status.DONE,
        text="Hello.",
        segments=[{"start": 0.0, "end": 1.0, "text": "Hello."}],
        duration=1.0,
    )
    job.audio.save("clip.wav", ContentFile(clip.read_bytes()), save=True)

    intruder = browser.new_page()
    log_in(intruder, portal_url, "bob", "bob-pass")
    assert intruder.goto(f"{portal_url}/jobs/{job.id}/").status == 404

    page = browser.new_page()
    log_in(page, portal_url, "alice", "alice-pass")
    page.goto(f"{portal_url}/jobs/{job.id}/")
    activity = page.locator("#activity")
    expect(activity.locator("table")).to_be_hidden()  # folded away: the transcript comes first
    activity.locator("summary").click()
    expect(activity.locator("tbody tr").filter(has_text="viewed")).to_contain_text("alice")

    with page.expect_download():
        page.get_by_role("link", name="SubRip subtitles").click()
    page.reload()
    activity.locator("summary").click()
    exported = activity.locator("tbody tr").filter(has_text="exported")
    expect(exported).to_contain_text("srt")
    expect(activity.locator("tbody tr")).to_have_count(3)  # viewed once, played (the player's preload)
    assert set(AuditEvent.objects.values_list("actor_username", "action")) == {
        ("alice", "viewed"),
        ("alice", "played"),
        ("alice", "exported"),
    }

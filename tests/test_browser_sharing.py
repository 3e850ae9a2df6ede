"""Sharing as people see it in Chromium: alice shares a meeting's transcript with her team from the
job page, bob finds it in his history marked as hers, reads it without edit controls, and loses it
the moment she stops sharing."""

from __future__ import annotations

from teams import services as team_services
from tests import test_browser
from tests.conftest import AUDIO, run_worker
from tests.test_browser import log_in, outside_playwright

pytestmark = test_browser.pytestmark
portal_url = test_browser.portal_url  # the fixtures: daphne in a subprocess, Debian's Chromium
browser = test_browser.browser

CLIP = AUDIO / "sense_and_sensibility_01_austen_64kb-0870.wav"


def test_it_shares_a_transcript_with_the_team_and_takes_it_back(portal_url, browser, alice, bob):
    from playwright.sync_api import expect

    team = team_services.team_create(name="Meeting room")
    for user in (alice, bob):
        team_services.membership_set(team=team, user=user)
    alices = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    log_in(alices, portal_url, "alice", "alice-pass")
    alices.set_input_files("#id_files", [str(CLIP)])
    alices.locator("#upload-submit").click()
    expect(alices.locator("#jobs tr[data-job]")).to_have_count(1)
    outside_playwright(run_worker)
    alices.goto(f"{portal_url}/history/")
    alices.locator("table.history tbody tr a").first.click()
    expect(alices.locator(".transcript")).to_contain_text("Dashwood")
    job_url = alices.url

    alices.select_option("#share-form select[name=team]", label="Meeting room")
    alices.get_by_role("button", name="Share", exact=True).click()
    expect(alices.locator("#sharing .shares li")).to_contain_text("Team Meeting room")

    bobs = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    log_in(bobs, portal_url, "bob", "bob-pass")
    bobs.goto(f"{portal_url}/history/?q=Dashwood")
    row = bobs.locator("table.history tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".shared-by")).to_contain_text("shared by alice")
    row.locator("a").first.click()
    expect(bobs.locator("#shared-by")).to_contain_text("Shared with you by alice")
    expect(bobs.locator(".transcript")).to_contain_text("Dashwood")
    expect(bobs.locator("button.edit")).to_have_count(0)
    expect(bobs.locator("#sharing")).to_have_count(0)

    alices.goto(job_url)
    alices.locator("#sharing .shares li button").click()
    expect(alices.locator("#sharing")).to_contain_text("Only you can see this recording")
    response = bobs.goto(job_url)
    assert response is not None and response.status == 404
    bobs.goto(f"{portal_url}/history/?q=Dashwood")
    expect(bobs.locator("table.history tbody tr.empty")).to_have_count(1)

"""Call checks as a team lead sees them in Chromium: a batch uploaded with a rule set chosen, its
report of calls × rules, the failed calls only, and one call's transcript with what was heard marked."""

from __future__ import annotations

from quality.models import Rule, RuleSet
from tests import test_browser
from tests.conftest import AUDIO, run_worker
from tests.test_browser import log_in, outside_playwright

pytestmark = test_browser.pytestmark
portal_url = test_browser.portal_url  # the fixtures: daphne in a subprocess, Debian's Chromium
browser = test_browser.browser

CLIPS = [AUDIO / f"sense_and_sensibility_01_austen_64kb-{n}.wav" for n in ("0870", "0880")]


def test_it_reports_a_batch_of_calls_against_a_rule_set(portal_url, browser, alice):
    from playwright.sync_api import expect

    rule_set = RuleSet.objects.create(name="Reading script")
    Rule.objects.create(
        rule_set=rule_set, ordering=1, label="Names the family", kind="must", phrases="Mister John Dashwood"
    )
    Rule.objects.create(
        rule_set=rule_set, ordering=2, label="No idleness", kind="must_not", phrases="leisure"
    )
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    log_in(page, portal_url, "alice", "alice-pass")
    page.get_by_label("Reading script").check()
    page.fill("#id_batch", "calls-w48")
    page.set_input_files("#id_files", [str(clip) for clip in CLIPS])
    page.locator("#upload-submit").click()
    expect(
        page.locator('#upload-list li[data-state="queued"], #upload-list li[data-state="done"]')
    ).to_have_count(2)
    outside_playwright(run_worker)

    page.goto(f"{portal_url}/history/?batch=calls-w48")
    page.locator("#quality-report-link").click()
    table = page.locator("table.quality")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(page.locator("#quality-report")).to_contain_text("0 of 2 checked calls pass.")
    reading = table.locator("tbody tr", has_text="0870")  # the clip that names the family
    expect(reading.locator("td.pass").first).to_contain_text("Mr. John Dashwood")
    expect(reading.locator("td.fail")).to_contain_text("leisure")
    page.locator("input[name=failed]").check()
    page.get_by_role("button", name="Show").click()
    expect(table.locator("tbody tr")).to_have_count(2)  # both fail one rule or the other
    table.locator("tbody tr", has_text="0870").locator("td a").first.click()
    expect(page.locator("#job-checks mark").first).to_have_text("Mr. John Dashwood")
    expect(page.locator("#job-checks mark")).to_have_count(2)  # and "leisure"

"""A summary by the language model, as a person sees it in Chromium: asked for on a finished
transcript, its progress live, the minutes shown once the `llm` worker has written them, and a
citation that starts the player at its moment. The model is a real chat server on loopback."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from llm.models import LlmConnection
from tests import test_browser
from tests.conftest import AUDIO, run_worker
from tests.test_browser import log_in, outside_playwright
from transcription.models import Job

pytestmark = [*test_browser.pytestmark, pytest.mark.usefixtures("summary_templates")]
portal_url = test_browser.portal_url  # the fixtures: daphne in a subprocess, Debian's Chromium
browser = test_browser.browser

CLIP = AUDIO / "sense_and_sensibility_01_austen_64kb-0870.wav"


def test_it_summarises_a_transcript_and_plays_a_cited_moment(portal_url, browser, alice, llm):
    from playwright.sync_api import expect

    llm.reply = lambda body: "## Decisions\n- Mr. John Dashwood considers what he can do [0:03]"
    LlmConnection.objects.create(name="ollama", base_url=llm.url, model="m", timeout_seconds=10)
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    log_in(page, portal_url, "alice", "alice-pass")
    page.set_input_files("#id_files", str(CLIP))
    page.locator("#upload-submit").click()
    expect(
        page.locator('#upload-list li[data-state="queued"], #upload-list li[data-state="done"]')
    ).to_have_count(1)
    outside_playwright(run_worker)
    job = Job.objects.get(owner=alice)
    assert job.status == Job.Status.DONE

    page.goto(f"{portal_url}/jobs/{job.id}/")
    page.locator("#summary-link").click()
    page.locator("select[name=template]").select_option(label="Meeting minutes")
    page.get_by_role("button", name="Summarise").click()
    expect(page.locator("#summary .status")).to_contain_text("Waiting for the language model")
    page.wait_for_load_state("load")  # its scripts (the live socket) have run
    outside_playwright(lambda: call_command("llmworker", burst=True))
    # No reload by hand: the page hears summary.updated and reads itself again.
    expect(page.locator("article.summary-text h2")).to_have_text("Decisions", timeout=15_000)
    page.locator("article.summary-text a", has_text="0:03").click()
    page.wait_for_url(f"{portal_url}/jobs/{job.id}/#t=3")
    page.wait_for_function("document.getElementById('player').currentTime >= 3", timeout=10_000)
    assert llm.received and "Mr. John Dashwood" in llm.received[0].body["messages"][0]["content"]

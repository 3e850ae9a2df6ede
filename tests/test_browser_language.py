"""The upload form's language, as a person sees it in Debian's Chromium against daphne: a browser
that asks for Chinese starts on the multilingual Whisper base, whose language choice shows; it
hides for the English-only model, and the language picked reaches the job."""

from __future__ import annotations

from tests import test_browser
from tests.conftest import AUDIO
from tests.test_browser import log_in
from transcription.models import EngineProfile, Job
from transcription.shipped_profiles import WHISPER_BASE

pytestmark = test_browser.pytestmark
portal_url = test_browser.portal_url  # the fixtures: daphne in a subprocess, Debian's Chromium
browser = test_browser.browser


def test_a_chinese_browser_starts_on_whisper_base_and_picks_the_language(portal_url, browser, alice):
    from playwright.sync_api import expect

    base = EngineProfile.objects.get(name=WHISPER_BASE)
    tiny = EngineProfile.objects.get(is_default=True)
    page = browser.new_page(locale="zh-CN", viewport={"width": 1100, "height": 900})
    log_in(page, portal_url, "alice", "alice-pass")
    profile, choice = page.locator("#id_profile"), page.locator("#language-choice")
    expect(profile).to_have_value(str(base.pk))  # not the English-only default
    expect(choice).to_be_visible()
    expect(choice).to_contain_text("语言")
    expect(page.locator("#id_language option[value=zh]")).to_have_text("中文 (zh)")
    profile.select_option(str(tiny.pk))
    expect(choice).to_be_hidden()
    expect(page.locator("#id_language")).to_be_disabled()  # and not sent
    profile.select_option(str(base.pk))
    expect(choice).to_be_visible()
    page.locator("#id_language").select_option("zh")
    page.set_input_files("#id_files", str(AUDIO / "zh_tts_01.wav"))
    page.locator("#upload-submit").click()
    expect(page.locator('#upload-list li[data-state="done"]')).to_have_count(1)
    job = Job.objects.get(owner=alice)
    assert job.profile == base and job.options["language"] == "zh"

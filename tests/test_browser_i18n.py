"""The interface in Simplified Chinese, in Debian's Chromium against daphne: the switcher, the
pages and the strings the scripts make; a browser that asks for Chinese; and the recorder
stopping itself at the duration limit that the dashboard announces."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests import test_browser
from tests.conftest import AUDIO, english_clips
from tests.test_browser import log_in
from tests.test_browser_microphone import launch

pytestmark = test_browser.pytestmark
portal_url = test_browser.portal_url  # the fixtures: daphne in a subprocess, Debian's Chromium
browser = test_browser.browser

CLIP = Path(next(iter(english_clips())))


def test_it_switches_to_chinese_and_back(portal_url, browser, alice):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1100, "height": 800})  # Playwright's locale: en-US
    log_in(page, portal_url, "alice", "alice-pass")
    expect(page.get_by_role("button", name="Upload and transcribe")).to_be_visible()

    with page.expect_navigation():  # loaded: the page's scripts have run (the file input below)
        page.locator("#language-switch").get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    nav = page.locator(".topbar nav")
    expect(nav).to_contain_text("转写")
    expect(nav).to_contain_text("历史记录")
    expect(nav).to_contain_text("热词")
    expect(page.locator("h1")).to_have_text("转写")
    expect(page.locator("#duration-limit")).to_have_text("每段录音最长 4 小时，超过将转写失败。")
    expect(page.locator(".drop-hint")).to_contain_text("将音频或视频文件拖放到这里")  # shown by the script

    # Strings the scripts make: a staged file, then its job's row.
    page.set_input_files("#id_files", [str(CLIP)])
    expect(page.locator("#upload-list li .upload-status")).to_have_text("待上传")
    expect(page.locator("#upload-summary")).to_have_text("1 个待上传。")
    page.get_by_role("button", name="上传并转写").click()
    row = page.locator("#jobs tr[data-job]")
    expect(row.locator('[data-field="status"]')).to_have_text("排队中")
    expect(page.locator("#upload-list li .upload-status")).to_have_text("已上传：排队等待转写")
    # Cancel: the job's error is stored in English and comes back in Chinese.
    row.get_by_role("button", name=re.compile("^取消")).click()
    expect(row.locator('[data-field="status"]')).to_have_text("失败")
    expect(row.locator('[data-field="error"]')).to_have_text("已被用户取消。")
    page.reload()  # the server-rendered row says the same
    expect(row.locator('[data-field="error"]')).to_have_text("已被用户取消。")

    page.locator("#language-switch").get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".topbar nav")).to_contain_text("History")
    expect(row.locator('[data-field="error"]')).to_have_text("Cancelled by the user.")
    expect(page.locator("#duration-limit")).to_have_text(
        "Each recording may last up to 4 hours; a longer one fails."
    )


@pytest.fixture
def three_second_limit(monkeypatch):
    """Set before portal_url: daphne reads the environment when it starts."""
    monkeypatch.setenv("ASR_MAX_AUDIO_SECONDS", "3")


def test_it_stops_a_recording_at_the_duration_limit(three_second_limit, portal_url, alice, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    clip = tmp_path / "microphone.wav"
    shutil.copy(AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav", clip)
    with sync_playwright() as driver:
        browser = launch(
            driver,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={clip}",
        )
        try:
            page = browser.new_page(locale="zh-CN")  # the browser asks for Chinese: no switch needed
            log_in(page, portal_url, "alice", "alice-pass")
            expect(page.locator("#duration-limit")).to_have_text("每段录音最长 3 秒，超过将转写失败。")
            page.get_by_role("button", name="录音", exact=True).click()
            expect(page.get_by_role("button", name="停止并上传")).to_be_visible()
            # Nobody presses Stop: it stops a second before the limit, and uploads.
            item = page.locator("#upload-list li")
            expect(item).to_have_attribute("data-state", "done", timeout=10_000)
            expect(item).to_contain_text(re.compile(r"录音 \d{4}-\d\d-\d\d \d\d-\d\d\.webm"))
            expect(page.locator("#record-error")).to_have_text(
                "录音已达到 0:03 的时长上限，已自动停止并上传。"
            )
            expect(page.get_by_role("button", name="录音", exact=True)).to_be_visible()
        finally:
            browser.close()

"""The portal's scripts as the browser loads them: native ES modules under static/portal/ (no build
step), no inline script or event handler anywhere (a Content-Security-Policy of script-src 'self'
must not break a page), and the behaviours that replaced the inline handlers: a question before
deleting, a new token selected when focused.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import test_browser
from tests.conftest import english_clips, upload_of
from tests.test_browser import ROOT, log_in
from tests.test_hotwords_views import make_list
from transcription import services
from transcription.models import Job

portal_url = test_browser.portal_url  # the fixtures: daphne in a subprocess, Debian's Chromium
browser = test_browser.browser


def in_chromium(test):
    """test_browser's marks: the database, the default profile, skipped without Debian's chromium."""
    for mark in test_browser.pytestmark:
        test = mark(test)
    return test


TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
MODULES = sorted((ROOT / "static" / "portal").glob("*.js"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_templates_have_no_inline_script(template):
    html = template.read_text(encoding="utf-8")
    assert not re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.findall(r"<[^>]*\son[a-z]+\s*=", html), "inline event handler (on…=)"
    assert "javascript:" not in html


def test_scripts_are_modules_loaded_after_the_catalog():
    base = (ROOT / "templates" / "base.html").read_text(encoding="utf-8")
    catalog = base.index("{% url 'javascript-catalog' %}")
    main = base.index("""<script type="module" src="{% static 'portal/main.js' %}">""")
    assert catalog < main  # a classic script: gettext() and friends exist before any module runs
    # main.js's imports, all of them (transitively), are preloaded: fetched at once, not in a cascade.
    imported, todo = set(), ["main.js"]
    while todo:
        name = todo.pop()
        imported.add(name)
        source = (ROOT / "static" / "portal" / name).read_text(encoding="utf-8")
        todo += set(re.findall(r'^import (?:.* from )?"\./([\w.]+)";$', source, re.M)) - imported
    preloaded = set(re.findall(r"""<link rel="modulepreload" href="{% static 'portal/([\w.]+)' %}">""", base))
    assert preloaded == imported
    assert not (ROOT / "static" / "portal.js").exists()
    for module in MODULES:
        source = module.read_text(encoding="utf-8")
        assert '"use strict"' not in source  # modules are strict anyway
        for name in re.findall(r'^import (?:.* from )?"\./([\w.]+)";$', source, re.M):
            assert (module.parent / name).exists(), f"{module.name} imports a missing {name}"


def errors_of(page) -> list[str]:
    """What goes wrong in the page: uncaught errors, console errors, and failed requests."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    # A load the next navigation cancelled (a favicon, say) is no failure of the page.
    page.on(
        "requestfailed",
        lambda r: (
            errors.append(f"requestfailed: {r.url} {r.failure}") if r.failure != "net::ERR_ABORTED" else None
        ),
    )
    page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    return errors


@in_chromium
def test_every_page_loads_its_modules_without_errors(portal_url, browser, alice, default_profile):
    from playwright.sync_api import expect

    job = services.job_create(
        owner=alice, profile=default_profile, upload=upload_of(Path(next(iter(english_clips()))))
    )
    page = browser.new_page()
    log_in(page, portal_url, "alice", "alice-pass")
    errors = errors_of(page)
    modules: list[str] = []
    page.on("request", lambda r: modules.append(r.url) if "/static/portal/" in r.url else None)
    for path in ["/", f"/jobs/{job.id}/", "/live/", "/history/", "/hotwords/", "/tokens/"]:
        page.goto(f"{portal_url}{path}")
        page.wait_for_load_state("networkidle")
    expect(page.locator("body")).to_be_visible()
    assert errors == []
    loaded = {url.rsplit("/", 1)[1] for url in modules}
    # The live page's audio worklet is loaded by the audio thread when a session starts
    # (tests/test_browser_live.py), not with the page.
    expected = {m.name for m in MODULES} - {"live_worklet.js"}
    assert loaded == expected, "every module is used, and none is missing"
    # The page is enhanced by the modules (main.js ran): the drop zone, and the live dot.
    page.goto(f"{portal_url}/")
    expect(page.locator("#upload-form.enhanced")).to_have_count(1)
    expect(page.locator("#live.on")).to_have_count(1)


@in_chromium
def test_it_asks_before_deleting(portal_url, browser, alice, default_profile):
    hotwords = make_list(alice, "Sense and Sensibility", "Dashwood")
    job = services.job_create(
        owner=alice, profile=default_profile, upload=upload_of(Path(next(iter(english_clips()))))
    )
    Job.objects.filter(id=job.id).update(status=Job.Status.DONE)
    page = browser.new_page()
    log_in(page, portal_url, "alice", "alice-pass")
    errors = errors_of(page)
    questions: list[str] = []
    answer = {"accept": False}

    def on_dialog(dialog):
        questions.append(dialog.message)
        dialog.accept() if answer["accept"] else dialog.dismiss()

    page.on("dialog", on_dialog)

    # A form with data-confirm: a hotword list.
    page.goto(f"{portal_url}/hotwords/")
    delete = page.locator("form[data-confirm] button", has_text="Delete")
    delete.click()
    assert questions == ["Delete this hotword list?"]
    page.wait_for_timeout(300)
    assert page.url == f"{portal_url}/hotwords/" and type(hotwords).objects.filter(id=hotwords.id).exists()
    answer["accept"] = True
    with page.expect_navigation():
        delete.click()
    assert not type(hotwords).objects.filter(id=hotwords.id).exists()

    # A submit button with data-confirm: deleting from the history.
    answer["accept"] = False
    page.goto(f"{portal_url}/history/")
    page.check(f'input[name=job][value="{job.id}"]')
    page.get_by_role("button", name="Delete selected").click()
    assert questions[-1] == "Delete the selected recordings and their transcripts?"
    page.wait_for_timeout(300)
    assert Job.objects.filter(id=job.id).exists()
    answer["accept"] = True
    with page.expect_navigation():
        page.get_by_role("button", name="Delete selected").click()
    assert not Job.objects.filter(id=job.id).exists()
    assert len(questions) == 4 and errors == []


@in_chromium
def test_it_selects_a_new_token_when_focused(portal_url, browser, alice):
    page = browser.new_page()
    log_in(page, portal_url, "alice", "alice-pass")
    errors = errors_of(page)
    page.goto(f"{portal_url}/tokens/")
    page.fill("input[name=name]", "script")
    with page.expect_navigation():
        page.get_by_role("button", name="Make token").click()
    token = page.locator("#new-token")
    page.locator("h1").click()
    token.focus()
    selected = token.evaluate("t => [t.selectionStart, t.selectionEnd, t.value.length]")
    assert selected[0] == 0 and selected[1] == selected[2] > 0
    assert errors == []

"""The Content-Security-Policy (portal/csp.py): on every page, scripts from the portal only, and
nothing the portal shows needs more (a violation is a console error in Chromium)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from portal.csp import POLICY
from tests import test_browser
from tests.conftest import english_clips, upload_of
from tests.test_browser import log_in
from tests.test_browser_scripts import errors_of, in_chromium
from transcription import services

portal_url = test_browser.portal_url
browser = test_browser.browser

CLIP = Path(next(iter(english_clips())))


def directives(header: str) -> dict[str, list[str]]:
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in parts}


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["login", "dashboard", "history", "api-docs", "admin:index", "healthz"])
def test_it_sends_a_policy_that_allows_only_the_portals_own_scripts(admin_client, client, name):
    response = (client if name == "login" else admin_client).get(reverse(name))
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["form-action"] == ["'self'"]


@pytest.mark.django_db
def test_it_keeps_the_stricter_policy_of_stored_audio(client, alice, default_profile):
    job = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
    client.force_login(alice)
    response = client.get(reverse("job_audio", args=[job.id]))
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox" != POLICY


@in_chromium
def test_it_breaks_no_page_of_the_admins_or_the_api_docs(portal_url, browser, admin_user, default_profile):
    from playwright.sync_api import expect

    page = browser.new_page()
    errors = errors_of(page)
    page.goto(f"{portal_url}/accounts/login/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", "password")  # pytest-django's admin_user
    page.click("button[type=submit]")
    page.wait_for_url(f"{portal_url}/")
    paths = [
        "/admin/",
        "/admin/transcription/engineprofile/",
        f"/admin/transcription/engineprofile/{default_profile.pk}/change/",
        "/admin/hotwords/hotwordlist/add/",
        "/api/docs/",
    ]
    for path in paths:
        page.goto(f"{portal_url}{path}")
        page.wait_for_load_state("networkidle")
    expect(page.locator(".swagger-ui .info")).to_be_visible()  # Swagger UI ran: its script is a file
    assert errors == []


@in_chromium
def test_it_runs_the_recorder_and_the_live_page_under_the_policy(portal_url, browser, alice):
    page = browser.new_page()
    errors = errors_of(page)
    log_in(page, portal_url, "alice", "alice-pass")
    page.wait_for_load_state("networkidle")
    assert page.locator("#live.on").count() == 1  # the websocket opened: connect-src allows it
    assert errors == []

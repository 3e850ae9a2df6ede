"""Company log-in as a person does it: Chromium on the portal's log-in page, the button, the
provider's page (tests/oidc_provider/, a real OIDC provider), and back on the dashboard."""

from __future__ import annotations

from pathlib import Path

import pytest

from teams.models import Membership
from teams.services import team_create
from tests import test_accounts_oidc, test_browser

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("default_profile"),
    pytest.mark.skipif(not Path(test_browser.CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]

portal_url = test_browser.portal_url  # the fixtures: daphne in a subprocess, Debian's Chromium
browser = test_browser.browser
provider = test_accounts_oidc.provider
portal = test_accounts_oidc.portal


def test_it_logs_in_through_the_provider_and_lands_on_the_dashboard(portal, provider, browser):
    from playwright.sync_api import expect

    sales = team_create(name="Sales", directory_group="sales")
    provider.person("alice", "alice-sso", ["sales"], email="alice@example.com")
    page = browser.new_page()

    page.goto(f"{portal}/accounts/login/")
    page.get_by_role("link", name="Log in with Test SSO").click()
    page.fill("#provider-username", "alice")
    page.fill("#provider-password", "alice-sso")
    page.click("#provider-submit")

    page.wait_for_url(f"{portal}/")
    expect(page.locator(".topbar .who")).to_have_text("alice")
    assert Membership.objects.get(user__username="alice").team == sales

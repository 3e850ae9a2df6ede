"""Company log-in through OpenID Connect, end to end: the portal (daphne, tests.test_browser's
fixture) and a real provider (django-oauth-toolkit, tests/oidc_provider/) on loopback, the code
flow driven over HTTP as a browser would, with a requests session."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlparse, urlunparse

import pytest
import requests
from django.contrib.auth import get_user_model

from teams.models import Membership
from teams.services import membership_set, team_create
from tests import test_browser
from tests.oidc_provider import server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("default_profile")]

portal_url = test_browser.portal_url  # the fixture: the portal served by daphne in a subprocess
CLIENT_ID, CLIENT_SECRET = "funasr-portal", "portal-client-secret"


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    provider = server.start(tmp_path_factory.mktemp("oidc-provider") / "provider.sqlite3")
    yield provider
    server.stop(provider)


def start_portal(request, monkeypatch, provider, **env: str) -> str:
    """The portal configured for the provider (through its environment, as in production), and
    the provider told the portal's callback address."""
    configured = {
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_STAFF_GROUP": "portal-admins",
        "OIDC_MANAGER_GROUPS": "support",
        "OIDC_BUTTON_LABEL": "Test SSO",
        **env,
    }
    for name, value in configured.items():
        monkeypatch.setenv(name, value)
    url = request.getfixturevalue("portal_url")
    provider.client(CLIENT_ID, CLIENT_SECRET, f"{url}/oidc/callback/")
    return url


@pytest.fixture
def portal(request, monkeypatch, provider) -> str:
    return start_portal(request, monkeypatch, provider)


@pytest.fixture
def teams():
    return {name: team_create(name=name.title(), directory_group=name) for name in ("sales", "support")}


def provider_log_in(session: requests.Session, authorize_url: str, username: str, password: str):
    """Follow the authorization request to the provider's log-in page and sign in there; the
    redirects then run back through the portal's callback."""
    page = session.get(authorize_url)
    assert "provider-username" in page.text, page.text[:500]
    fields = {
        "username": username,
        "password": password,
        "csrfmiddlewaretoken": session.cookies["provider_csrftoken"],
        "next": parse_qs(urlparse(page.url).query)["next"][0],
    }
    return session.post(page.url, data=fields)


def oidc_log_in(portal: str, username: str, password: str) -> tuple[requests.Session, requests.Response]:
    session = requests.Session()
    start = session.get(f"{portal}/oidc/authenticate/", allow_redirects=False)
    assert start.status_code == 302, start.text[:500]
    return session, provider_log_in(session, start.headers["Location"], username, password)


def directory_teams(user) -> dict[str, str]:
    return {
        m.team.directory_group: m.role for m in user.memberships.filter(source=Membership.Source.DIRECTORY)
    }


def test_it_creates_the_user_at_the_first_log_in_with_staff_and_teams_from_groups(portal, provider, teams):
    provider.person(
        "alice", "alice-sso", ["sales", "portal-admins"], email="alice@example.com", first_name="Alice"
    )

    session, landing = oidc_log_in(portal, "alice", "alice-sso")

    assert landing.url == f"{portal}/"
    assert '<span class="who">alice</span>' in landing.text
    alice = get_user_model().objects.get(username="alice")
    assert (alice.email, alice.first_name, alice.is_staff) == ("alice@example.com", "Alice", True)
    assert not alice.has_usable_password()
    assert directory_teams(alice) == {"sales": Membership.Role.MEMBER}
    assert alice.oidc_identity.issuer == provider.issuer
    # The session is the portal's own from then on.
    assert '<span class="who">alice</span>' in session.get(f"{portal}/history/").text


def test_it_moves_teams_and_staff_when_the_groups_change_at_a_later_log_in(portal, provider, teams):
    research = team_create(name="Research")
    provider.person("alice", "alice-sso", ["sales", "portal-admins"])
    oidc_log_in(portal, "alice", "alice-sso")
    alice = get_user_model().objects.get(username="alice")
    membership_set(team=research, user=alice)  # made by hand: the directory never touches it

    provider.person("alice", "alice-sso", ["support"], email="alice@corp.example.com")
    _session, landing = oidc_log_in(portal, "alice", "alice-sso")

    assert landing.url == f"{portal}/"
    assert get_user_model().objects.filter(username__startswith="alice").count() == 1
    alice.refresh_from_db()
    assert alice.is_staff is False
    assert alice.email == "alice@corp.example.com"
    assert directory_teams(alice) == {"support": Membership.Role.MANAGER}
    assert alice.memberships.get(team=research).source == Membership.Source.MANUAL


def test_it_never_hands_a_local_account_to_a_provider_person_of_the_same_name(portal, provider, alice):
    provider.person("alice", "alice-sso", [])

    _session, landing = oidc_log_in(portal, "alice", "alice-sso")

    assert '<span class="who">alice-2</span>' in landing.text
    newcomer = get_user_model().objects.get(username="alice-2")
    assert newcomer.oidc_identity.subject != ""
    alice.refresh_from_db()
    assert alice.check_password("alice-pass") and not hasattr(alice, "oidc_identity")


def test_it_sends_pkce_which_the_provider_requires(portal, provider):
    provider.person("bob", "bob-sso", [])
    session = requests.Session()
    authorize = session.get(f"{portal}/oidc/authenticate/", allow_redirects=False).headers["Location"]
    query = parse_qs(urlparse(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43

    # The same request without PKCE: the provider refuses it, and the portal says so.
    without = {key: values[0] for key, values in query.items() if not key.startswith("code_challenge")}
    landing = provider_log_in(
        session, urlunparse(urlparse(authorize)._replace(query=urlencode(without))), "bob", "bob-sso"
    )

    refusal = next(
        r.headers["Location"] for r in landing.history if "/oidc/callback/" in r.headers["Location"]
    )
    assert "error=invalid_request" in refusal and "code=" not in refusal
    assert landing.url == f"{portal}/accounts/login/"
    assert "did not succeed" in landing.text
    assert not get_user_model().objects.filter(username="bob").exists()


def test_it_refuses_passwords_to_all_but_superusers_without_local_passwords(
    request, monkeypatch, provider, bob
):
    get_user_model().objects.create_superuser("root", password="root-pass")
    portal = start_portal(request, monkeypatch, provider, LOCAL_PASSWORDS="false")

    page = requests.get(f"{portal}/accounts/login/")
    assert "Log in with Test SSO" in page.text and 'name="password"' not in page.text

    def password_log_in(username: str, password: str) -> requests.Response:
        session = requests.Session()
        form = session.get(f"{portal}/accounts/login/?password=1")
        token = session.cookies["csrftoken"]
        fields = {"username": username, "password": password, "csrfmiddlewaretoken": token}
        return session.post(form.url, data=fields)

    assert password_log_in("bob", "bob-pass").url.startswith(f"{portal}/accounts/login/")
    assert password_log_in("root", "root-pass").url == f"{portal}/"


def test_it_has_no_company_log_in_unless_configured(client):
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404
    page = client.get("/accounts/login/").content.decode()
    assert "oidc-login" not in page and 'name="password"' in page

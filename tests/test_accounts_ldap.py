"""Company log-in through LDAP: the portal's own log-in form against a real slapd
(tests/ldap_server.py) on loopback. Skipped without Debian's slapd; required where CI runs."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from teams.models import Membership
from teams.services import membership_set, team_create
from tests import ldap_server
from tests.ldap_server import GROUPS

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not ldap_server.AVAILABLE, reason="Debian's slapd (and ldap-utils) is not installed"),
]

PEOPLE_AND_GROUPS = "\n".join(
    [
        ldap_server.person("alice", "alice-ldap", "Alice", "Liddell"),
        ldap_server.person("bob", "bob-ldap", "Bob", "Builder"),
        ldap_server.group("sales", "alice"),
        ldap_server.group("support", "alice", "bob"),
        ldap_server.group("portal-admins", "alice"),
    ]
)


@pytest.fixture
def directory(tmp_path, settings):
    server = ldap_server.start(tmp_path / "ldap", PEOPLE_AND_GROUPS)
    settings.AUTH_LDAP_SERVER_URI = server.uri
    settings.AUTH_LDAP_BIND_DN = ldap_server.ADMIN_DN
    settings.AUTH_LDAP_BIND_PASSWORD = ldap_server.ADMIN_PASSWORD
    settings.LDAP_USER_SEARCH_BASE = ldap_server.PEOPLE
    settings.LDAP_USER_FILTER = "(uid=%(user)s)"
    settings.LDAP_GROUP_SEARCH_BASE = GROUPS
    settings.LDAP_GROUP_TYPE = "groupOfNames"
    settings.LDAP_STAFF_GROUP = f"cn=portal-admins,{GROUPS}"
    settings.LDAP_MANAGER_GROUPS = [f"cn=support,{GROUPS}"]
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "accounts.ldap.DirectoryLdapBackend",
    ]
    yield server
    ldap_server.stop(server)


@pytest.fixture
def teams():
    # Written as people paste DNs: the case and the spaces after commas do not matter.
    return {
        "sales": team_create(name="Sales", directory_group=f"cn=sales,{GROUPS}"),
        "support": team_create(name="Support", directory_group="CN=Support, ou=groups, dc=example, dc=com"),
    }


def log_in(client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def directory_teams(user) -> dict[str, str]:
    memberships = user.memberships.filter(source=Membership.Source.DIRECTORY)
    return {m.team.name: m.role for m in memberships}


def test_it_creates_the_user_with_teams_and_staff_from_groups_at_a_password_log_in(client, directory, teams):
    response = log_in(client, "alice", "alice-ldap")

    assert response.status_code == 302 and response.url == "/"
    alice = get_user_model().objects.get(username="alice")
    assert (alice.email, alice.first_name, alice.last_name) == ("alice@example.com", "Alice", "Liddell")
    assert alice.is_staff and not alice.has_usable_password()
    assert directory_teams(alice) == {"Sales": Membership.Role.MEMBER, "Support": Membership.Role.MANAGER}
    assert client.get("/").context["user"] == alice


def test_it_refuses_a_wrong_password_and_counts_it_towards_the_throttle(client, directory, teams, settings):
    settings.LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        refused = log_in(client, "bob", "not-bobs")
        assert refused.status_code == 200 and not refused.context["user"].is_authenticated

    # Bob's own password, too late: the throttle holds, and nothing was made in the meantime.
    throttled = log_in(client, "bob", "bob-ldap")

    assert "Too many failed log-in attempts" in throttled.content.decode()
    assert not get_user_model().objects.filter(username="bob").exists()


def test_it_removes_the_directory_membership_and_staff_when_a_group_goes(client, directory, teams):
    log_in(client, "alice", "alice-ldap")
    alice = get_user_model().objects.get(username="alice")
    research = team_create(name="Research")
    membership_set(team=research, user=alice)  # made by hand: the directory never touches it
    directory.leave("sales", "alice")
    directory.leave("portal-admins", "alice")
    client.post("/accounts/logout/")

    assert log_in(client, "alice", "alice-ldap").status_code == 302

    alice.refresh_from_db()
    assert directory_teams(alice) == {"Support": Membership.Role.MANAGER}
    assert not alice.is_staff
    assert alice.memberships.get(team=research).source == Membership.Source.MANUAL


def test_it_keeps_the_form_for_directory_passwords_without_local_passwords(
    client, directory, teams, settings, bob
):
    settings.LOCAL_PASSWORDS = False
    settings.AUTHENTICATION_BACKENDS = [
        "accounts.backends.SuperuserPasswordBackend",
        "accounts.ldap.DirectoryLdapBackend",
    ]
    assert 'name="password"' in client.get("/accounts/login/").content.decode()

    # Bob's local password (bob-pass) no longer opens the portal; his directory password does.
    assert log_in(client, "bob", "bob-pass").status_code == 200
    assert log_in(client, "bob", "bob-ldap").status_code == 302

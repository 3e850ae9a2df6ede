import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def log_in(client, password: str, username: str = "alice", url: str = "login"):
    return client.post(reverse(url), {"username": username, "password": password})


def test_it_locks_out_a_user_name_after_repeated_failures(client, alice, settings):
    settings.LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        assert "correct username and password" in log_in(client, "wrong").content.decode()
    refused = log_in(client, "alice-pass")  # even the right password, for now
    assert refused.status_code == 200 and "Too many failed log-in attempts" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_forgets_failures_after_a_success(client, alice, settings):
    settings.LOGIN_MAX_FAILURES = 3
    log_in(client, "wrong"), log_in(client, "wrong")
    assert log_in(client, "alice-pass").status_code == 302
    client.logout()
    log_in(client, "wrong"), log_in(client, "wrong")
    assert log_in(client, "alice-pass").status_code == 302


def test_it_throttles_the_admin_log_in_too(client, admin_user, settings):
    settings.LOGIN_MAX_FAILURES = 2
    for _ in range(2):
        log_in(client, "wrong", username="admin", url="admin:login")
    response = log_in(client, "password", username="admin", url="admin:login")
    assert "Too many failed log-in attempts" in response.content.decode()

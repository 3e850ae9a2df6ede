import shlex
import subprocess
import sys
import urllib.parse
import urllib.request

import pytest
from django.core.cache import cache
from django.urls import reverse

from portal.login_throttle import ADDRESS_FACTOR
from tests.test_api_openai import ROOT, stop, subprocess_env
from tests.test_browser import free_port, wait_for_port
from tests.test_nginx import forwarded_for
from tests.test_redis_restart import Browser

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


# --- Behind nginx and daphne, as deployed (deploy/nginx.conf, deploy/funasr-portal-web.service).

REAL = "198.51.100.7"  # the address nginx sees the attempts come from


def deployed_daphne(port: int) -> list[str]:
    """daphne's command line from the web unit (--proxy-headers and all), on another port."""
    unit = (ROOT / "deploy" / "funasr-portal-web.service").read_text()
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    args = shlex.split(exec_start.removeprefix("ExecStart="))[1:]
    args[args.index("-p") + 1] = str(port)
    return [sys.executable, "-m", "daphne", *args]


@pytest.fixture(scope="module")
def behind_proxy(django_db_setup, tmp_path_factory):
    """The portal served by daphne as deployed; returns a function that attempts a log-in with the
    given X-Forwarded-For, as nginx would pass it on, and returns the page."""
    port, logs = free_port(), tmp_path_factory.mktemp("logs")
    env = subprocess_env(tmp_path_factory.mktemp("media"), LOGIN_MAX_FAILURES="2")
    assert "--proxy-headers" in deployed_daphne(port)
    daphne = subprocess.Popen(
        deployed_daphne(port),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(logs / "daphne.log").open("wb"),
    )
    try:
        wait_for_port(port, timeout=60)
    except AssertionError:
        stop(daphne)
        raise AssertionError((logs / "daphne.log").read_text()[-2000:]) from None

    def attempt(username: str, password: str, forwarded_for: str) -> str:
        browser = Browser(f"http://127.0.0.1:{port}")
        token = browser.csrf(browser.get("/accounts/login/"))
        data = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": username, "password": password}
        )
        request = urllib.request.Request(
            browser.base + "/accounts/login/", data.encode(), headers={"X-Forwarded-For": forwarded_for}
        )
        with browser.opener.open(request, timeout=30) as response:
            return response.read().decode()

    yield attempt
    stop(daphne)


def failures_from(address: str) -> int | None:
    return cache.get(f"login-fail:addr:{address}")


@pytest.mark.django_db(transaction=True)
def test_it_throttles_the_real_address_behind_nginx_however_the_client_forges_x_forwarded_for(
    alice, behind_proxy
):
    """Each attempt forges another X-Forwarded-For; what daphne receives is what deploy/nginx.conf
    makes of it. Eight failures (four times LOGIN_MAX_FAILURES) from one host lock that host out."""
    for n in range(2 * ADDRESS_FACTOR):
        sent = forwarded_for("/", client_sent=f"203.0.113.{n}", remote_addr=REAL)
        assert "correct username and password" in behind_proxy(f"guess-{n}", "wrong", sent)
    assert failures_from(REAL) == 2 * ADDRESS_FACTOR
    assert failures_from("203.0.113.0") is None
    sent = forwarded_for("/", client_sent="203.0.113.99", remote_addr=REAL)
    assert "Too many failed log-in attempts" in behind_proxy("alice", "alice-pass", sent)


@pytest.mark.django_db(transaction=True)
def test_it_would_key_on_the_forged_address_were_nginx_to_append_to_the_clients_header(alice, behind_proxy):
    """Why deploy/nginx.conf must not use the appending form: daphne takes the first entry, which
    the client wrote, so forty attempts from one host were never throttled."""
    for n in range(2 * ADDRESS_FACTOR + 2):
        sent = f"203.0.113.{n}, {REAL}"  # "forged, real": what appending made of a forged header
        assert "correct username and password" in behind_proxy(f"guess-{n}", "wrong", sent)
    assert failures_from(REAL) is None and failures_from("203.0.113.0") == 1
    assert "Too many failed" not in behind_proxy("alice", "alice-pass", f"203.0.113.99, {REAL}")

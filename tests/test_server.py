"""Daphne tuning (portal/server.py), checked on a real daphne serving portal.asgi."""

import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from portal import server
from tests.test_api_openai import ROOT, start_daphne, stop, subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def daphne_url(tmp_path):
    daphne, url = start_daphne(subprocess_env(tmp_path), tmp_path / "daphne.log")
    yield url
    stop(daphne)


def post(url: str, body: bytes, content_type: str) -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_it_leaves_multipart_bodies_to_django(daphne_url):
    """Twisted would parse this body as a form first and, finding no parts, answer 400 itself;
    unparsed, it reaches Django, whose CSRF check answers 403. (Uploads through daphne working
    is what the browser and API tests show.)"""
    status = post(f"{daphne_url}/accounts/login/", b"not multipart", "multipart/form-data; boundary=xyz")
    assert status == 403


def test_it_tunes_daphne_once_per_process():
    from daphne.http_protocol import WebRequest

    assert server.skip_twisted_form_parsing()  # portal.asgi did it already
    tuned = WebRequest.__init__
    assert server.skip_twisted_form_parsing()
    assert WebRequest.__init__ is tuned, "not wrapped twice"


def test_it_keeps_the_servers_startup_objects_out_of_the_collector(tmp_path):
    """A full collection walking Django's and Twisted's ~140,000 startup objects paused every socket
    for ~65 ms; portal.asgi freezes them once the application is built. Checked in a fresh process,
    as daphne imports it (in this one an engine may have frozen everything already)."""
    env = subprocess_env(tmp_path)
    check = "import gc, portal.asgi; print(gc.get_freeze_count())"
    ran = subprocess.run([sys.executable, "-c", check], cwd=ROOT, env=env, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert int(ran.stdout) > 50_000

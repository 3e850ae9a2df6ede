"""Runs the provider: `python -m tests.oidc_provider.server PORT` (OIDC_PROVIDER_DB in the
environment names its SQLite file). The pytest fixture `oidc_provider` starts it and knows it
through `Provider`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent.parent


@dataclass
class Provider:
    url: str
    process: subprocess.Popen

    @property
    def issuer(self) -> str:
        return f"{self.url}/o"

    def person(self, username: str, password: str, groups: list[str], **fields: str) -> None:
        body = {"username": username, "password": password, "groups": groups, **fields}
        requests.post(f"{self.url}/testing/person/", json=body, timeout=10).raise_for_status()

    def client(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        body = {"client_id": client_id, "client_secret": client_secret, "redirect_uri": redirect_uri}
        requests.post(f"{self.url}/testing/client/", json=body, timeout=10).raise_for_status()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(database: Path) -> Provider:
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
        "OIDC_PROVIDER_DB": str(database),
    }
    # Its log goes to a file: a pipe nobody reads would fill up and stall the server.
    log = database.with_suffix(".log")
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.oidc_provider.server", str(port)],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the OIDC provider stopped: {log.read_text()[-3000:]}")
        try:
            if requests.get(f"{url}/o/.well-known/openid-configuration", timeout=2).ok:
                return Provider(url=url, process=process)
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("the OIDC provider did not start within 60 s")


def stop(provider: Provider) -> None:
    provider.process.terminate()
    provider.process.wait(timeout=10)


def main(port: str) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, use_threading=True, verbosity=0)


if __name__ == "__main__":
    main(sys.argv[1])

"""Observers for tests: they record what happened and change nothing."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

NETWORK_EVENTS = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.sendto"}
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class Spy:
    """Wraps a method on one object (or class), calling through and recording what it was given
    (`calls`) and what it gave back (`returned`)."""

    def __init__(self, monkeypatch, target, name: str) -> None:
        self.calls: list[tuple[tuple, dict]] = []
        self.returned: list = []
        original = getattr(target, name)

        def spy(*args, **kwargs):
            self.calls.append((args, kwargs))
            result = original(*args, **kwargs)
            self.returned.append(result)
            return result

        monkeypatch.setattr(target, name, spy)


def _is_local(event: str, args: tuple) -> bool:
    # socket.connect/sendto: (socket, address, ...); the lookups: (host, ...).
    address = args[0] if event in ("socket.getaddrinfo", "socket.gethostbyname") else args[1]
    if isinstance(address, tuple) and address:
        address = address[0]
    if isinstance(address, bytes):
        address = address.decode(errors="replace")
    return isinstance(address, str) and (address in LOOPBACK or address.startswith("/"))


class NetworkWatch:
    """Records socket connect/lookup attempts while recording (audit hooks cannot be removed).

    With `ignore_loopback`, connections to this machine (Redis, PostgreSQL) are not counted."""

    def __init__(self) -> None:
        self.active = False
        self.ignore_loopback = False
        self.attempts: list[tuple[str, str]] = []

    def __call__(self, event: str, args: tuple) -> None:
        if not self.active or event not in NETWORK_EVENTS:
            return
        if self.ignore_loopback and _is_local(event, args):
            return
        self.attempts.append((event, repr(args[1:])))

    @contextmanager
    def recording(self, *, ignore_loopback: bool = False) -> Iterator[list[tuple[str, str]]]:
        """Yields the list of attempts made inside the block."""
        start = len(self.attempts)
        found: list[tuple[str, str]] = []
        self.active, self.ignore_loopback = True, ignore_loopback
        try:
            yield found
        finally:
            self.active = False
            found.extend(self.attempts[start:])


network = NetworkWatch()
sys.addaudithook(network)

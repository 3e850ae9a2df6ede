"""What the portal's long-running worker commands share (asrworker, webhookworker): an RQ
SimpleWorker that treats each job like Django treats a request, and one design for periodic
chores on a thread of their own."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.db import close_old_connections, connections
from rq import SimpleWorker

logger = logging.getLogger(__name__)


def close_old_connections_outside_transactions() -> None:
    # Never inside a transaction: a caller that wraps a worker in one (the test suite does) must
    # keep its connection.
    if not any(conn.in_atomic_block for conn in connections.all(initialized_only=True)):
        close_old_connections()


class RequestLikeWorker(SimpleWorker):
    """SimpleWorker (jobs run in this process, so what they load stays loaded) with fresh
    database connections around each job, as around a request: a worker lives for days."""

    def execute_job(self, job, queue) -> None:
        close_old_connections_outside_transactions()
        try:
            super().execute_job(job, queue)
        finally:
            close_old_connections_outside_transactions()


class Every:
    """Call `action` at most once every `seconds`."""

    def __init__(self, seconds: float, action: Callable[[], object]) -> None:
        self.seconds, self.action, self.last = seconds, action, float("-inf")

    def __call__(self) -> None:
        now = time.monotonic()
        if now - self.last >= self.seconds:
            self.last = now
            self.action()


class Periodic(threading.Thread):
    """Runs its chores every `interval` seconds until stopped, the first time at once or, with
    `wait_first`, after one interval. The thread has its own database connections: they are kept
    fresh like a request's. A chore that fails is logged and stops neither the others nor the
    next round."""

    def __init__(self, *chores: Every, interval: float, name: str, wait_first: bool = False) -> None:
        super().__init__(name=name, daemon=True)
        self.chores, self.interval, self.wait_first = chores, interval, wait_first
        self._stopped = threading.Event()

    def run(self) -> None:
        if self.wait_first and self._stopped.wait(self.interval):
            return
        while True:
            self.tick()
            if self._stopped.wait(self.interval):
                return

    def tick(self) -> None:
        close_old_connections()
        try:
            for chore in self.chores:
                try:
                    chore()
                except Exception:  # noqa: BLE001 - a database or Redis hiccup: next round
                    logger.warning("%s: %r failed", self.name, chore.action, exc_info=True)
        finally:
            close_old_connections()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop, and wait for a round under way: a heartbeat written after the worker withdrew from
        the registry would list it, gone, for another TTL (and a long job be cut for it)."""
        self._stopped.set()
        if self.is_alive() and self is not threading.current_thread():
            self.join(timeout)

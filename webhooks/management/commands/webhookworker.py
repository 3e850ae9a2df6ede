"""`manage.py webhookworker`: sends webhook deliveries from the webhook queue.

An RQ SimpleWorker (no fork per job: deliveries are small) with the JSON serializer, plus a
sweeper thread that every few seconds queues the deliveries whose retry is due
(`services.delivery_enqueue_due`). Retries are driven from the database rather than by RQ's
scheduler, so a restart of Redis or of the worker loses none. No model is ever loaded.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connections
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from transcription import queues
from webhooks import services

logger = logging.getLogger(__name__)


class WebhookWorker(SimpleWorker):
    """Fresh database connections around each job, as Django does around a request."""

    def execute_job(self, job, queue) -> None:
        _close_old_connections()
        try:
            super().execute_job(job, queue)
        finally:
            _close_old_connections()


def _close_old_connections() -> None:
    # Never inside a transaction: a caller that wraps the worker in one must keep its connection.
    if not any(conn.in_atomic_block for conn in connections.all(initialized_only=True)):
        close_old_connections()


class Sweeper(threading.Thread):
    """Queues due retries every `interval` seconds, until stopped."""

    def __init__(self, interval: float) -> None:
        super().__init__(name="webhook-sweeper", daemon=True)
        self.interval, self._stopped = interval, threading.Event()

    def run(self) -> None:
        while True:
            try:
                services.delivery_enqueue_due()
            except Exception:  # a database hiccup must not stop the retries for good
                logger.exception("webhook sweep failed")
            finally:
                connections.close_all()  # this thread's own connections
            if self._stopped.wait(self.interval):
                return

    def stop(self) -> None:
        self._stopped.set()


class Command(BaseCommand):
    help = "Send webhook deliveries (and their retries) from the webhook queue."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--queue", default=services.queue_name(), help="Queue to take deliveries from.")
        parser.add_argument("--burst", action="store_true", help="Send what is queued or due now, then exit.")
        parser.add_argument("--max-jobs", type=int, default=None, help="Exit after this many attempts.")
        parser.add_argument(
            "--poll-seconds",
            type=float,
            default=float(getattr(settings, "WEBHOOK_POLL_SECONDS", 5)),
            help="How often to look for retries that are due.",
        )

    def handle(self, *args, queue: str, burst: bool, max_jobs: int | None, poll_seconds: float, **_) -> None:
        if burst:
            self._drain(queue)
            return
        sweeper = Sweeper(poll_seconds)
        sweeper.start()
        try:
            _worker(queue).work(max_jobs=max_jobs, with_scheduler=False, logging_level=_log_level())
        finally:
            sweeper.stop()

    def _drain(self, queue: str) -> None:
        """Alternate sweeping and working until nothing is queued and nothing is due."""
        worker = _worker(queue)
        while True:
            queued = services.delivery_enqueue_due()
            worked = worker.work(burst=True, logging_level=_log_level())
            if not queued and not worked:
                return


def _worker(queue: str) -> WebhookWorker:
    rq_queue = queues.get_queue(queue)
    return WebhookWorker([rq_queue], connection=rq_queue.connection, serializer=JSONSerializer)


def _log_level() -> str:
    return settings.LOGGING["root"]["level"]

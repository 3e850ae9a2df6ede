"""`manage.py webhookworker`: sends webhook deliveries from the webhook queue.

An RQ SimpleWorker (no fork per job: deliveries are small) with the JSON serializer, plus a
periodic sweeper thread that every few seconds queues the deliveries whose retry is due
(`services.delivery_enqueue_due`). Retries are driven from the database rather than by RQ's
scheduler, so a restart of Redis or of the worker loses none. No model is ever loaded.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from rq.serializers import JSONSerializer

from portal import queues
from portal.background import Every, Periodic, RequestLikeWorker
from webhooks import services


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
        sweeper = Periodic(
            Every(0, services.delivery_enqueue_due), interval=poll_seconds, name="webhook-sweeper"
        )
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


def _worker(queue: str) -> RequestLikeWorker:
    rq_queue = queues.get_queue(queue)
    return RequestLikeWorker([rq_queue], connection=rq_queue.connection, serializer=JSONSerializer)


def _log_level() -> str:
    return settings.LOGGING["root"]["level"]

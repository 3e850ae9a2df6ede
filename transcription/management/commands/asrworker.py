"""`manage.py asrworker`: one process, one resident model, jobs from one queue.

RQ's default Worker forks a child per job, which would load the model again every job and
cannot use CUDA initialised in the parent. SimpleWorker runs jobs in this process, so the
engine loaded at start stays resident; every job therefore carries an explicit timeout.
"""

from __future__ import annotations

import django_rq
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connections
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from transcription import conf
from transcription.engine import EngineError, get_engine


class PortalWorker(SimpleWorker):
    """SimpleWorker that treats each job like Django treats a request: a worker lives for days,
    and a database connection dropped meanwhile (a PostgreSQL restart, an idle timeout) must
    be replaced rather than fail every later job."""

    def execute_job(self, job, queue) -> None:
        _close_old_connections()
        try:
            super().execute_job(job, queue)
        finally:
            _close_old_connections()


def _close_old_connections() -> None:
    # Never inside a transaction: a caller that wraps the worker in one (the test suite does)
    # must keep its connection.
    if not any(conn.in_atomic_block for conn in connections.all(initialized_only=True)):
        close_old_connections()


class Command(BaseCommand):
    help = "Run an ASR worker: load the engine once, then transcribe queued jobs."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--queue", default=settings.ASR_QUEUE, help="Queue to take jobs from.")
        parser.add_argument("--burst", action="store_true", help="Exit when the queue is empty.")
        parser.add_argument("--max-jobs", type=int, default=None, help="Exit after this many jobs.")
        parser.add_argument("--no-preload", action="store_true", help="Load the model at the first job.")

    def handle(
        self, *args, queue: str, burst: bool, max_jobs: int | None, no_preload: bool, **options
    ) -> None:
        if not no_preload:
            config = conf.engine_config()
            self.stdout.write(
                f"Loading {config.kind} model {config.model or '(bundled)'} on {config.device}..."
            )
            try:
                get_engine(config)
            except EngineError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(self.style.SUCCESS("Model loaded; waiting for jobs."))
        rq_queue = django_rq.get_queue(queue, serializer=JSONSerializer)
        worker = PortalWorker([rq_queue], connection=rq_queue.connection, serializer=JSONSerializer)
        worker.work(
            burst=burst,
            max_jobs=max_jobs,
            with_scheduler=False,
            logging_level=settings.LOGGING["root"]["level"],
        )

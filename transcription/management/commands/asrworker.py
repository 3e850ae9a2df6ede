"""`manage.py asrworker`: one process per device, one resident model, jobs from one queue.

RQ's default Worker forks a child per job, which would load the model again every job and
cannot use CUDA initialised in the parent. SimpleWorker runs jobs in this process, so the
loaded engine stays resident; every job therefore carries an explicit timeout.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connections
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from transcription import profiles, queues, selectors, worker
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
    help = "Run an ASR worker: load a model once, then transcribe jobs from one queue."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--queue", default=settings.ASR_QUEUE, help="Queue to take jobs from.")
        parser.add_argument("--device", default="", help="cpu, cuda:N or auto; overrides the profiles'.")
        parser.add_argument(
            "--profile", default="", help="Profile to load at start (default: the default one)."
        )
        parser.add_argument("--burst", action="store_true", help="Exit when the queue is empty.")
        parser.add_argument("--max-jobs", type=int, default=None, help="Exit after this many jobs.")
        parser.add_argument("--no-preload", action="store_true", help="Load a model at the first job.")

    def handle(
        self, *args, queue: str, device: str, profile: str, burst: bool, max_jobs, no_preload, **_
    ) -> None:
        worker.device = device
        if not no_preload:
            self._preload(queue, profile)
        rq_queue = queues.get_queue(queue)
        rq_worker = PortalWorker([rq_queue], connection=rq_queue.connection, serializer=JSONSerializer)
        level = settings.LOGGING["root"]["level"]
        rq_worker.work(burst=burst, max_jobs=max_jobs, with_scheduler=False, logging_level=level)

    def _preload(self, queue: str, name: str) -> None:
        """Load the named profile, or the default one if it runs on this queue, before the first
        job arrives, so the first user does not wait for the model."""
        profile = selectors.profile_get_for_worker(name=name, queue=queue)
        if profile is None and name:
            raise CommandError(f"There is no engine profile named '{name}'.")
        if profile is None:
            self.stdout.write(f"No profile to preload for queue '{queue}': models load at the first job.")
            return
        readiness = profiles.readiness(profile)
        if not readiness.runnable:
            raise CommandError(f"Profile '{profile.name}' cannot run here: {readiness.message}")
        config = profiles.engine_config(profile, device=worker.device)
        self.stdout.write(f"Loading '{profile.name}' ({config.kind}) on {config.device}...")
        try:
            get_engine(config)
        except EngineError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS("Model loaded; waiting for jobs."))

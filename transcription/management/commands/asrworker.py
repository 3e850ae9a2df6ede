"""`manage.py asrworker`: one process per device, one resident model, jobs from one queue.

RQ's default Worker forks a child per job, which would load the model again every job and
cannot use CUDA initialised in the parent. SimpleWorker runs jobs in this process, so the
loaded engine stays resident; every job therefore carries an explicit timeout.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, connections
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from transcription import engine, profiles, queues, selectors, services, worker, workers
from transcription.management.commands.reconcile import reconcile

logger = logging.getLogger(__name__)


class PortalWorker(SimpleWorker):
    """SimpleWorker that treats each job like Django treats a request (fresh database
    connections: a worker lives for days), gives memory back after each job, publishes its
    status for the admins' page, and retires itself above a memory ceiling so that a
    supervisor can start a fresh one."""

    def __init__(self, *args, status: workers.WorkerStatus, max_memory_mb: int = 0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.status, self.max_memory_mb = status, max_memory_mb

    def execute_job(self, job, queue) -> None:
        _close_old_connections()
        self.status.current_job = job.id
        workers.publish(self.connection, self.status)
        try:
            super().execute_job(job, queue)
        finally:
            _close_old_connections()
            self.status.current_job = ""
            self.status.jobs_done += 1
            self._after_job()

    def _after_job(self) -> None:
        if workers.take_unload_request(self.connection, self.status.name):
            engine.unload()  # asked for while the job ran
        else:
            engine.release_memory()
        workers.publish(self.connection, self.status)
        used = max(self.status.rss_mb, self.status.gpu_mb)
        if self.max_memory_mb and used > self.max_memory_mb:
            logger.warning(
                "worker %s uses %.0f MB (limit %d MB): retiring", self.name, used, self.max_memory_mb
            )
            self._stop_requested = True  # RQ's own flag: leave the loop before the next job


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
        parser.add_argument(
            "--max-memory-mb", type=int, default=0, help="Exit after a job that leaves more than this in use."
        )
        parser.add_argument("--no-preload", action="store_true", help="Load a model at the first job.")
        parser.add_argument(
            "--batch-max-jobs",
            type=int,
            default=settings.ASR_BATCH_MAX_JOBS,
            help="Recognise up to this many short queued jobs in one engine call (1: no batching).",
        )

    def handle(self, *args, queue: str, device: str, profile: str, burst: bool, **options) -> None:
        worker.device = device
        worker.batch_max_jobs = max(1, options["batch_max_jobs"])
        if not options["no_preload"]:
            self._preload(queue, profile)
        rq_queue = queues.get_queue(queue)
        status = workers.WorkerStatus(name="", queue=queue, device=device or "profile's")
        rq_worker = PortalWorker(
            [rq_queue],
            connection=rq_queue.connection,
            serializer=JSONSerializer,
            status=status,
            max_memory_mb=options["max_memory_mb"],
        )
        status.name = worker.name = rq_worker.name
        workers.TTL_SECONDS = settings.ASR_WORKER_TTL
        heartbeat = workers.Heartbeat(
            rq_queue.connection,
            status,
            interval=settings.ASR_HEARTBEAT_SECONDS,
            chores=Chores(
                Every(settings.ASR_RECONCILE_SECONDS, reconcile), Every(3600, services.retention_purge)
            ),
        )
        heartbeat.beat()
        heartbeat.start()
        try:
            level = settings.LOGGING["root"]["level"]
            rq_worker.work(
                burst=burst, max_jobs=options["max_jobs"], with_scheduler=False, logging_level=level
            )
        finally:
            heartbeat.stop()

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
            engine.get_engine(config)
        except engine.EngineError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS("Model loaded; waiting for jobs."))


class Every:
    """Call `action` at most once every `seconds` (from the heartbeat thread)."""

    def __init__(self, seconds: float, action) -> None:
        self.seconds, self.action, self.last = seconds, action, float("-inf")

    def __call__(self) -> None:
        now = time.monotonic()
        if now - self.last >= self.seconds:
            self.last = now
            self.action()


class Chores:
    """The worker's periodic housekeeping, run from its heartbeat thread. That thread has its own
    database connection: keep it fresh, like a request."""

    def __init__(self, *chores: Every) -> None:
        self.chores = chores

    def __call__(self) -> None:
        close_old_connections()
        try:
            for chore in self.chores:
                chore()
        finally:
            close_old_connections()

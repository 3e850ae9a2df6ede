"""`manage.py asrworker`: one process per device, one resident model, jobs from one queue.

RQ's default Worker forks a child per job, which would load the model again every job and
cannot use CUDA initialised in the parent. SimpleWorker runs jobs in this process, so the
loaded engine stays resident; every job therefore carries an explicit timeout.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from rq.serializers import JSONSerializer

from portal import queues
from portal.background import Every, Periodic, RequestLikeWorker
from transcription import engine, profiles, upkeep, worker_process, worker_registry

logger = logging.getLogger(__name__)


class PortalWorker(RequestLikeWorker):
    """Gives memory back after each job, keeps its status in the live-worker registry for the
    admins' page, and retires itself above a memory ceiling so that a supervisor can start a
    fresh one."""

    def __init__(self, *args, status: worker_registry.WorkerStatus, max_memory_mb: int = 0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.status, self.max_memory_mb = status, max_memory_mb

    def execute_job(self, job, queue) -> None:
        self.status.current_job = job.id
        worker_registry.announce(self.connection, self.status)
        try:
            super().execute_job(job, queue)
        finally:
            self.status.current_job = ""
            self.status.jobs_done += 1
            self._after_job()

    def _after_job(self) -> None:
        if worker_registry.take_unload_request(self.connection, self.status.name):
            engine.unload()  # asked for while the job ran
        else:
            engine.release_memory()
        worker_registry.announce(self.connection, self.status)
        used = max(self.status.rss_mb, self.status.gpu_mb)
        if self.max_memory_mb and used > self.max_memory_mb:
            logger.warning(
                "worker %s uses %.0f MB (limit %d MB): retiring", self.name, used, self.max_memory_mb
            )
            self._stop_requested = True  # RQ's own flag: leave the loop before the next job


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
        worker_process.device = device
        worker_process.batch_max_jobs = max(1, options["batch_max_jobs"])
        if not options["no_preload"]:
            self._preload(queue, profile)
        rq_queue = queues.get_queue(queue)
        status = worker_registry.WorkerStatus(name="", queue=queue, device=device or "profile's")
        rq_worker = PortalWorker(
            [rq_queue],
            connection=rq_queue.connection,
            serializer=JSONSerializer,
            status=status,
            max_memory_mb=options["max_memory_mb"],
        )
        status.name = worker_process.name = rq_worker.name
        worker_registry.TTL_SECONDS = settings.ASR_WORKER_TTL
        chores = Periodic(
            Every(0, lambda: worker_registry.heartbeat(rq_queue.connection, status)),
            Every(settings.ASR_RECONCILE_SECONDS, upkeep.reconcile),
            Every(3600, upkeep.retention_purge),
            interval=settings.ASR_HEARTBEAT_SECONDS,
            name="asrworker-chores",
            wait_first=True,  # the status was just announced; a job may already be waiting
        )
        worker_registry.announce(rq_queue.connection, status)  # listed before the first job
        chores.start()
        try:
            level = settings.LOGGING["root"]["level"]
            rq_worker.work(
                burst=burst, max_jobs=options["max_jobs"], with_scheduler=False, logging_level=level
            )
        finally:
            chores.stop()
            worker_registry.withdraw(rq_queue.connection, status.name)

    def _preload(self, queue: str, name: str) -> None:
        """Load the named profile, or the default one if it runs on this queue, before the first
        job arrives, so the first user does not wait for the model."""
        profile = profiles.profile_for_worker(name=name, queue=queue)
        if profile is None and name:
            raise CommandError(f"There is no engine profile named '{name}'.")
        if profile is None:
            self.stdout.write(f"No profile to preload for queue '{queue}': models load at the first job.")
            return
        readiness = profiles.readiness(profile)
        if not readiness.runnable:
            raise CommandError(f"Profile '{profile.name}' cannot run here: {readiness.message}")
        config = profiles.engine_config(profile, device=worker_process.device)
        self.stdout.write(f"Loading '{profile.name}' ({config.kind}) on {config.device}...")
        try:
            engine.get_engine(config)
        except engine.EngineError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS("Model loaded; waiting for jobs."))

"""`manage.py asrworker`: one process, one resident model, jobs from one queue.

RQ's default Worker forks a child per job, which would load the model again every job and
cannot use CUDA initialised in the parent. SimpleWorker runs jobs in this process, so the
engine loaded at start stays resident; every job therefore carries an explicit timeout.
"""

from __future__ import annotations

import django_rq
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from transcription import conf
from transcription.engine import EngineError, get_engine


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
        worker = SimpleWorker([rq_queue], connection=rq_queue.connection, serializer=JSONSerializer)
        worker.work(
            burst=burst,
            max_jobs=max_jobs,
            with_scheduler=False,
            logging_level=settings.LOGGING["root"]["level"],
        )

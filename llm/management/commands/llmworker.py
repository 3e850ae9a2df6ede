"""`manage.py llmworker`: runs the language model's jobs (summaries) from the `llm` queue.

An RQ SimpleWorker (no fork per job) with the JSON serializer. It loads no model: the model runs
behind the configured OpenAI-compatible endpoint, and this worker waits on its answers, so its jobs
never hold up transcription or webhooks."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from rq.serializers import JSONSerializer

from llm import services
from portal import queues
from portal.background import RequestLikeWorker


class Command(BaseCommand):
    help = "Run summaries by the language model from the llm queue."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--queue", default=services.SUMMARY_QUEUE, help="Queue to take jobs from.")
        parser.add_argument("--burst", action="store_true", help="Run what is queued now, then exit.")

    def handle(self, *args, queue: str, burst: bool, **_) -> None:
        rq_queue = queues.get_queue(queue)
        worker = RequestLikeWorker([rq_queue], connection=rq_queue.connection, serializer=JSONSerializer)
        worker.work(burst=burst, with_scheduler=False, logging_level=settings.LOGGING["root"]["level"])

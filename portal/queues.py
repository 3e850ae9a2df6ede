"""RQ queues by name. Profiles name their queue freely, so queues are not listed in settings:
all share the connection of ASR_QUEUE's entry in RQ_QUEUES, and the JSON serializer (pickle
from Redis would be code execution for whoever can write to it)."""

from __future__ import annotations

import django_rq
from django.conf import settings
from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer


def connection() -> Redis:
    """The portal's Redis: RQ's queues, the live-worker registry and the locks."""
    return django_rq.get_connection(settings.ASR_QUEUE)


def get_queue(name: str) -> Queue:
    return Queue(name, connection=connection(), serializer=JSONSerializer)

"""Every read of transcription data. Each selector takes `user=`: owner scoping is not optional."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from transcription.models import Job


def job_list(*, user) -> QuerySet[Job]:
    return Job.objects.filter(owner=user).defer("segments", "text", "options")


def job_get(*, user, job_id) -> Job:
    """The user's job, or 404: someone else's job looks exactly like one that does not exist."""
    try:
        return Job.objects.get(owner=user, id=job_id)
    except (Job.DoesNotExist, ValueError, TypeError):
        raise Http404("No such job.") from None


def job_exists(*, user, job_id) -> bool:
    try:
        job_uuid = uuid.UUID(str(job_id))
    except ValueError:  # a malformed id is simply not theirs
        return False
    return Job.objects.filter(owner=user, id=job_uuid).exists()


def job_sync_list(*, user, job_id=None, limit: int = 200) -> list[Job]:
    """What a websocket client needs on (re)connect: one job, or the newest `limit`."""
    jobs = job_list(user=user)
    if job_id is not None:
        jobs = jobs.filter(id=job_id)
    return list(jobs[:limit])

"""Every read of transcription data. Each selector takes `user=`: owner scoping is not optional."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404

from transcription import profiles, queues, workers
from transcription.models import EngineProfile, Job


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


def profile_list_selectable(*, user) -> list[EngineProfile]:
    """The profiles this user may pick at upload that can run here (their models installed)."""
    candidates = (
        EngineProfile.objects.all() if user.is_staff else EngineProfile.objects.filter(user_selectable=True)
    )
    return [p for p in candidates if profiles.readiness(p).runnable]


def profile_default(*, user) -> EngineProfile | None:
    """The default profile if this user may use it, else the first they may."""
    selectable = profile_list_selectable(user=user)
    return next((p for p in selectable if p.is_default), selectable[0] if selectable else None)


def profile_get_for_worker(*, name: str, queue: str) -> EngineProfile | None:
    """For a worker's preload: the named profile, else the default profile if it uses this
    queue. Workers are not users: this is the one selector without `user=`."""
    if name:
        return EngineProfile.objects.filter(name=name).first()
    return EngineProfile.objects.filter(is_default=True, queue=queue).first()


def worker_list(*, user) -> list[dict]:
    """Live workers, for staff only: everyone else gets none."""
    if not user.is_staff:
        return []
    return workers.list_all(queues.get_queue(settings.ASR_QUEUE).connection)

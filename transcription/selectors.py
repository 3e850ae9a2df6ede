"""Every read of transcription data. Each selector takes `user=`: owner scoping is not optional."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404
from redis.exceptions import RedisError

from transcription import profiles, queues, workers
from transcription.models import EngineProfile, Job


def job_list(*, user) -> QuerySet[Job]:
    return Job.objects.filter(owner=user).defer("segments", "text", "raw_text")


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
    rows = workers.list_all(queues.get_queue(settings.ASR_QUEUE).connection)
    now = time.time()
    for row in rows:
        row["seen_seconds_ago"] = max(0, round(now - float(row["last_seen"])))
    return rows


def _visible_jobs(*, user) -> QuerySet[Job]:
    return Job.objects.all() if user.is_staff else Job.objects.filter(owner=user)


def job_search(
    *,
    user,
    status: str = "",
    profile: str = "",
    batch: str = "",
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    search: str = "",
) -> QuerySet[Job]:
    """The API's job list, newest first: the user's own jobs, every user's for staff. `profile` is
    a profile's name or id; `search` looks in the display name and the transcript."""
    jobs = _visible_jobs(user=user).select_related("owner", "profile")
    jobs = jobs.defer("segments", "text", "raw_text", "corrections")
    if status:
        jobs = jobs.filter(status=status)
    if profile:
        jobs = jobs.filter(Q(profile_id=int(profile)) if _is_id(profile) else Q(profile__name=profile))
    if batch:
        jobs = jobs.filter(options__batch=batch)
    if created_after:
        jobs = jobs.filter(queued_at__gte=created_after)
    if created_before:
        jobs = jobs.filter(queued_at__lt=created_before)
    if search:
        jobs = jobs.filter(Q(original_name__icontains=search) | Q(text__icontains=search))
    return jobs


def job_get_visible(*, user, job_id) -> Job:
    """A job the user may read: their own, or any job for staff. 404 otherwise."""
    try:
        return _visible_jobs(user=user).select_related("owner", "profile").get(id=job_id)
    except (Job.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404("No such job.") from None


def job_wait(*, user, job_id, timeout: float, interval: float = 0.2) -> Job:
    """The user's job once it is done or failed, or as it is after `timeout` seconds: polls the
    database, where the worker writes."""
    deadline = time.monotonic() + timeout
    job = job_get(user=user, job_id=job_id)
    while not job.is_finished and time.monotonic() < deadline:
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        job = job_get(user=user, job_id=job_id)
    return job


def profile_find_selectable(*, user, ref: str = "") -> EngineProfile | None:
    """A profile the user may pick that can run here, by name or id; no `ref`: the default."""
    if not ref:
        return profile_default(user=user)
    selectable = profile_list_selectable(user=user)
    by_name = next((p for p in selectable if p.name == ref), None)
    return by_name or next((p for p in selectable if _is_id(ref) and p.pk == int(ref)), None)


def _is_id(ref: str) -> bool:
    return ref.isascii() and ref.isdigit() and len(ref) <= 18  # fits a 64-bit key


def job_queue_positions(*, user, jobs) -> dict:
    """For the user's queued jobs among `jobs`: how many jobs (anyone's) wait before each on the
    same profile, plus one. Only counts leave the database: nobody learns whose jobs they are."""
    positions = {}
    for job in jobs:
        if job.status == Job.Status.QUEUED and job.owner_id == user.id:
            ahead = Job.objects.filter(
                status=Job.Status.QUEUED, profile_id=job.profile_id, queued_at__lt=job.queued_at
            )
            positions[job.id] = ahead.count() + 1
    return positions


def queue_available(*, user) -> bool:
    """Whether Redis answers (the queue and live updates need it): pages warn when it does not."""
    try:
        return bool(queues.get_queue(settings.ASR_QUEUE).connection.ping())
    except RedisError:
        return False

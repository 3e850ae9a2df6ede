"""Fair scheduling: the database is the queue of record, and each RQ queue is a small window in
front of it. This module owns the order jobs run in, topping the windows up, and putting jobs on
RQ (by dotted path, so that it needs nothing from the job functions it names).

Fair order is round-robin across owners: a job's turn is how many of its owner's queued jobs come
before it, ties going to the older job, so one user's single file goes ahead of another's 500th.
With ASR_FAIR_SCHEDULING off it is first come, first served, and every job goes on RQ at once.
The workers, the dispatcher and the dashboard's queue positions read the same order. These reads
serve the machinery, not a user: only ids and times leave here.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from redis.exceptions import RedisError

from portal import queues
from transcription import calls
from transcription.models import Job

logger = logging.getLogger(__name__)

Status = Job.Status
TRANSCRIBE = "transcription.jobs.transcribe"  # the RQ job function, by dotted path
DISPATCH_LOCK = "portal:dispatch:{queue}"


@dataclass(frozen=True)
class QueuedRow:
    id: uuid.UUID
    owner_id: int
    queued_at: datetime
    dispatched_at: datetime | None
    profile_id: int | None
    duration: float | None


def queue_order(*, queue: str, limit: int | None = None) -> list[QueuedRow]:
    """The queued jobs of `queue` in the order they will start (the first `limit` of them): first
    those already on the RQ queue (dispatched), in the order they went there, then the rest in
    fair order. The database orders the rows (a window function, on SQLite and PostgreSQL alike),
    so a dispatcher asking for a few reads a few: with 10,000 jobs waiting, reading them all took
    128 ms (PostgreSQL) at every claim."""
    queued = Job.objects.filter(status=Status.QUEUED, options__queue=queue)
    if settings.ASR_FAIR_SCHEDULING:
        by_age = [F("queued_at").asc(), F("id").asc()]
        turn = Window(RowNumber(), partition_by=[F("owner_id")], order_by=by_age)
    else:
        turn = Value(0)
    waiting_turn = Case(When(dispatched_at__isnull=True, then=F("turn")), default=Value(0))
    rows = (
        queued.annotate(turn=turn)
        .order_by(F("dispatched_at").asc(nulls_last=True), waiting_turn, "queued_at", "id")
        .values_list("id", "owner_id", "queued_at", "dispatched_at", "profile_id", "duration")
    )
    return [QueuedRow(*values) for values in (rows[:limit] if limit is not None else rows)]


def batch_candidates(*, job: Job, max_seconds: float, limit: int) -> list[uuid.UUID]:
    """For a worker batching across jobs: up to `limit` other queued jobs that can share `job`'s
    engine call (same queue and profile, same hotwords, ITN and language, audio known to be at most
    `max_seconds` long, not set to run alone, not a call: its channels are recognised one by one),
    in the order the queue would run them."""
    if _alone(job.options):
        return []
    rows = [
        row
        for row in queue_order(queue=job.options["queue"])
        if row.id != job.id
        and row.profile_id == job.profile_id
        and row.duration is not None
        and row.duration <= max_seconds
    ][: limit * 4]  # enough to go round jobs with other options, without reading the whole queue
    wanted = _batch_key(job.options)
    options = dict(Job.objects.filter(id__in=[row.id for row in rows]).values_list("id", "options"))
    alike = [
        row.id
        for row in rows
        if row.id in options and not _alone(options[row.id]) and _batch_key(options[row.id]) == wanted
    ]
    return alike[:limit]


def _alone(options: dict) -> bool:
    return bool(options.get("alone") or calls.roles(options))


def _batch_key(options: dict) -> tuple:
    """What jobs sharing an engine call must have in common besides the model."""
    asked = (options.get("task"), options.get("prompt"), options.get("words"))
    return options.get("hotwords"), options.get("itn"), options.get("language", ""), asked


def dispatch_on_commit(queue: str) -> None:
    """Top `queue` up once the current transaction commits: a rolled-back upload never reaches RQ."""
    transaction.on_commit(lambda: queue_dispatch(queue=queue))


def queue_dispatch(*, queue: str) -> list[str]:
    """Top the RQ queue `queue` up to ASR_DISPATCH_WINDOW jobs, taking queued jobs that are not
    on it yet in fair order, and record each in `Job.dispatched_at`. Called when jobs are
    created, claimed, cancelled, deleted or re-queued, and by reconcile. A Redis lock per queue
    serialises dispatchers (web processes and workers alike); each job is also marked with a
    conditional update, so none is dispatched twice. Returns the job ids put on the queue; with
    Redis down, none (reconcile dispatches them once it is back)."""
    if not _window_free(queue):
        return []  # the usual case while a backlog runs: two cheap queries, no lock
    try:
        lock = queues.get_queue(queue).connection.lock(
            DISPATCH_LOCK.format(queue=queue), timeout=30, blocking_timeout=10
        )
        with lock:
            return _dispatch(queue)
    except RedisError:  # LockError included
        logger.warning("queue %s not topped up: Redis is unavailable", queue)
        return []


def _window_free(queue: str) -> int:
    """How many more jobs may go on the RQ queue now: 0 if none waits in the database."""
    queued = Job.objects.filter(status=Status.QUEUED, options__queue=queue)
    if not queued.filter(dispatched_at__isnull=True).exists():
        return 0
    if not settings.ASR_FAIR_SCHEDULING:
        return queued.count()  # first come, first served: everything goes on the queue
    return max(0, settings.ASR_DISPATCH_WINDOW - queued.filter(dispatched_at__isnull=False).count())


def _dispatch(queue: str) -> list[str]:
    free = _window_free(queue)  # again, now that we hold the lock
    # Fair order puts the dispatched jobs (at most a window of them) first: read no further.
    limit = free + settings.ASR_DISPATCH_WINDOW if settings.ASR_FAIR_SCHEDULING else None
    picked = [row.id for row in queue_order(queue=queue, limit=limit) if row.dispatched_at is None][:free]
    dispatched = []
    for job_id in picked:
        # Marked first, then enqueued: a worker only needs the job to be queued, and a job
        # marked but not enqueued (Redis failed just then) is found by reconcile.
        marked = Job.objects.filter(id=job_id, status=Status.QUEUED, dispatched_at__isnull=True).update(
            dispatched_at=timezone.now()
        )
        if marked:  # else claimed (in a batch), cancelled or deleted meanwhile
            _enqueue(Job.objects.only("id", "attempt", "duration", "options").get(id=job_id))
            dispatched.append(str(job_id))
    if dispatched:
        logger.info("queue %s: %d job(s) dispatched", queue, len(dispatched))
    return dispatched


def _enqueue(job: Job) -> None:
    try:
        queues.get_queue(job.options["queue"]).enqueue(
            TRANSCRIBE,
            str(job.id),
            job_id=rq_id(job),
            job_timeout=rq_timeout(job.duration),
            result_ttl=0,
            failure_ttl=7 * 24 * 3600,
        )
    except RedisError:
        # The job is safe in the database as queued; reconciliation enqueues it once Redis is back.
        logger.warning("job %s saved but not queued: Redis is unavailable", job.id)


def rq_id(job: Job) -> str:
    # One RQ id per queueing: a lost or cancelled earlier run may still sit in RQ's registries
    # under the previous id, and RQ's cleanup of that one must not touch this one.
    return f"transcribe-{job.id}-{job.attempt}"


def rq_timeout(duration: float | None) -> int:
    """How long RQ lets a run take: ASR_JOB_TIMEOUT_BASE + 3 × the audio's duration. Unknown
    duration (the header did not say): allow for the longest audio we accept."""
    seconds = duration if duration is not None else settings.ASR_MAX_AUDIO_SECONDS
    return int(settings.ASR_JOB_TIMEOUT_BASE + 3 * seconds)


def dequeue(job: Job) -> None:
    """Take a cancelled job's entry off its RQ queue. Tidiness only: a cancelled job left there
    finds nothing to claim anyway (and a running one is not on the queue any more)."""
    try:
        queues.get_queue(job.options["queue"]).remove(rq_id(job))
    except Exception:  # noqa: BLE001 - Redis hiccups must not undo a cancel
        logger.warning("could not remove job %s from its queue", job.id, exc_info=True)


def on_rq_queue(job: Job) -> bool:
    """Whether Redis still holds the job's entry (it may have restarted empty)."""
    return queues.get_queue(job.options["queue"]).fetch_job(rq_id(job)) is not None

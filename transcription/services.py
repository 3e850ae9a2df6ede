"""Every write to transcription data goes through here."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop
from redis.exceptions import RedisError

from hotwords import selectors as hotword_selectors
from hotwords.models import DEFAULT_WEIGHT, HotwordList
from transcription import audio, profiles, progress, queues, selectors, workers
from transcription.models import EngineProfile, Job
from transcription.postprocess import Result

logger = logging.getLogger(__name__)

Status = Job.Status


def _job_timeout(duration: float | None) -> int:
    # Unknown duration (the header did not say): allow for the longest audio we accept.
    seconds = duration if duration is not None else settings.ASR_MAX_AUDIO_SECONDS
    return int(settings.ASR_JOB_TIMEOUT_BASE + 3 * seconds)


def _rq_id(job: Job) -> str:
    # One RQ id per queueing: a lost or cancelled earlier run may still sit in RQ's registries
    # under the previous id, and RQ's cleanup of that one must not touch this one.
    return f"transcribe-{job.id}-{job.attempt}"


def _enqueue(job: Job) -> None:
    from transcription.jobs import transcribe  # jobs imports services: import late

    try:
        queues.get_queue(job.options["queue"]).enqueue(
            transcribe,
            str(job.id),
            job_id=_rq_id(job),
            job_timeout=_job_timeout(job.duration),
            result_ttl=0,
            failure_ttl=7 * 24 * 3600,
        )
    except RedisError:
        # The job is safe in the database as queued; reconciliation enqueues it once Redis is back.
        logger.warning("job %s saved but not queued: Redis is unavailable", job.id)


DISPATCH_LOCK = "portal:dispatch:{queue}"


def _dispatch_on_commit(queue: str) -> None:
    transaction.on_commit(lambda: queue_dispatch(queue=queue))


def queue_dispatch(*, queue: str) -> list[str]:
    """Top the RQ queue `queue` up to ASR_DISPATCH_WINDOW jobs, taking queued jobs that are not
    on it yet in fair order (`selectors.queue_order`), and record each in `Job.dispatched_at`.
    Called when jobs are created, claimed, cancelled, deleted or re-queued, and by reconcile.
    A Redis lock per queue serialises dispatchers (web processes and workers alike); each job is
    also marked with a conditional update, so none is dispatched twice. Returns the job ids put on
    the queue; with Redis down, none (reconcile dispatches them once it is back)."""
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
    rows = selectors.queue_order(queue=queue, limit=limit)
    picked = [row.id for row in rows if row.dispatched_at is None][:free]
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


def job_create(
    *,
    owner,
    upload: UploadedFile,
    profile: EngineProfile,
    hotwords: Sequence[str] = (),
    hotword_lists: Sequence[HotwordList] = (),
    itn: bool | None = None,
    callback_url: str = "",
    batch: str = "",
    name: str = "",
) -> Job:
    """Store the upload and queue it on the profile's queue. The worker decodes it, so a bad
    file becomes a failed job. `itn=None` means the profile's default. The job keeps a snapshot
    of its hotwords: the shared lists applied by default, the lists picked, the typed phrases.
    `name` replaces the upload's file name as the job's display name; `batch`, a caller's label
    for a group of uploads, is kept in `options["batch"]` (and only then)."""
    lists = list(hotword_selectors.hotword_list_applied_by_default()) + [
        lst for lst in hotword_lists if not (lst.is_shared and lst.apply_by_default)
    ]
    typed = [{"phrase": phrase, "weight": DEFAULT_WEIGHT} for phrase in hotwords]
    snapshot = _unique_phrases(typed + hotword_selectors.hotword_snapshot(lists=lists))
    with transaction.atomic():
        job = Job(
            owner=owner,
            original_name=(name or upload.name or "upload")[:255],
            size_bytes=upload.size or 0,
            profile=profile,
            engine=profile.engine,
            callback_url=callback_url,
            options={
                "profile": profile.name,
                "queue": profile.queue,
                "hotwords": snapshot,
                "itn": profile.itn_default if itn is None else itn,
                **({"batch": batch} if batch else {}),
            },
        )
        job.audio.save(upload.name or "upload", upload, save=False)
        job.duration = audio.probe_duration(job.audio.path)
        job.save()
        job.hotword_lists.set(lists)
        _refuse_over_decode_limits(job)
        _dispatch_on_commit(job.options["queue"])
    logger.info("job %s created for user %s (%s)", job.id, owner.pk, job.original_name)
    return job


def decode_limit() -> audio.SampleLimit:
    """The decoding limits of ASR_MAX_AUDIO_SECONDS and ASR_MAX_DECODED_MB, as one sample count."""
    return audio.SampleLimit.of(
        max_seconds=settings.ASR_MAX_AUDIO_SECONDS, max_decoded_bytes=settings.ASR_MAX_DECODED_BYTES
    )


def _refuse_over_decode_limits(job: Job) -> None:
    """A recording whose header already says it is over a decoding limit fails at once, with the
    message the worker would give after decoding up to the limit: it never takes a worker's time.
    A header can lie either way; the worker's decode enforces the limits on the real samples."""
    message = decode_limit().refuses(job.duration)
    if not message:
        return
    fields = {"status": Status.FAILED, "error": message, "finished_at": timezone.now()}
    _finish(job, fields, rows=Job.objects.filter(id=job.id, status=Status.QUEUED))
    logger.info("job %s refused at upload: %s", job.id, message)


def _unique_phrases(hotwords: list[dict]) -> list[dict]:
    seen: dict[str, dict] = {}
    for hotword in hotwords:
        seen.setdefault(hotword["phrase"].lower(), hotword)
    return list(seen.values())


def job_create_many(*, owner, uploads: Sequence[UploadedFile], **options) -> list[Job]:
    with transaction.atomic():
        return [job_create(owner=owner, upload=u, **options) for u in uploads]


def job_claim(*, job_id: str, device: str = "", worker_name: str = "") -> tuple[Job, str] | None:
    """Move a queued job to running and record the engine configuration it runs with, read from
    its profile now, so an admin's change applies to the next job that starts. Only one caller
    ever wins: the update is conditional. Returns (job, problem); a problem (the profile is gone,
    a model is not installed) means the job must fail with that message."""
    claimed = Job.objects.filter(id=job_id, status=Status.QUEUED).update(
        status=Status.RUNNING,
        started_at=timezone.now(),
        progress=0.0,
        error="",
        attempt=F("attempt") + 1,
        worker=worker_name,
    )
    if not claimed:
        return None
    job = Job.objects.select_related("profile").get(id=job_id)
    progress.publish(job)
    queue_dispatch(queue=job.options["queue"])  # its place in the window is free
    if job.profile is None:
        return (
            job,
            f"The engine profile '{job.options.get('profile')}' was deleted: upload again with another.",
        )
    readiness = profiles.readiness(job.profile)
    job.options["engine"] = profiles.engine_config(job.profile, device=device).as_dict()
    Job.objects.filter(id=job.id).update(options=job.options)
    return job, "" if readiness.runnable else readiness.message


def jobs_mark_batched(*, jobs: Sequence[Job]) -> None:
    """Record on each job of a batch (batching across jobs) how many jobs shared its engine call,
    in `options["batched"]`, for this run only."""
    for job in jobs:
        job.options["batched"] = len(jobs)
        _this_run(job).update(options=job.options)
    logger.info("batch of %d jobs: %s", len(jobs), " ".join(str(job.id) for job in jobs))


def job_progress(*, job: Job, seconds_done: float, seconds_total: float) -> None:
    fraction = min(1.0, seconds_done / seconds_total) if seconds_total > 0 else 0.0
    updated = _this_run(job).update(progress=fraction, duration=seconds_total)
    if updated:
        job.progress, job.duration = fraction, seconds_total
        progress.publish(job)


def job_finish(*, job: Job, result: Result, duration: float, processing_seconds: float) -> None:
    fields = {
        "status": Status.DONE,
        "progress": 1.0,
        "text": result.text,
        "raw_text": result.raw_text,
        "segments": result.segments,
        "corrections": result.corrections,
        "language": result.language,
        "duration": duration,
        "processing_seconds": processing_seconds,
        "finished_at": timezone.now(),
    }
    _finish(job, fields)
    logger.info("job %s done: %.1f s audio in %.2f s", job.id, duration, processing_seconds)


def job_fail(*, job: Job, message: str, processing_seconds: float | None = None) -> None:
    fields = {
        "status": Status.FAILED,
        "error": message,
        "processing_seconds": processing_seconds,
        "finished_at": timezone.now(),
    }
    _finish(job, fields)
    logger.info("job %s failed: %s", job.id, message)


def _this_run(job: Job):
    """The job's row, only while it is still in the run this worker claimed: a job deleted,
    cancelled, or retried and claimed again meanwhile ignores a stale worker's writes."""
    return Job.objects.filter(id=job.id, status=Status.RUNNING, attempt=job.attempt)


def _finish(job: Job, fields: dict, rows=None) -> None:
    """End the job: write `fields` to `rows` (by default its row while still in this worker's run),
    then tell its owner's browsers and its webhook."""
    rows = _this_run(job) if rows is None else rows
    if rows.update(**fields):
        for name, value in fields.items():
            setattr(job, name, value)
        progress.publish(job)
        if job.callback_url:
            from webhooks.services import delivery_enqueue  # webhooks imports transcription

            delivery_enqueue(job=job)


def job_delete(*, job: Job) -> None:
    """Delete the job and its audio. A queued RQ job finds nothing to claim and stops."""
    storage, name = job.audio.storage, job.audio.name
    with transaction.atomic():
        job.delete()
        transaction.on_commit(lambda: storage.delete(name) if name else None)
        if job.status == Status.QUEUED:
            _dispatch_on_commit(job.options.get("queue", settings.ASR_QUEUE))
    logger.info("job %s deleted", job.pk)


@transaction.atomic
def profile_save(*, profile: EngineProfile) -> EngineProfile:
    """Save a profile; making it the default takes the mark from whichever profile had it."""
    if profile.is_default:
        EngineProfile.objects.filter(is_default=True).exclude(pk=profile.pk).update(is_default=False)
    profile.full_clean()
    profile.save()
    logger.info("engine profile %r saved (default=%s)", profile.name, profile.is_default)
    return profile


def worker_request_unload(*, user, name: str) -> bool:
    """Ask a worker to drop its model and free GPU memory (at once if idle, else after its job)."""
    if not user.is_staff:
        return False
    logger.info("user %s asked worker %s to unload its model", user.pk, name)
    return workers.request_unload(queues.get_queue(settings.ASR_QUEUE).connection, name)


# Job errors are stored in English and translated when shown (portal/i18n.py).
CANCELLED = gettext_noop("Cancelled by the user.")


def job_cancel(*, job: Job) -> bool:
    """Fail a queued or running job with CANCELLED. The update is conditional, so a job that
    finished meanwhile keeps its result, and a running job's worker finds that its own finish
    (an update on `running` only) does nothing. A queued job also leaves the RQ queue. False
    when the job was neither queued nor running."""
    fields = {"status": Status.FAILED, "error": CANCELLED, "finished_at": timezone.now()}
    with transaction.atomic():
        cancelled = Job.objects.filter(id=job.id, status__in=[Status.QUEUED, Status.RUNNING]).update(**fields)
        if cancelled:
            transaction.on_commit(lambda: _dequeue(job))
            _dispatch_on_commit(job.options.get("queue", settings.ASR_QUEUE))
    if not cancelled:
        job.refresh_from_db()
        return False
    for name, value in fields.items():
        setattr(job, name, value)
    progress.publish(job)
    if job.callback_url:
        from webhooks.services import delivery_enqueue  # webhooks imports transcription

        delivery_enqueue(job=job)
    logger.info("job %s cancelled", job.id)
    return True


def _dequeue(job: Job) -> None:
    # Tidiness only: a cancelled job left in the queue finds nothing to claim anyway (and a
    # running one is not in the queue any more).
    try:
        queues.get_queue(job.options["queue"]).remove(_rq_id(job))
    except Exception:  # noqa: BLE001 - Redis hiccups must not undo a cancel
        logger.warning("could not remove job %s from its queue", job.id, exc_info=True)


def job_retry(*, job: Job) -> bool:
    """Queue a failed job again from the start: same file, hotwords and options, on its profile's
    queue as it is now. Enqueued once committed. False when the job is not failed."""
    queue = job.profile.queue if job.profile else job.options.get("queue", settings.ASR_QUEUE)
    fields = {
        "status": Status.QUEUED,
        "progress": 0.0,
        "error": "",
        "text": "",
        "raw_text": "",
        "segments": [],
        "corrections": [],
        "language": "",
        "started_at": None,
        "finished_at": None,
        "processing_seconds": None,
        "dispatched_at": None,
        "options": {**job.options, "queue": queue},
    }
    with transaction.atomic():
        if not Job.objects.filter(id=job.id, status=Status.FAILED).update(**fields):
            job.refresh_from_db()
            return False
        for name, value in fields.items():
            setattr(job, name, value)
        _dispatch_on_commit(queue)
    progress.publish(job)
    logger.info("job %s queued again", job.id)
    return True


_CJK_TEXT = re.compile(r"[\u3400-\u9fff]")

WORKER_LOST = gettext_noop(
    "The worker transcribing this file stopped unexpectedly, {attempts} time(s). "
    "Retry it; if it happens again, an administrator can check the workers."
)


@dataclass
class ReconcileReport:
    requeued: list[str] = field(default_factory=list)  # running jobs whose worker vanished
    failed: list[str] = field(default_factory=list)  # the same, out of attempts
    reenqueued: list[str] = field(default_factory=list)  # queued jobs Redis had lost

    def __bool__(self) -> bool:
        return bool(self.requeued or self.failed or self.reenqueued)


def jobs_reconcile(*, live_workers: set[str], grace_seconds: int = 0) -> ReconcileReport:
    """Repair the database against the workers and the queues; the database is the truth.
    A running job whose worker is not alive goes back to the queue (or fails after
    ASR_MAX_ATTEMPTS runs); a dispatched job that Redis lost loses its place in the window, and
    every queue's window is topped up again (`reenqueued`: the jobs that put on a queue). Jobs
    claimed or dispatched less than `grace_seconds` ago are left alone. Every repair is logged."""
    report = ReconcileReport()
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    orphans = Job.objects.filter(status=Status.RUNNING, started_at__lt=cutoff).exclude(
        worker__in=live_workers
    )
    for job in orphans:
        (report.requeued if _requeue_lost(job) else report.failed).append(str(job.id))
    _undispatch_lost(cutoff)
    waiting = Job.objects.filter(status=Status.QUEUED, dispatched_at__isnull=True)
    for queue in sorted(set(waiting.values_list("options__queue", flat=True))):
        report.reenqueued += queue_dispatch(queue=queue)
    for kind, ids in (
        ("re-queued", report.requeued),
        ("failed", report.failed),
        ("re-enqueued", report.reenqueued),
    ):
        for job_id in ids:
            logger.warning("reconcile: job %s %s (its worker or queue entry was lost)", job_id, kind)
    return report


def _undispatch_lost(cutoff) -> None:
    """Jobs the database says are on an RQ queue that Redis does not hold (it restarted empty, or
    was down when they were dispatched) go back to waiting in the database."""
    for job in Job.objects.filter(status=Status.QUEUED, dispatched_at__lt=cutoff).only(
        "id", "attempt", "options", "dispatched_at"
    ):
        if queues.get_queue(job.options["queue"]).fetch_job(_rq_id(job)) is None:
            Job.objects.filter(id=job.id, status=Status.QUEUED, dispatched_at=job.dispatched_at).update(
                dispatched_at=None
            )


def _requeue_lost(job: Job) -> bool:
    """Back to the queue if it may run again; else failed as lost. True when re-queued."""
    if job.attempt < settings.ASR_MAX_ATTEMPTS:
        fields = {
            "status": Status.QUEUED,
            "progress": 0.0,
            "started_at": None,
            "worker": "",
            "dispatched_at": None,
        }
    else:
        fields = {
            "status": Status.FAILED,
            "error": WORKER_LOST.format(attempts=job.attempt),
            "finished_at": timezone.now(),
        }
    with transaction.atomic():
        if not _this_run(job).update(**fields):
            return False  # it finished or moved on meanwhile: nothing to repair
        for name, value in fields.items():
            setattr(job, name, value)
        if job.status == Status.QUEUED:
            _dispatch_on_commit(job.options["queue"])
    progress.publish(job)
    return job.status == Status.QUEUED


@dataclass
class PurgeReport:
    audio_deleted: list[str] = field(default_factory=list)  # jobs whose recording went
    jobs_deleted: list[str] = field(default_factory=list)  # jobs that went entirely
    orphan_files: list[str] = field(default_factory=list)  # stored files no job refers to

    def summary(self) -> str:
        return (
            f"{len(self.audio_deleted)} recording(s), {len(self.jobs_deleted)} job(s) "
            f"and {len(self.orphan_files)} orphan file(s)"
        )


def retention_purge(*, dry_run: bool = False) -> PurgeReport:
    """Apply RETAIN_AUDIO_DAYS and RETAIN_TRANSCRIPTS_DAYS to finished jobs, deleting files and
    rows together (files once the rows are committed), and remove stored audio that no job refers
    to (an upload interrupted between storing and committing). `dry_run` changes nothing."""
    report = PurgeReport()
    now = timezone.now()
    finished = Job.objects.filter(status__in=[Status.DONE, Status.FAILED])
    if settings.RETAIN_TRANSCRIPTS_DAYS:
        old = finished.filter(finished_at__lt=now - timedelta(days=settings.RETAIN_TRANSCRIPTS_DAYS))
        report.jobs_deleted = [str(pk) for pk in old.values_list("pk", flat=True)]
        if not dry_run:
            for job in old:
                job_delete(job=job)
    if settings.RETAIN_AUDIO_DAYS:
        old = finished.filter(finished_at__lt=now - timedelta(days=settings.RETAIN_AUDIO_DAYS)).exclude(
            audio=""
        )
        report.audio_deleted = [str(pk) for pk in old.values_list("pk", flat=True)]
        if not dry_run:
            for job in old:
                _audio_delete(job)
    report.orphan_files = _orphan_files(older_than=now - timedelta(days=1))
    if not dry_run:
        for name in report.orphan_files:
            default_storage.delete(name)
    logger.info("retention%s: %s", " (dry run)" if dry_run else "", report.summary())
    return report


def _audio_delete(job: Job) -> None:
    name = job.audio.name
    with transaction.atomic():
        Job.objects.filter(pk=job.pk).update(audio="")
        transaction.on_commit(lambda: default_storage.delete(name))


def _orphan_files(*, older_than) -> list[str]:
    """Stored audio files with no job, left alone for a day so an upload in progress is safe."""
    known = set(Job.objects.exclude(audio="").values_list("audio", flat=True))
    orphans = []
    root = Path(settings.MEDIA_ROOT) / "audio"
    for path in root.rglob("*") if root.exists() else []:
        name = path.relative_to(settings.MEDIA_ROOT).as_posix()
        modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        if path.is_file() and name not in known and modified < older_than:
            orphans.append(name)
    return sorted(orphans)


def segment_edit(*, job: Job, index: int, text: str) -> dict:
    """Correct one segment's text by hand. The machine's words stay beside it (`machine`), the
    first time only, so the original survives any number of edits; the full text follows."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status != Status.DONE or not 0 <= index < len(job.segments):
            raise ValueError(gettext_noop("Only a finished transcript's existing segments can be edited."))
        segment = job.segments[index]
        segment.setdefault("machine", segment["text"])
        segment["text"] = " ".join(text.split())
        segment["edited"] = True
        job.text = _joined([s["text"] for s in job.segments], cjk=bool(_CJK_TEXT.search(job.text)))
        job.save(update_fields=["segments", "text"])
    logger.info("job %s: segment %d edited", job.pk, index)
    return segment


def _joined(texts: list[str], *, cjk: bool) -> str:
    # Chinese transcripts run on without spaces; others are words separated by spaces.
    return ("" if cjk else " ").join(t for t in texts if t)


BULK_DELETE_CHUNK = 500


def jobs_delete(*, user, job_ids: Sequence[str]) -> int:
    """Delete those of `job_ids` that are the user's own, rows and audio together (files once
    the rows are committed). Malformed or foreign ids are ignored. Returns how many went."""
    return _delete_jobs(Job.objects.filter(owner=user, id__in=selectors.parse_job_ids(job_ids)))


def jobs_clear_older_than(*, user, days: int) -> int:
    """Delete the user's finished (done or failed) jobs queued more than `days` days ago, rows and
    audio together. Jobs still queued or running are never touched. Returns how many went."""
    if days < 0:
        raise ValueError("days must not be negative")
    return _delete_jobs(selectors.finished_older_than(user=user, days=days))


def _delete_jobs(jobs) -> int:
    deleted = 0
    with transaction.atomic():
        while batch := list(jobs.values_list("pk", "audio", "status", "options__queue")[:BULK_DELETE_CHUNK]):
            Job.objects.filter(pk__in=[pk for pk, *_ in batch]).delete()
            names = [name for _, name, *_ in batch if name]
            for queue in {queue for *_, status, queue in batch if status == Status.QUEUED}:
                _dispatch_on_commit(queue or settings.ASR_QUEUE)
            transaction.on_commit(lambda names=names: _delete_files(names))
            deleted += len(batch)
    logger.info("%s job(s) deleted in bulk", deleted)
    return deleted


def _delete_files(names: list[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("could not delete %s", name, exc_info=True)

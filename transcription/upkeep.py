"""Keeping the house in order: repairing jobs whose worker died or whose queue entry Redis lost
(every worker on a timer, and `manage.py reconcile`), the retention policy (hourly, and `manage.py
purge`), and a user clearing their history in bulk. The database is the truth; every repair is a
conditional write, and logged; files go once the rows that named them are committed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from portal import queues
from transcription import chunks, ids, live_capture, scheduler, selectors, services, worker_registry
from transcription.models import Job

logger = logging.getLogger(__name__)

Status = Job.Status

# Stored in English, translated when shown (portal/i18n.py).
WORKER_LOST = gettext_noop(
    "The worker transcribing this file stopped unexpectedly, {attempts} time(s). "
    "Retry it; if it happens again, an administrator can check the workers."
)
# When the job was running alone: the file itself is the likely cause.
SET_ASIDE = gettext_noop(
    "This file stopped the transcription worker {attempts} time(s), so it was set aside and the "
    "other files went on. It may be damaged: convert it to WAV or MP3 and upload it again."
)


@dataclass
class ReconcileReport:
    requeued: list[str] = field(default_factory=list)  # running jobs whose worker vanished
    failed: list[str] = field(default_factory=list)  # the same, out of attempts
    reenqueued: list[str] = field(default_factory=list)  # queued jobs Redis had lost
    chunks: list[int] = field(default_factory=list)  # chunks of long jobs whose worker vanished
    live: list[str] = field(default_factory=list)  # live sessions no page held: now queued jobs

    def __bool__(self) -> bool:
        return bool(self.requeued or self.failed or self.reenqueued or self.chunks or self.live)


def reconcile() -> ReconcileReport:
    """`jobs_reconcile` against the workers alive now. A job claimed moments ago may belong to a
    worker whose first heartbeat is on its way: a heartbeat's time of grace."""
    live = {w["name"] for w in worker_registry.list_all(queues.connection())}
    return jobs_reconcile(live_workers=live, grace_seconds=settings.ASR_HEARTBEAT_SECONDS)


def jobs_reconcile(*, live_workers: set[str], grace_seconds: int = 0) -> ReconcileReport:
    """Repair the database against the workers and the queues. A running job whose worker is not
    alive goes back to the queue (or fails after ASR_MAX_ATTEMPTS runs); a dispatched job that
    Redis lost loses its place in the window, and every queue's window is topped up again
    (`reenqueued`: the jobs that put on a queue). Jobs claimed or dispatched less than
    `grace_seconds` ago are left alone."""
    report = ReconcileReport()
    cutoff = timezone.now() - timedelta(seconds=grace_seconds)
    orphans = Job.objects.filter(status=Status.RUNNING, started_at__lt=cutoff).exclude(
        worker__in=live_workers
    )
    # A long job's chunks: one whose worker is gone goes back to its queue; the job itself only
    # when no live worker is on any of its chunks.
    report.chunks = chunks.chunks_requeue_lost(live_workers=live_workers, cutoff=cutoff)
    for job in chunks.kept_alive_by_chunks(orphans, live_workers=live_workers):
        (report.requeued if _requeue_lost(job) else report.failed).append(str(job.id))
    _undispatch_lost(cutoff)
    report.live = live_capture.live_sweep()
    waiting = Job.objects.filter(status=Status.QUEUED, dispatched_at__isnull=True)
    for queue in sorted(set(waiting.values_list("options__queue", flat=True))):
        report.reenqueued += scheduler.queue_dispatch(queue=queue)
    for chunk_id in report.chunks:
        logger.warning("reconcile: chunk %s re-queued (its worker was lost)", chunk_id)
    for kind, job_ids in (
        ("re-queued", report.requeued),
        ("failed", report.failed),
        ("re-enqueued", report.reenqueued),
    ):
        for job_id in job_ids:
            logger.warning("reconcile: job %s %s (its worker or queue entry was lost)", job_id, kind)
    return report


def _undispatch_lost(cutoff) -> None:
    """Jobs the database says are on an RQ queue that Redis does not hold (it restarted empty, or
    was down when they were dispatched) go back to waiting in the database."""
    for job in Job.objects.filter(status=Status.QUEUED, dispatched_at__lt=cutoff).only(
        "id", "attempt", "options", "dispatched_at"
    ):
        if not scheduler.on_rq_queue(job):
            Job.objects.filter(id=job.id, status=Status.QUEUED, dispatched_at=job.dispatched_at).update(
                dispatched_at=None
            )


def _requeue_lost(job: Job) -> bool:
    """Back to the queue, to run alone, if it may run again; else failed, set aside when it was
    already running alone. True when re-queued."""
    if job.attempt >= settings.ASR_MAX_ATTEMPTS:
        message = SET_ASIDE if job.options.get("alone") else WORKER_LOST
        services.job_fail(job=job, message=message.format(attempts=job.attempt))
        return False
    return services.job_requeue(job=job)


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
            _delete_jobs(old)
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


BULK_DELETE_CHUNK = 500
OnDelete = Callable[[list[tuple]], None]


def jobs_delete(*, user, job_ids: Sequence[str], on_delete: OnDelete | None = None) -> int:
    """Delete those of `job_ids` that are the user's own, rows and audio together (files once
    the rows are committed). Malformed or foreign ids are ignored. Returns how many went."""
    return _delete_jobs(Job.objects.filter(owner=user, id__in=ids.parse_job_ids(job_ids)), on_delete)


def jobs_clear_older_than(*, user, days: int, on_delete: OnDelete | None = None) -> int:
    """Delete the user's finished (done or failed) jobs queued more than `days` days ago, rows and
    audio together. Jobs still queued or running are never touched. Returns how many went."""
    if days < 0:
        raise ValueError("days must not be negative")
    return _delete_jobs(selectors.finished_older_than(user=user, days=days), on_delete)


def jobs_delete_any(*, user, jobs, on_delete: OnDelete | None = None) -> int:
    """Staff only (Django admin): delete `jobs`, whoever owns them. Returns how many went."""
    return _delete_jobs(jobs, on_delete) if user.is_staff else 0


def _delete_jobs(jobs, on_delete: OnDelete | None = None) -> int:
    """Delete `jobs` in chunks, in one transaction; each recording goes once it is committed
    (receivers.py), and each queue that lost a waiting job is topped up. `on_delete` hears each
    chunk's (id, name, owner id) first, inside the transaction (the audit log's record)."""
    deleted = 0
    fields = ("pk", "status", "options__queue", "original_name", "owner_id")
    with transaction.atomic():
        while batch := list(jobs.values_list(*fields)[:BULK_DELETE_CHUNK]):
            if on_delete is not None:
                on_delete([(pk, name, owner) for pk, _status, _queue, name, owner in batch])
            Job.objects.filter(pk__in=[pk for pk, *_ in batch]).only("pk", "audio", "owner").delete()
            for queue in {queue for _, status, queue, *_ in batch if status == Status.QUEUED}:
                scheduler.dispatch_on_commit(queue or settings.ASR_QUEUE)
            deleted += len(batch)
    logger.info("%s job(s) deleted in bulk", deleted)
    return deleted

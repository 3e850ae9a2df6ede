"""A long job's chunks (JobChunk): every write and read of them, for transcription/chunked.py and
upkeep's repairs. Each write is conditional on the job's run, as the job's own are in services.py:
a job cancelled, deleted or claimed again meanwhile ignores what a stale chunk worker says. These
reads serve the machinery, not a user: only the worker that holds a job's run asks them."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Sum
from django.utils import timezone
from redis.exceptions import RedisError

from portal import queues
from transcription import scheduler, services
from transcription.models import Job, JobChunk

logger = logging.getLogger(__name__)

Status = JobChunk.Status
TRANSCRIBE_CHUNK = "transcription.jobs.transcribe_chunk"  # the RQ job function, by dotted path


def chunks_create(*, job: Job, spans: Sequence[tuple[float, float]], decode_seconds: float) -> list[JobChunk]:
    """Cut the running `job` into chunks (seconds), recorded in `options["chunked"]`, and put one
    RQ entry per chunk at the front of the job's queue once committed, so that idle workers take
    them before the next job. Empty when the job's run no longer stands."""
    options = {**job.options, "chunked": {"parts": len(spans), "decode_seconds": round(decode_seconds, 3)}}
    with transaction.atomic():
        if not _job_run(job).update(options=options):
            return []
        job.options = options
        JobChunk.objects.filter(job=job).exclude(attempt=job.attempt).delete()  # an earlier run's
        JobChunk.objects.bulk_create(
            JobChunk(job=job, attempt=job.attempt, index=i, start=start, end=end)
            for i, (start, end) in enumerate(spans)
        )
        created = list(JobChunk.objects.filter(job=job, attempt=job.attempt))  # ids on every database
        transaction.on_commit(lambda: [_enqueue(chunk, job) for chunk in created])
    logger.info("job %s cut into %d chunks", job.id, len(created))
    return created


def _enqueue(chunk: JobChunk, job: Job) -> None:
    try:
        queues.get_queue(job.options["queue"]).enqueue(
            TRANSCRIBE_CHUNK,
            chunk.pk,
            job_id=f"chunk-{chunk.pk}",
            job_timeout=scheduler.rq_timeout(job.duration),
            result_ttl=0,
            failure_ttl=7 * 24 * 3600,
            at_front=True,
        )
    except RedisError:  # the job's own worker takes every chunk nobody else does
        logger.warning("chunk %s of job %s not queued: Redis is unavailable", chunk.pk, job.id)


def _standing(chunks):
    """Chunks of a job still running in the run they were cut for."""
    return chunks.filter(job__status=Job.Status.RUNNING, job__attempt=F("attempt"))


def chunk_claim(*, chunk_id: int, worker_name: str) -> JobChunk | None:
    """Take a queued chunk of a running job for this worker; None if another took it, or if its
    job's run is over. Only one caller ever wins: the update is conditional."""
    rows = _standing(JobChunk.objects.filter(pk=chunk_id, status=Status.QUEUED))
    if not rows.update(status=Status.RUNNING, worker=worker_name, claimed_at=timezone.now()):
        return None
    return JobChunk.objects.select_related("job", "job__owner", "job__profile").get(pk=chunk_id)


def chunk_claim_next(*, job: Job, worker_name: str) -> JobChunk | None:
    """The first chunk of `job`'s run that nobody has taken yet, now taken by this worker."""
    waiting = JobChunk.objects.filter(job=job, attempt=job.attempt, status=Status.QUEUED)
    for chunk_id in waiting.order_by("index").values_list("pk", flat=True):
        chunk = chunk_claim(chunk_id=chunk_id, worker_name=worker_name)
        if chunk is not None:
            return chunk
    return None


def chunk_progress(*, chunk: JobChunk, seconds_done: float) -> None:
    """The chunk's progress, and the job's: the sum of its chunks'."""
    if not _mine(chunk).update(seconds_done=seconds_done):
        return
    done = JobChunk.objects.filter(job=chunk.job, attempt=chunk.attempt).aggregate(s=Sum("seconds_done"))["s"]
    services.job_progress(job=chunk.job, seconds_done=done or 0.0, seconds_total=_total(chunk.job))


def chunk_finish(*, chunk: JobChunk, transcript: dict, processing_seconds: float) -> bool:
    """Keep the chunk's transcript (times on the recording's timeline). True when every chunk of
    the run is done and this worker is the one to stitch them: exactly one caller gets True (the
    last to finish; of two finishing together, whichever wins the conditional update), and the job
    then names it as its worker, so that reconcile watches the stitching worker."""
    done = _mine(chunk).update(
        status=Status.DONE,
        transcript=transcript,
        seconds_done=chunk.end - chunk.start,
        processing_seconds=processing_seconds,
    )
    # Committed before counting: of two chunks finishing at once, the later count sees both.
    siblings = JobChunk.objects.filter(job=chunk.job, attempt=chunk.attempt)
    if not done or siblings.exclude(status=Status.DONE).exists():
        return False
    with transaction.atomic():
        if not siblings.filter(index=0, stitched_by="").update(stitched_by=chunk.worker):
            return False
        return bool(_job_run(chunk.job).update(worker=chunk.worker))


def chunks_done(*, job: Job) -> list[JobChunk]:
    """Every chunk of the job's run, in order (for stitching: all are done by then)."""
    return list(JobChunk.objects.filter(job=job, attempt=job.attempt).order_by("index"))


def chunks_requeue_lost(*, live_workers: set[str], cutoff) -> list[int]:
    """Running chunks of running jobs whose worker is not alive go back to waiting, with a new RQ
    entry (upkeep.reconcile). The ids re-queued."""
    lost = _standing(JobChunk.objects.filter(status=Status.RUNNING, claimed_at__lt=cutoff)).exclude(
        worker__in=live_workers
    )
    requeued = []
    for chunk in lost.select_related("job"):
        rows = JobChunk.objects.filter(pk=chunk.pk, status=Status.RUNNING, worker=chunk.worker)
        if rows.update(status=Status.QUEUED, worker="", claimed_at=None, seconds_done=0.0):
            transaction.on_commit(lambda chunk=chunk: _enqueue(chunk, chunk.job))
            requeued.append(chunk.pk)
    return requeued


def kept_alive_by_chunks(jobs, *, live_workers: set[str]):
    """`jobs` less those a live worker is recognising a chunk of, in the job's current run: the
    worker that cut a job may be gone while others carry its chunks on."""
    working = JobChunk.objects.filter(
        job=OuterRef("pk"), attempt=OuterRef("attempt"), status=Status.RUNNING, worker__in=live_workers
    )
    return jobs.exclude(Exists(working))


def _job_run(job: Job):
    """The job's row while still in the run its chunks were cut for (services._this_run)."""
    return Job.objects.filter(id=job.id, status=Job.Status.RUNNING, attempt=job.attempt)


def _mine(chunk: JobChunk):
    """The chunk's row while this worker still holds it in a standing run."""
    return _standing(JobChunk.objects.filter(pk=chunk.pk, status=Status.RUNNING, worker=chunk.worker))


def _total(job: Job) -> float:
    last = JobChunk.objects.filter(job=job, attempt=job.attempt).order_by("-index").values("end").first()
    return last["end"] if last else 0.0

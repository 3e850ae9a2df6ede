"""Batching across jobs: a worker that claims a short job also claims other short queued jobs
that can share its engine call, recognises them together (`Engine.transcribe_many`), then gives
each job its own result, progress events, failure and share of the processing time.

The jobs come in the order the queue would run them (`selectors.queue_order`, fair across
users), each through the same conditional claim as a job taken from the queue, so no job runs
twice: their own RQ entries later find them claimed and return. One bad file fails alone: decode
errors are per job, and a job whose progress callback raises (a cancel, for instance) leaves the
batch while the others go on. If the engine call itself fails, each job runs again on its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from transcription import audio, postprocess, selectors, services, worker
from transcription.engine import EngineConfig, EngineError, ProgressCallback, get_engine
from transcription.models import Job

logger = logging.getLogger(__name__)


def wanted(job: Job) -> bool:
    """Whether this worker batches and `job` is short enough to lead a batch."""
    short = job.duration is not None and job.duration <= settings.ASR_BATCH_MAX_SECONDS
    return worker.batch_max_jobs > 1 and short


def claim_companions(leader: Job) -> tuple[list[Job], list[Job]]:
    """Claim up to batch_max_jobs - 1 more jobs for `leader`'s batch. Returns (companions, others):
    others were claimed but turned out to need another engine configuration (their profile was
    changed meanwhile), so they run on their own."""
    key = _engine_key(leader)
    companions: list[Job] = []
    others: list[Job] = []
    limit = worker.batch_max_jobs - 1
    for job_id in selectors.batch_candidates(
        job=leader, max_seconds=settings.ASR_BATCH_MAX_SECONDS, limit=limit
    ):
        claimed = services.job_claim(job_id=job_id, device=worker.device, worker_name=worker.name)
        if claimed is None:
            continue  # taken by another worker, cancelled or deleted meanwhile
        job, problem = claimed
        if problem:
            services.job_fail(job=job, message=problem)
        else:
            (companions if _engine_key(job) == key else others).append(job)
    return companions, others


def _engine_key(job: Job) -> tuple:
    return EngineConfig(**job.options["engine"]).load_key()


@dataclass
class _Member:
    job: Job
    samples: np.ndarray
    seconds: float  # this job's own time: decoding and polishing
    error: BaseException | None = field(default=None)  # raised by its progress callback


def transcribe_batch(
    jobs: list[Job],
    *,
    decode: Callable[[Job], np.ndarray],
    progress_for: Callable[[Job], ProgressCallback],
    alone: Callable[[Job], None],
    unexpected: str,
) -> None:
    """Recognise `jobs` (claimed, same engine configuration and options) in one engine call.
    `decode`, `progress_for` and `alone` are the single-job path's own steps (jobs.py), so a batch
    decodes, reports progress and falls back exactly as a lone job does."""
    members = _decoded(jobs, decode, unexpected)
    if not members:
        return
    services.jobs_mark_batched(jobs=[m.job for m in members])
    started = time.monotonic()
    options = members[0].job.options
    phrases = [h["phrase"] for h in options["hotwords"]]
    engine = get_engine(EngineConfig(**options["engine"]))
    try:
        transcripts = engine.transcribe_many(
            [m.samples for m in members],
            hotwords=phrases,
            itn=options["itn"],
            on_progress_each=[_isolated(progress_for(m.job), m) for m in members],
        )
    except EngineError as exc:  # out of memory, say: each job on its own has its own fallbacks
        logger.warning("batch of %d failed (%s): running its jobs one by one", len(members), exc)
        for member in members:
            if member.error is None:
                alone(member.job)
            else:  # out of the batch already (a cancel leaves it as it is: the write is conditional)
                services.job_fail(job=member.job, message=unexpected)
        return
    _finish(members, transcripts, time.monotonic() - started, engine, phrases, unexpected)


def _decoded(jobs: list[Job], decode: Callable[[Job], np.ndarray], unexpected: str) -> list[_Member]:
    """The jobs whose audio decodes; each of the others fails alone, with its own reason."""
    members = []
    for job in jobs:
        started = time.monotonic()
        try:
            samples = decode(job)
        except audio.AudioDecodeError as exc:
            services.job_fail(job=job, message=str(exc), processing_seconds=time.monotonic() - started)
            continue
        except Exception:  # noqa: BLE001 - its file vanished, say: this job fails, not the batch
            logger.exception("job %s: unexpected error while decoding", job.id)
            services.job_fail(job=job, message=unexpected, processing_seconds=time.monotonic() - started)
            continue
        members.append(_Member(job=job, samples=samples, seconds=time.monotonic() - started))
    return members


def _isolated(callback: ProgressCallback, member: _Member) -> ProgressCallback:
    """The job's progress callback, so that what it raises takes that job out of the batch
    instead of stopping the engine call that the other jobs share."""

    def on_progress(done: float, total: float) -> None:
        if member.error is not None:
            return
        try:
            callback(done, total)
        except Exception as exc:  # noqa: BLE001 - whatever it is, it ends this job only
            member.error = exc
            logger.info("job %s leaves its batch: %r", member.job.id, exc)

    return on_progress


def _finish(members, transcripts, engine_seconds: float, engine, phrases: list[str], unexpected: str) -> None:
    """Each job's own result, and its share of the engine's time (by length of audio)."""
    total_audio = sum(m.samples.size for m in members) or 1
    own_itn = members[0].job.options["itn"] and not engine.builtin_itn
    for member, transcript in zip(members, transcripts, strict=True):
        share = engine_seconds * member.samples.size / total_audio
        if member.error is not None:  # a cancel has already failed it; anything else fails it now
            services.job_fail(job=member.job, message=unexpected, processing_seconds=member.seconds + share)
            continue
        started = time.monotonic()
        result = postprocess.polish(transcript, itn=own_itn, hotwords=phrases)
        seconds = member.seconds + share + time.monotonic() - started
        duration = member.samples.size / audio.SAMPLE_RATE
        services.job_finish(job=member.job, result=result, duration=duration, processing_seconds=seconds)

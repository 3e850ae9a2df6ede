"""Running claimed jobs: the one path from a claimed job to its transcript. A lone job is a batch
of one; a worker that batches across jobs (`--batch-max-jobs`) also claims other short queued jobs
that can share the engine call. Either way each job is decoded on its own, in a child process
(media_sandbox: a bad file fails alone and cannot take the worker down), the engine recognises
them all in one `transcribe_many` call with a progress callback per job (which also stops a job
that was cancelled), and each job gets its own result, failure and share of the processing time.
Out of memory, a batch runs again job by job, and a lone job once more with a quarter of the
batch. Every write goes through services.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import signal
import time

import numpy as np
from django.conf import settings
from django.utils.translation import gettext_noop
from rq.timeouts import JobTimeoutException

from transcription import (
    audio,
    calls,
    finish,
    media_sandbox,
    profiles,
    scheduler,
    selectors,
    services,
    worker_process,
)
from transcription.engine import (
    EngineConfig,
    EngineError,
    EngineOutOfMemory,
    JobCancelled,
    ProgressCallback,
    get_engine,
    release_memory,
)
from transcription.finish import Member
from transcription.models import Job
from transcription.progress import Throttle
from transcription.text import join_texts

logger = logging.getLogger(__name__)

# Stored in English, translated when shown (portal/i18n.py).
TIMED_OUT = gettext_noop(
    "Transcription took longer than its time limit and was stopped (see ASR_JOB_TIMEOUT)."
)
SMALLEST_BATCH_S = 10
# How often, at most, a running job asks the database whether it was cancelled meanwhile.
CANCEL_CHECKS_PER_SECOND = 2


def claim_companions(leader: Job) -> tuple[list[Job], list[Job]]:
    """For a worker that batches, when `leader` is short: claim up to batch_max_jobs - 1 more short
    queued jobs that can share its engine call, in the order the queue would run them, with the
    same conditional claim as a job taken from the queue (their own RQ entries later find them
    claimed). Returns (companions, others): others were claimed but need another engine
    configuration (their profile changed meanwhile), so they run on their own."""
    short = leader.duration is not None and leader.duration <= settings.ASR_BATCH_MAX_SECONDS
    if worker_process.batch_max_jobs <= 1 or not short:
        return [], []
    key = engine_config(leader).load_key()
    companions: list[Job] = []
    others: list[Job] = []
    for job_id in scheduler.batch_candidates(
        job=leader, max_seconds=settings.ASR_BATCH_MAX_SECONDS, limit=worker_process.batch_max_jobs - 1
    ):
        job = claim(job_id)
        if job is not None:
            (companions if engine_config(job).load_key() == key else others).append(job)
    return companions, others


def claim(job_id) -> Job | None:
    """Claim a queued job for this worker; None if another took it, or if it cannot run here
    (then it has failed, with a message that says why)."""
    claimed = services.job_claim(job_id=job_id, device=worker_process.device, worker_name=worker_process.name)
    if claimed is None:
        return None  # deleted, cancelled, or taken by another worker
    job, problem = claimed
    if problem:
        services.job_fail(job=job, message=problem)
        return None
    return job


class _AllLeft(Exception):
    """Every job of the engine call has left it: stop recognising for nobody."""


def run(jobs: list[Job]) -> None:
    """Transcribe `jobs` (claimed, one engine configuration and the same options) together. No job
    stays running, whatever happens: each write is conditional on its run, so a job that was
    already finished, cancelled or retried is left as it is."""
    started = time.monotonic()
    try:
        members = [m for m in (decoded(job) for job in jobs) if m is not None]
        if len(members) > 1:
            services.jobs_mark_batched(jobs=[m.job for m in members])
        if members:
            _recognise(members, engine_config(members[0].job))
    except Exception as exc:  # noqa: BLE001 - whatever it was, no job of the run stays "running"
        timed_out = isinstance(exc, JobTimeoutException)
        if not timed_out:
            logger.exception("run of %d job(s): unexpected error", len(jobs))
        for job in jobs:
            message = TIMED_OUT if timed_out else finish.UNEXPECTED
            services.job_fail(job=job, message=message, processing_seconds=_since(started))


def decoded(job: Job) -> Member | None:
    """The job with its samples, or None once it has failed with the reason its file gave."""
    started = time.monotonic()
    try:
        # In a child process with resource limits: a file that crashes or hangs the decoder fails
        # its job with a sentence, and this worker and its model carry on. A call: each channel.
        layout = calls.roles(job.options)
        channels = calls.gated([_decode(job, channel) for channel in range(len(layout))]) if layout else []
        samples = calls.mixed(channels) if channels else _decode(job, None)
    except audio.AudioDecodeError as exc:
        services.job_fail(job=job, message=str(exc), processing_seconds=_since(started))
        return None
    except Exception:  # noqa: BLE001 - its file vanished, say: this job fails, not the others
        logger.exception("job %s: unexpected error while decoding", job.id)
        services.job_fail(job=job, message=finish.UNEXPECTED, processing_seconds=_since(started))
        return None
    return Member(job=job, samples=samples, seconds=_since(started), channels=channels)


def _decode(job: Job, channel: int | None) -> np.ndarray:
    limits = {
        "max_seconds": settings.ASR_MAX_AUDIO_SECONDS,
        "max_decoded_bytes": settings.ASR_MAX_DECODED_BYTES,
    }
    return media_sandbox.decode_isolated(job.audio.path, channel=channel, **limits)


def _recognise(members: list[Member], config: EngineConfig, *, may_shrink: bool = True) -> None:
    """One engine call for all members, then each one's result. Out of memory, a batch goes again
    job by job, and a lone job once more with a quarter of the batch, in the same worker and with
    the same model. Any other engine error fails a lone job with its message, and sends a batch's
    jobs through on their own, so that one recording cannot fail the others."""
    options = members[0].job.options
    phrases = [h["phrase"] for h in options["hotwords"]]
    engine = get_engine(config)
    _crash_for_tests(members)
    started = time.monotonic()
    inputs, callbacks = _engine_inputs(members)
    recognise = functools.partial(
        engine.transcribe_many,
        hotwords=phrases,
        itn=options["itn"],
        recognition=profiles.recognition(options),
    )
    try:
        if members[0].channels:  # a call runs alone: its channels one by one, as recordings
            heard = calls.one_by_one(recognise, inputs, callbacks)
        else:
            heard = recognise(inputs, on_progress_each=callbacks)
        transcripts = _per_member(members, heard)
    except _AllLeft:
        transcripts = [None] * len(members)
    except EngineError as exc:
        if len(members) > 1:
            logger.warning("batch of %d failed (%s): running its jobs one by one", len(members), exc)
            for member in members:
                _alone(member, config)
            return
        if may_shrink and isinstance(exc, EngineOutOfMemory) and config.batch_size_s > SMALLEST_BATCH_S:
            _recognise(members, smaller(config), may_shrink=False)
            return
        seconds = members[0].seconds + _since(started)
        services.job_fail(job=members[0].job, message=str(exc), processing_seconds=seconds)
        return
    own_itn = options["itn"] and not engine.builtin_itn
    finish.finish_each(members, transcripts, _since(started), itn=own_itn, hotwords=phrases)


def _engine_inputs(members: list[Member]) -> tuple[list[np.ndarray], list[ProgressCallback]]:
    """A job's samples, or each channel of a call, with a progress callback each (summed per job)."""
    inputs: list[np.ndarray] = []
    callbacks: list[ProgressCallback] = []
    for member in members:
        callback = _isolated(progress_for(member.job), member, members)
        inputs += member.channels or [member.samples]
        channels = len(member.channels)
        callbacks += calls.progress_per_channel(callback, channels) if channels else [callback]
    return inputs, callbacks


def _per_member(members: list[Member], transcripts: list) -> list:
    """The engine's transcripts, one per job again: a call's channels joined into one conversation."""
    out, at = [], 0
    for member in members:
        parts = transcripts[at : at + (len(member.channels) or 1)]
        at += len(parts)
        out.append(calls.joined(parts, join=join_texts) if member.channels else parts[0])
    return out


def _alone(member: Member, config: EngineConfig) -> None:
    if member.left is None:
        _recognise([member], config)
    elif not isinstance(member.left, JobCancelled):  # a cancel has written the job's end already
        services.job_fail(job=member.job, message=finish.UNEXPECTED)


def smaller(config: EngineConfig) -> EngineConfig:
    release_memory()
    smaller = dataclasses.replace(config, batch_size_s=max(SMALLEST_BATCH_S, config.batch_size_s // 4))
    logger.warning("out of memory at batch %d s: retrying at %d s", config.batch_size_s, smaller.batch_size_s)
    return smaller


def progress_for(job: Job, report: ProgressCallback | None = None) -> ProgressCallback:
    """The job's progress callback: throttled progress events (`report`, by default the job's
    own), and JobCancelled once the job's run no longer stands (cancelled, deleted, or re-queued
    to another worker), so the engine stops within one segment or clip instead of finishing work
    whose result would be thrown away."""
    if report is None:
        report = functools.partial(_job_progress, job)
    progress_throttle = Throttle(settings.ASR_PROGRESS_PER_SECOND)
    cancel_throttle = Throttle(CANCEL_CHECKS_PER_SECOND)

    def on_progress(done: float, total: float) -> None:
        if cancel_throttle.ready() and not selectors.job_run_stands(
            user=job.owner, job_id=job.id, attempt=job.attempt
        ):
            raise JobCancelled(f"recognition stopped at {done:.1f} of {total:.1f} s of audio")
        if progress_throttle.ready(final=done >= total):
            report(done, total)

    return on_progress


def _job_progress(job: Job, done: float, total: float) -> None:
    services.job_progress(job=job, seconds_done=done, seconds_total=total)


def _isolated(callback: ProgressCallback, member: Member, members: list[Member]) -> ProgressCallback:
    """The job's callback, so that what it raises takes that job out of the engine call instead
    of stopping the call the other jobs share; once every job has left, the call stops."""

    def on_progress(done: float, total: float) -> None:
        if member.left is not None:
            return
        try:
            callback(done, total)
        except JobTimeoutException:  # the whole run's time is up: not this job's doing
            raise
        except Exception as exc:  # noqa: BLE001 - whatever it is, it ends this job only
            member.left = exc
            logger.info("job %s leaves the engine call: %r", member.job.id, exc)
            if all(m.left is not None for m in members):
                raise _AllLeft from exc

    return on_progress


def _crash_for_tests(members: list[Member]) -> None:
    """Test-only (ASR_TEST_CRASH_MARKER, never set in production): a native crash of the worker
    on a marked file, so that what follows a worker's death is tested with a real one."""
    marker = settings.ASR_TEST_CRASH_MARKER
    if marker and any(marker in m.job.original_name for m in members):
        os.kill(os.getpid(), signal.SIGSEGV)


def engine_config(job: Job) -> EngineConfig:
    return EngineConfig(**job.options["engine"])


def _since(started: float) -> float:
    return time.monotonic() - started

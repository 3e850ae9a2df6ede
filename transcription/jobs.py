"""RQ job functions. Each takes ids only and leaves every write to services."""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np
from django.conf import settings
from django.utils.translation import gettext_noop
from rq.timeouts import JobTimeoutException

from portal.logs import job_context
from transcription import audio, batching, postprocess, selectors, services, worker
from transcription.engine import (
    EngineConfig,
    EngineError,
    EngineOutOfMemory,
    JobCancelled,
    ProgressCallback,
    get_engine,
    release_memory,
)
from transcription.progress import Throttle

logger = logging.getLogger(__name__)

# Stored in English, translated when shown (portal/i18n.py).
UNEXPECTED = gettext_noop(
    "Transcription failed unexpectedly. An administrator can find the details in the worker log."
)
TIMED_OUT = gettext_noop(
    "Transcription took longer than its time limit and was stopped (see ASR_JOB_TIMEOUT)."
)
SMALLEST_BATCH_S = 10


def transcribe(job_id: str) -> None:
    with job_context(job_id):  # every log line of this job carries its id
        _transcribe(job_id)


def _transcribe(job_id: str) -> None:
    claimed = services.job_claim(job_id=job_id, device=worker.device, worker_name=worker.name)
    if claimed is None:
        return  # deleted, or already taken by another worker
    job, problem = claimed
    if problem:
        services.job_fail(job=job, message=problem)
        return
    companions, others = batching.claim_companions(job) if batching.wanted(job) else ([], [])
    if companions:
        _run_batch([job, *companions])
    else:
        _run(job)
    for other in others:  # claimed for the batch, but with another engine configuration
        _run(other)


def _run(job) -> None:
    started = time.monotonic()
    try:
        samples = _decode(job)
        on_progress = _progress_for(job)
        result = _recognise(EngineConfig(**job.options["engine"]), samples, job.options, on_progress)
        duration, elapsed = len(samples) / audio.SAMPLE_RATE, time.monotonic() - started
        services.job_finish(job=job, result=result, duration=duration, processing_seconds=elapsed)
    except (audio.AudioDecodeError, EngineError) as exc:
        services.job_fail(job=job, message=str(exc), processing_seconds=time.monotonic() - started)
    except JobTimeoutException:
        services.job_fail(job=job, message=TIMED_OUT, processing_seconds=time.monotonic() - started)
    except JobCancelled as exc:  # the cancel already wrote the job's end: nothing left to write
        logger.info(
            "job %s: cancelled while running, %s after %.1f s", job.id, exc, time.monotonic() - started
        )
    except Exception:  # whatever it was, the job must not stay "running"
        logger.exception("job %s: unexpected error", job.id)
        services.job_fail(job=job, message=UNEXPECTED, processing_seconds=time.monotonic() - started)


def _run_batch(jobs: list) -> None:
    """Batching across jobs (transcription/batching.py), with the same steps as `_run`."""
    started = time.monotonic()
    try:
        batching.transcribe_batch(
            jobs, decode=_decode, progress_for=_progress_for, alone=_run, unexpected=UNEXPECTED
        )
    except Exception as exc:  # noqa: BLE001 - whatever it was, no job of the batch stays "running"
        timed_out = isinstance(exc, JobTimeoutException)
        if not timed_out:
            logger.exception("batch of %d jobs: unexpected error", len(jobs))
        for job in jobs:  # a job already finished or failed is left as it is (conditional writes)
            message = TIMED_OUT if timed_out else UNEXPECTED
            services.job_fail(job=job, message=message, processing_seconds=time.monotonic() - started)


def _decode(job) -> np.ndarray:
    return audio.decode(
        job.audio.path,
        max_seconds=settings.ASR_MAX_AUDIO_SECONDS,
        max_decoded_bytes=settings.ASR_MAX_DECODED_BYTES,
    )


def _progress_for(job) -> ProgressCallback:
    """The job's progress callback: throttled progress events, and a stop once it is cancelled.
    A lone job and each job of a batch get the same."""
    throttle = Throttle(settings.ASR_PROGRESS_PER_SECOND)

    def on_progress(done: float, total: float) -> None:
        if throttle.ready(final=done >= total):
            services.job_progress(job=job, seconds_done=done, seconds_total=total)

    return _stop_when_cancelled(job, on_progress)


# How often, at most, a running job asks the database whether it was cancelled meanwhile.
CANCEL_CHECKS_PER_SECOND = 2


def _stop_when_cancelled(job, on_progress: ProgressCallback) -> ProgressCallback:
    """`on_progress`, which also raises JobCancelled once the job's run no longer stands (cancelled,
    deleted, or re-queued to another worker): the engine stops within one segment or clip instead
    of finishing work whose result would be thrown away, and the worker takes its next job."""
    throttle = Throttle(CANCEL_CHECKS_PER_SECOND)

    def checked(done: float, total: float) -> None:
        if throttle.ready() and not selectors.job_run_stands(
            user=job.owner, job_id=job.id, attempt=job.attempt
        ):
            raise JobCancelled(f"recognition stopped at {done:.1f} of {total:.1f} s of audio")
        on_progress(done, total)

    return checked


def _recognise(config: EngineConfig, samples: np.ndarray, options: dict, on_progress) -> postprocess.Result:
    """Run the engine, then ITN (unless the model did it) and hotword correction. Out of memory,
    try once more with a quarter of the batch, in the same worker and with the same model."""
    phrases = [h["phrase"] for h in options["hotwords"]]
    kwargs = {"hotwords": phrases, "itn": options["itn"], "on_progress": on_progress}
    engine = get_engine(config)
    try:
        transcript = engine.transcribe(samples, **kwargs)
    except EngineOutOfMemory:
        if config.batch_size_s <= SMALLEST_BATCH_S:
            raise
        release_memory()
        smaller = dataclasses.replace(config, batch_size_s=max(SMALLEST_BATCH_S, config.batch_size_s // 4))
        logger.warning(
            "out of memory at batch %d s: retrying at %d s", config.batch_size_s, smaller.batch_size_s
        )
        engine = get_engine(smaller)
        transcript = engine.transcribe(samples, **kwargs)
    own_itn = options["itn"] and not engine.builtin_itn
    return postprocess.polish(transcript, itn=own_itn, hotwords=phrases)

"""RQ job functions. Each takes ids only and leaves every write to services."""

from __future__ import annotations

import dataclasses
import logging
import time

import numpy as np
from django.conf import settings
from rq.timeouts import JobTimeoutException

from portal.logs import job_context
from transcription import audio, postprocess, services, worker
from transcription.engine import (
    EngineConfig,
    EngineError,
    EngineOutOfMemory,
    get_engine,
    release_memory,
)
from transcription.progress import Throttle

logger = logging.getLogger(__name__)

UNEXPECTED = "Transcription failed unexpectedly. An administrator can find the details in the worker log."
TIMED_OUT = "Transcription took longer than its time limit and was stopped (see ASR_JOB_TIMEOUT)."
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
    started, throttle = time.monotonic(), Throttle(settings.ASR_PROGRESS_PER_SECOND)

    def on_progress(done: float, total: float) -> None:
        if throttle.ready(final=done >= total):
            services.job_progress(job=job, seconds_done=done, seconds_total=total)

    try:
        samples = audio.decode(job.audio.path, max_seconds=settings.ASR_MAX_AUDIO_SECONDS)
        result = _recognise(EngineConfig(**job.options["engine"]), samples, job.options, on_progress)
        duration, elapsed = len(samples) / audio.SAMPLE_RATE, time.monotonic() - started
        services.job_finish(job=job, result=result, duration=duration, processing_seconds=elapsed)
    except (audio.AudioDecodeError, EngineError) as exc:
        services.job_fail(job=job, message=str(exc), processing_seconds=time.monotonic() - started)
    except JobTimeoutException:
        services.job_fail(job=job, message=TIMED_OUT, processing_seconds=time.monotonic() - started)
    except Exception:  # whatever it was, the job must not stay "running"
        logger.exception("job %s: unexpected error", job_id)
        services.job_fail(job=job, message=UNEXPECTED, processing_seconds=time.monotonic() - started)


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

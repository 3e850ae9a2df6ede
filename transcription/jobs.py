"""RQ job functions. Each takes ids only and leaves every write to services."""

from __future__ import annotations

import logging
import time

from django.conf import settings

from transcription import audio, services, worker
from transcription.engine import EngineConfig, EngineError, get_engine
from transcription.progress import Throttle

logger = logging.getLogger(__name__)

UNEXPECTED = "Transcription failed unexpectedly. An administrator can find the details in the worker log."


def transcribe(job_id: str) -> None:
    claimed = services.job_claim(job_id=job_id, device=worker.device)
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
        engine = get_engine(EngineConfig(**job.options["engine"]))
        result = engine.transcribe(
            samples, hotwords=job.options["hotwords"], itn=job.options["itn"], on_progress=on_progress
        )
    except (audio.AudioDecodeError, EngineError) as exc:
        services.job_fail(job=job, message=str(exc), processing_seconds=time.monotonic() - started)
        return
    except Exception:
        logger.exception("job %s: unexpected error", job_id)
        services.job_fail(job=job, message=UNEXPECTED, processing_seconds=time.monotonic() - started)
        return
    duration = len(samples) / audio.SAMPLE_RATE
    services.job_finish(
        job=job, transcript=result, duration=duration, processing_seconds=time.monotonic() - started
    )

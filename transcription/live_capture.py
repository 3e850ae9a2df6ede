"""Every write of a live session (issue 20): its job, its recording as the audio arrives, and its
end, when it becomes a normal job.

A live session is a `Job` in status `recording` from its first second. Its recording is a WAV file
at the job's usual place (`audio/<user>/<job id>.wav`, 16 kHz mono 16-bit), appended to by the web
process as each frame arrives, before anything else is done with the frame: a tab closed, a
dropped connection or a live captioning worker killed loses nothing already sent. When the user
stops (or the session is left unattended for ASR_LIVE_RESUME_SECONDS: `live_sweep`), the header
gets its sizes and the job goes to the queue like an upload, so its transcript is made by the
profile's offline path over the whole recording.

Which socket holds a session is a Redis key with a TTL that the socket renews (`live_hold`): a
session whose key lapsed has no socket left, and a new socket may take it over (the page
reconnecting) or the sweep ends it.
"""

from __future__ import annotations

import logging
import os
import struct
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hotwords.models import HotwordList
from portal import queues
from quotas import services as quota_services
from transcription import progress, scheduler, selectors
from transcription.engine.interface import SAMPLE_RATE
from transcription.models import EngineProfile, Job

logger = logging.getLogger(__name__)

Status = Job.Status
HEADER_BYTES = 44
SAMPLE_BYTES = 2  # 16-bit PCM, little-endian
HOLD_KEY = "portal:live:{job_id}"
MIN_SECONDS = 0.5  # a session stopped with less than this is not worth a job


def wav_header(data_bytes: int) -> bytes:
    """A canonical 44-byte header for 16 kHz mono 16-bit PCM with `data_bytes` of samples."""
    rate, channels, bits = SAMPLE_RATE, 1, 8 * SAMPLE_BYTES
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + data_bytes, b"WAVE", b"fmt ", 16, 1, channels, rate,
        rate * channels * bits // 8, channels * bits // 8, bits, b"data", data_bytes,
    )  # fmt: skip


def live_start(
    *,
    owner,
    profile: EngineProfile,
    job_id: uuid.UUID | None = None,
    hotwords: Sequence[str] = (),
    hotword_lists: Sequence[HotwordList] = (),
    itn: bool | None = None,
    language: str = "",
    recognition: dict | None = None,
    name: str = "",
) -> Job:
    """A live session's job, in status `recording`, with an empty recording on disk. The options are
    an upload's (hotwords snapshot, ITN, language, `recognition`: speakers and other apps' extras),
    so the job runs as one when the session ends."""
    options, lists = selectors.new_job_options(
        user=owner, profile=profile, hotwords=hotwords, hotword_lists=hotword_lists, itn=itn,
        language=language, recognition=recognition,
    )  # fmt: skip
    job_id = job_id or uuid.uuid4()
    started = timezone.localtime()
    with transaction.atomic():
        job = Job(
            id=job_id,
            owner=owner,
            status=Status.RECORDING,
            original_name=(name or f"Live {started:%Y-%m-%d %H:%M}")[:255],
            profile=profile,
            engine=profile.engine,
            started_at=started,
            options={**options, "live": True},
        )
        job.audio.name = f"audio/{owner.pk}/{job_id}.wav"
        path = Path(settings.MEDIA_ROOT) / job.audio.name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(wav_header(0))
        job.save()
        job.hotword_lists.set(lists)
    progress.send_job_update(job)
    logger.info("live session %s started for user %s", job.id, owner.pk)
    return job


class Recording:
    """A live job's recording, open for appending. Frames carry the sample offset they start at,
    so a frame sent again after a reconnection is written once, and a gap is noticed, never glued."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.file = open(path, "ab")  # noqa: SIM115 - open for the socket's life, closed by close()
        self.stored = max(0, self.file.tell() - HEADER_BYTES) // SAMPLE_BYTES

    def append(self, offset: int, pcm: bytes) -> bytes:
        """Write what of `pcm` (starting at sample `offset`) is not stored yet; returns the part
        written (b"" for a repeat). ValueError for a frame past the end: samples are missing."""
        if offset > self.stored:
            raise ValueError(f"a frame at sample {offset}, but only {self.stored} are stored")
        new = pcm[(self.stored - offset) * SAMPLE_BYTES :]
        new = new[: len(new) - len(new) % SAMPLE_BYTES]
        if new:
            self.file.write(new)
            self.file.flush()  # to the kernel: a killed web process loses nothing written
            self.stored += len(new) // SAMPLE_BYTES
        return new

    def close(self) -> None:
        self.file.close()


def recording_path(job: Job) -> Path:
    return Path(settings.MEDIA_ROOT) / job.audio.name


def live_hold(*, job_id, holder: str, seconds: int) -> None:
    """Mark the session as held by the socket `holder` for `seconds` more."""
    queues.connection().set(HOLD_KEY.format(job_id=job_id), holder, ex=seconds)


def live_holder(*, job_id) -> str:
    value = queues.connection().get(HOLD_KEY.format(job_id=job_id))
    return value.decode() if value else ""


def live_finish(*, job: Job) -> Job | None:
    """End the session: the header gets its sizes and the job goes to the queue, on commit, like
    an upload (`recording` → `queued`, conditional: only one caller ends it). A session stopped
    before MIN_SECONDS of audio is deleted instead (None)."""
    path = recording_path(job)
    data = max(0, path.stat().st_size - HEADER_BYTES) if path.exists() else 0
    data -= data % SAMPLE_BYTES
    seconds = data / SAMPLE_BYTES / SAMPLE_RATE
    with transaction.atomic():
        rows = Job.objects.filter(id=job.id, status=Status.RECORDING)
        if seconds < MIN_SECONDS:
            rows.delete()  # its recording goes on commit (receivers.py)
            logger.info("live session %s ended with %.1f s: deleted", job.id, seconds)
            return None
        with open(path, "r+b") as recording:
            recording.truncate(HEADER_BYTES + data)
            recording.write(wav_header(data))
        fields = {"status": Status.QUEUED, "duration": seconds, "size_bytes": HEADER_BYTES + data}
        if not rows.update(**fields, queued_at=timezone.now()):
            return None
        quota_services.usage_update(job_id=job.id, seconds=seconds, size_bytes=HEADER_BYTES + data)
        scheduler.dispatch_on_commit(job.options["queue"])
    queues.connection().delete(HOLD_KEY.format(job_id=job.id))
    job.refresh_from_db()
    progress.send_job_update(job)
    logger.info("live session %s ended: %.1f s queued", job.id, seconds)
    return job


def live_sweep() -> list[str]:
    """End every session no socket has held for a while (the tab closed, the web process died,
    the page never came back): their recordings become jobs. Runs with reconcile."""
    cutoff = timezone.now() - timedelta(seconds=settings.ASR_LIVE_RESUME_SECONDS)
    ended = []
    for job in Job.objects.filter(status=Status.RECORDING, started_at__lt=cutoff):
        if not live_holder(job_id=job.id) and live_finish(job=job) is not None:
            ended.append(str(job.id))
            logger.warning("live session %s ended: no socket held it", job.id)
    return ended

"""One long recording across many workers. The worker that claims a long job, when other workers
of its queue are alive, decodes it once, keeps the samples beside the upload, cuts them in pauses
(speech_cuts) into chunks that any worker of the queue can take (chunks.py: a row and an RQ entry
each, at the front of the queue, claimed with a conditional update), and takes chunks itself
until none is left; so does every worker that takes one. Each chunk is recognised on its own with
the job's engine configuration, hotwords and options. The job's progress is the sum of its
chunks', and a cancel stops them all (each chunk's progress callback asks whether the job's run
still stands). The last chunk to finish stitches the transcripts in order and finishes the job as
runner.py does (finish.py): speakers are told apart over the whole recording, so they are the
same people across chunks, and the text stage runs once. A chunk whose worker dies goes back to
the queue (upkeep.reconcile); the job itself is re-queued only when no worker is left on it.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from pathlib import Path

import numpy as np
from django.conf import settings
from rq.timeouts import JobTimeoutException

from portal import queues
from transcription import (
    audio,
    calls,
    chunks,
    finish,
    profiles,
    runner,
    services,
    speech_cuts,
    worker_process,
    worker_registry,
)
from transcription.engine import (
    SEGMENT_METADATA_KEYS,
    EngineConfig,
    EngineError,
    EngineOutOfMemory,
    JobCancelled,
    Segment,
    Transcript,
    Word,
    get_engine,
)
from transcription.models import Job, JobChunk
from transcription.text import join_texts

logger = logging.getLogger(__name__)

SAMPLE_RATE = audio.SAMPLE_RATE


def parts_for(job: Job) -> int:
    """How many chunks to cut the claimed `job` into; below 2, none. Cut when chunking is on
    (ASR_CHUNK_SECONDS), the header says the recording is at least that long, it is neither a
    call nor set to run alone, and two or more workers serve its queue: a multiple of those
    workers, about ASR_CHUNK_SECONDS each, so that every worker gets the same share."""
    chunk_s = settings.ASR_CHUNK_SECONDS
    if not chunk_s or job.duration is None or job.duration < chunk_s:
        return 0
    if calls.roles(job.options) or job.options.get("alone"):
        return 0
    workers = _workers_on(job.options["queue"])
    if workers < 2:
        return 0
    return workers * max(1, round(job.duration / (workers * chunk_s)))


def _workers_on(queue: str) -> int:
    return sum(1 for w in worker_registry.list_all(queues.connection()) if w.get("queue") == queue)


def cut_and_work(job: Job, parts: int) -> None:
    """Decode the claimed job, cut it into `parts` chunks for every worker of its queue, then
    recognise chunks here until none is left."""
    member = runner.decoded(job)  # a file that cannot be decoded has failed its job already
    if member is None:
        return
    try:
        path = samples_path(job)
        member.samples.astype(np.float32, copy=False).tofile(path)
        spans = speech_cuts.spans(member.samples, parts)
        seconds = [(a / SAMPLE_RATE, b / SAMPLE_RATE) for a, b in spans]
        created = chunks.chunks_create(job=job, spans=seconds, decode_seconds=member.seconds)
    except Exception:  # noqa: BLE001 - a full disk, say: the job fails with a sentence
        logger.exception("job %s: could not cut it into chunks", job.id)
        services.job_fail(job=job, message=finish.UNEXPECTED, processing_seconds=member.seconds)
        forget(job)
        return
    if not created:
        forget(job)  # cancelled meanwhile
        return
    work(chunks.chunk_claim_next(job=job, worker_name=worker_process.name))


def work(chunk: JobChunk | None) -> None:
    """Recognise `chunk`, then the job's other chunks nobody has taken, until none is left or the
    job's run is over."""
    while chunk is not None and _recognise(chunk):
        chunk = chunks.chunk_claim_next(job=chunk.job, worker_name=worker_process.name)


def _recognise(chunk: JobChunk) -> bool:
    """One chunk through the engine, kept; the job stitched if it was the last. False when the
    job's run ended (cancelled, failed here or elsewhere)."""
    job, started = chunk.job, time.monotonic()
    try:
        samples = _samples(job, chunk.start, chunk.end)
        try:
            transcript = _heard(chunk, samples, _config(job))
        except EngineOutOfMemory:  # as runner.py does: once more, with a quarter of the batch
            transcript = _heard(chunk, samples, runner.smaller(_config(job)))
        kept = _shifted(transcript, chunk.start)
        if chunks.chunk_finish(chunk=chunk, transcript=kept, processing_seconds=_since(started)):
            _stitch(job)
        return True
    except JobCancelled as exc:
        logger.info("job %s: chunk %d stopped (%s)", job.id, chunk.index, exc)
    except EngineError as exc:
        services.job_fail(job=job, message=str(exc))
    except Exception as exc:  # noqa: BLE001 - whatever it was, the job does not stay "running"
        timed_out = isinstance(exc, JobTimeoutException)
        if not timed_out:
            logger.exception("job %s: chunk %d failed unexpectedly", job.id, chunk.index)
        services.job_fail(job=job, message=runner.TIMED_OUT if timed_out else finish.UNEXPECTED)
    forget(job)
    return False


def _heard(chunk: JobChunk, samples: np.ndarray, config: EngineConfig) -> Transcript:
    options = chunk.job.options
    report = lambda done, total: chunks.chunk_progress(chunk=chunk, seconds_done=done)  # noqa: E731
    [transcript] = get_engine(config).transcribe_many(
        [samples],
        hotwords=[h["phrase"] for h in options["hotwords"]],
        itn=options["itn"],
        recognition=profiles.recognition(options),
        on_progress_each=[runner.progress_for(chunk.job, report)],
    )
    return transcript


def _stitch(job: Job) -> None:
    """Every chunk is done: their transcripts in order become the job's, finished as any job's is
    (speakers over the whole recording, the text stage once)."""
    started = time.monotonic()
    done = chunks.chunks_done(job=job)
    segments = [_segment(entry) for chunk in done for entry in chunk.transcript["segments"]]
    heard = Counter()
    for chunk in done:  # the language heard over the most audio, as for a batch's jobs
        heard[chunk.transcript["language"]] += chunk.end - chunk.start
    transcript = Transcript(
        text=join_texts(chunk.transcript["text"] for chunk in done),
        segments=segments,
        language=heard.most_common(1)[0][0] if heard else "",
    )
    config = _config(job)
    phrases = [h["phrase"] for h in job.options["hotwords"]]
    own_itn = job.options["itn"] and not get_engine(config).builtin_itn
    # Mapped, not read: only diarization, when asked, reads the samples.
    samples = np.memmap(samples_path(job), dtype=np.float32, mode="r")
    decode_seconds = job.options.get("chunked", {}).get("decode_seconds", 0.0)
    member = finish.Member(job=job, samples=samples, seconds=decode_seconds + _since(started))
    # The time every worker gave the job, summed: what it cost, not how long it took.
    engine_seconds = sum(chunk.processing_seconds for chunk in done)
    finish.finish_each([member], [transcript], engine_seconds, itn=own_itn, hotwords=phrases)
    forget(job)


def _config(job: Job) -> EngineConfig:
    """The job's engine configuration on this worker's device (the claiming worker's may differ)."""
    config = runner.engine_config(job)
    return dataclasses.replace(config, device=worker_process.device) if worker_process.device else config


def samples_path(job: Job) -> Path:
    """The decoded recording of the job's run, beside its upload (float32, 16 kHz mono): every
    worker of the job reads its chunks from there. Shared storage is already what several
    machines need for the uploads themselves."""
    upload = Path(job.audio.path)
    return upload.with_name(f"{job.id}.samples-{job.attempt}.f32")


def forget(job: Job) -> None:
    """The samples are no longer needed (the job ended). Chunks still being read elsewhere keep
    their mapping: an unlinked file lives on while open."""
    samples_path(job).unlink(missing_ok=True)


def _samples(job: Job, start: float, end: float) -> np.ndarray:
    mapped = np.memmap(samples_path(job), dtype=np.float32, mode="r")
    return np.array(mapped[int(round(start * SAMPLE_RATE)) : int(round(end * SAMPLE_RATE))])


def _shifted(transcript: Transcript, offset: float) -> dict:
    """The chunk's transcript as kept in its row, on the whole recording's timeline."""
    entries = []
    for entry in transcript.segments_as_dicts():
        entry["start"], entry["end"] = entry["start"] + offset, entry["end"] + offset
        for word in entry.get("words", ()):
            word["start"], word["end"] = word["start"] + offset, word["end"] + offset
        entries.append(entry)
    return {"text": transcript.text, "language": transcript.language, "segments": entries}


def _segment(entry: dict) -> Segment:
    words = entry.get("words")
    return Segment(
        start=entry["start"],
        end=entry["end"],
        text=entry["text"],
        words=[Word(**word) for word in words] if words is not None else None,
        metadata={key: entry[key] for key in SEGMENT_METADATA_KEYS if key in entry},
    )


def _since(started: float) -> float:
    return time.monotonic() - started

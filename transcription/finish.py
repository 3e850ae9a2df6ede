"""Finishing recognised jobs, however they were recognised (runner.py: a job or a batch in one
engine call; chunked.py: a long job's chunks on several workers, stitched back): speakers if the
job asked, the Chinese text stage, and the job's end with its share of the processing time."""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field

import numpy as np
from django.utils.translation import gettext_noop

from transcription import (
    audio,
    calls,
    diarize,
    postprocess,
    profiles,
    selectors,
    services,
    speaker_turns,
    speakers,
)
from transcription.engine import JobCancelled, Transcript
from transcription.models import Job
from transcription.text import join_texts

logger = logging.getLogger(__name__)

# Stored in English, translated when shown (portal/i18n.py).
UNEXPECTED = gettext_noop(
    "Transcription failed unexpectedly. An administrator can find the details in the worker log."
)


@dataclass
class Member:
    """One job of a run: its samples, its own time (decoding, polishing) and, once its progress
    callback raised (a cancel), why it left the run."""

    job: Job
    samples: np.ndarray  # mono: what the job's length, diarization and the player go by
    seconds: float
    left: BaseException | None = field(default=None)
    channels: list[np.ndarray] = field(default_factory=list)  # a call's, each recognised on its own


def finish_each(members: list[Member], transcripts, engine_seconds: float, *, itn: bool, hotwords) -> None:
    """Each job's own result, and its share of the engine's time (by length of audio)."""
    total_audio = sum(m.samples.size for m in members) or 1
    for member, transcript in zip(members, transcripts, strict=True):
        share = engine_seconds * member.samples.size / total_audio
        if member.left is not None:
            if not isinstance(member.left, JobCancelled):  # a cancel has written the job's end
                services.job_fail(
                    job=member.job, message=UNEXPECTED, processing_seconds=member.seconds + share
                )
            else:
                logger.info("job %s: cancelled while running (%s)", member.job.id, member.left)
            continue
        started = time.monotonic()
        transcript, people = _diarized(member, transcript)
        # Chinese in Simplified characters first (Whisper may answer in Traditional): ITN, hotwords
        # and the stored raw text all see Simplified.
        result = dataclasses.replace(
            postprocess.polish(transcript, itn=itn, hotwords=hotwords), speakers=people
        )
        services.job_finish(
            job=member.job,
            result=result,
            duration=member.samples.size / audio.SAMPLE_RATE,
            processing_seconds=member.seconds + share + _since(started),
        )


def _diarized(member: Member, transcript: Transcript) -> tuple[Transcript, dict]:
    """Who spoke when, if the job asked (options["diarize"]), and Job.speakers, named where voice
    profiles know them. The transcript stands without speakers if diarization fails."""
    wanted = member.job.options.get("diarize")
    if member.channels:  # a call: its channels say who spoke; voices only to know the people
        people = _named(member, calls.voices(member.channels, transcript, profiles.speaker_model_dir()))
        return transcript, calls.with_roles(people, calls.roles(member.job.options))
    if not wanted or not transcript.segments:
        return transcript, {}
    try:
        speech = [(s.start, s.end) for s in transcript.segments]
        embedder = diarize.get_embedder(profiles.speaker_model_dir())
        found = diarize.diarize(member.samples, speech, speakers=wanted.get("speakers", 0), embedder=embedder)
        labelled, voices = speaker_turns.label(transcript, found, join=join_texts)
    except Exception:  # noqa: BLE001 - a missing speaker model, say: the transcript is kept
        logger.exception("job %s: diarization failed; the transcript is kept without speakers", member.job.id)
        return transcript, {}
    return labelled, _named(member, voices)


def _named(member: Member, voices: dict) -> dict:
    """Job.speakers for `voices` (key -> embedding): the owner's voice profiles name those they know."""
    profiles_ = {p.pk: p for p in selectors.voice_profile_list(user=member.job.owner)}
    known = speaker_turns.identify(voices, [(pk, np.asarray(p.embedding)) for pk, p in profiles_.items()])
    matched = {key: (profiles_[pk], similarity) for key, (pk, similarity) in known.items()}
    return speakers.job_speakers(voices, matched)


def _since(started: float) -> float:
    return time.monotonic() - started

"""A job's speakers: what diarization found (`Job.speakers`, `{"S1": {"name": ""}, ...}` in order of
first appearance, and a `"speaker"` key on each segment), how they are shown (a name the user gave,
else "Speaker 1"), their talk time, and the user's edits (rename, merge, move a segment): the
writes here follow services.py's rules (keyword-only, atomic, the row locked)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from transcription.models import Job, VoiceProfile
from transcription.speaker_turns import number

logger = logging.getLogger(__name__)

MAX_NAME = 80
PALETTE_SIZE = 8  # speaker colours in the pages: static/portal.css .speaker-1 ... .speaker-8
NO_VOICE = gettext_noop("This speaker's voice was not kept: transcribe the recording again to remember it.")
NOT_DIARIZED = gettext_noop("This transcript has no speakers to edit.")
UNKNOWN_SPEAKER = gettext_noop("There is no such speaker in this transcript.")
EMPTY_NAME = gettext_noop("A speaker's name cannot be empty.")


@dataclass(frozen=True)
class Speaker:
    key: str  # "S1"
    name: str  # as shown: the user's name for them, or "Speaker 1"
    number: int  # 1-based, in order of first appearance
    seconds: float  # talk time: the length of their segments
    share: float  # of all talk time, 0..1
    profile: int | None = None  # the voice profile that named them, when one did
    confidence: float | None = None  # how close their voice was to that profile's, 0..1
    role: str = ""  # a call's side, "agent" or "customer" (calls.py)

    @property
    def talk_time(self) -> str:
        minutes, seconds = divmod(round(self.seconds), 60)
        return f"{minutes}:{seconds:02d}"

    @property
    def percent(self) -> int:
        return round(self.share * 100)

    @property
    def recognised(self) -> bool:
        """Named by a voice profile's match (not by the user)."""
        return self.profile is not None and self.confidence is not None and self.confidence < 1

    @property
    def confidence_percent(self) -> int:
        return round((self.confidence or 0) * 100)

    @property
    def colour(self) -> int:
        """1..PALETTE_SIZE: the CSS class the pages colour this speaker with."""
        return (self.number - 1) % PALETTE_SIZE + 1


# A call's sides (calls.py), shown until the user names them.
ROLE_NAMES = {"agent": gettext_noop("Agent"), "customer": gettext_noop("Customer")}


def display_name(speakers: dict, key: str) -> str:
    """The name shown for `key`: the user's, else a call's side ("Agent"), else "Speaker N", in the
    user's language."""
    entry = speakers.get(key) or {}
    if entry.get("name"):
        return entry["name"]
    if entry.get("role") in ROLE_NAMES:
        return gettext(ROLE_NAMES[entry["role"]])
    return gettext("Speaker %(number)s") % {"number": number(key)}


def names(job: Job) -> dict[str, str]:
    """Every speaker key of the job to the name shown; empty when the job was not diarized."""
    return {key: display_name(job.speakers, key) for key in job.speakers}


def of_job(job: Job) -> list[Speaker]:
    """The job's speakers in order of first appearance, with their talk time."""
    seconds = dict.fromkeys(job.speakers, 0.0)
    for segment in job.segments:
        key = segment.get("speaker")
        if key in seconds:
            seconds[key] += max(0.0, segment["end"] - segment["start"])
    total = sum(seconds.values()) or 1.0
    return [
        Speaker(
            key=key,
            name=display_name(job.speakers, key),
            number=number(key),
            seconds=s,
            share=s / total,
            profile=job.speakers[key].get("profile"),
            confidence=job.speakers[key].get("confidence"),
            role=job.speakers[key].get("role", ""),
        )
        for key, s in seconds.items()
    ]


def job_speakers(voices: dict, known: dict[str, tuple[VoiceProfile, float]]) -> dict:
    """Job.speakers for a diarized job: each key's voice (kept to be remembered later), and the name
    of the voice profile that matched it, with how closely."""
    speakers = {}
    for key, voice in voices.items():
        entry = {"name": "", "voice": [round(float(x), 5) for x in voice]}
        if key in known:
            profile, similarity = known[key]
            entry |= {"name": profile.name, "profile": profile.pk, "confidence": round(similarity, 3)}
        speakers[key] = entry
    return speakers


def segment_speaker(job: Job, segment: dict) -> str:
    """The name shown for a segment's speaker, "" when it has none."""
    key = segment.get("speaker")
    return display_name(job.speakers, key) if key and key in job.speakers else ""


def speaker_rename(*, job: Job, key: str, name: str) -> Job:
    """Name a speaker for the whole job (every segment, page and export follows)."""
    name = " ".join(name.split())[:MAX_NAME]
    if not name:
        raise ValueError(EMPTY_NAME)
    with transaction.atomic():
        job = _locked(job, key)
        entry = job.speakers[key]
        if entry.get("profile") and entry.get("name") != name:  # the match was wrong: forget it
            entry = {k: v for k, v in entry.items() if k not in ("profile", "confidence")}
        job.speakers[key] = entry | {"name": name}
        job.save(update_fields=["speakers"])
    logger.info("job %s: speaker %s renamed", job.pk, key)
    return job


def speaker_merge(*, job: Job, key: str, into: str) -> Job:
    """Speaker `key` was `into` all along: their segments go to `into`, and `key` is no more."""
    with transaction.atomic():
        job = _locked(job, key)
        _locked_key(job, into)
        if key != into:
            for segment in job.segments:
                if segment.get("speaker") == key:
                    segment["speaker"] = into
            del job.speakers[key]
            job.save(update_fields=["speakers", "segments"])
    logger.info("job %s: speaker %s merged into %s", job.pk, key, into)
    return job


def segment_move(*, job: Job, index: int, key: str) -> Job:
    """One segment was said by speaker `key`."""
    with transaction.atomic():
        job = _locked(job, key)
        if not 0 <= index < len(job.segments):
            raise ValueError(gettext_noop("Only a finished transcript's existing segments can be edited."))
        job.segments[index]["speaker"] = key
        job.save(update_fields=["segments"])
    logger.info("job %s: segment %d moved to speaker %s", job.pk, index, key)
    return job


def _locked(job: Job, key: str) -> Job:
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.status != Job.Status.DONE or not job.speakers:
        raise ValueError(NOT_DIARIZED)
    _locked_key(job, key)
    return job


def _locked_key(job: Job, key: str) -> None:
    if key not in job.speakers:
        raise ValueError(UNKNOWN_SPEAKER)


def voice_remember(*, job: Job, key: str, name: str) -> VoiceProfile:
    """Keep speaker `key`'s voice as the person `name` among the job owner's voice profiles: a new
    profile, or one more recording of an existing one (its voice becomes the mean of all its
    recordings, so a correction makes it better). The speaker is named after it."""
    import numpy as np

    name = " ".join(name.split())[:MAX_NAME]
    if not name:
        raise ValueError(EMPTY_NAME)
    with transaction.atomic():
        job = _locked(job, key)
        voice = job.speakers[key].get("voice")
        if not voice:
            raise ValueError(NO_VOICE)
        profile = VoiceProfile.objects.select_for_update().filter(owner=job.owner, name=name).first()
        if profile is None:
            profile = VoiceProfile(owner=job.owner, name=name, embedding=voice, recordings=0)
        mean = np.asarray(profile.embedding) * profile.recordings + np.asarray(voice)
        profile.embedding = [round(float(x), 5) for x in mean / (np.linalg.norm(mean) or 1.0)]
        profile.recordings += 1
        profile.save()
        job.speakers[key] = job.speakers[key] | {"name": name, "profile": profile.pk, "confidence": 1.0}
        job.save(update_fields=["speakers"])
    logger.info("job %s: speaker %s remembered as voice profile %s", job.pk, key, profile.pk)
    return profile


def voice_delete(*, profile: VoiceProfile) -> None:
    """Forget a person's voice: the profile and its embedding go; transcripts keep the names."""
    profile.delete()
    logger.info("voice profile %s deleted", profile.pk)

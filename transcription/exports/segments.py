"""A job's transcript as every export format reads it: its segments in time order, tidied, with
the model's own words where asked and the name shown for each one's speaker (diarized jobs only).
Reads the `Job`'s attributes only, never the database."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from transcription import speakers as speaker_names
from transcription.text import join_texts


@dataclass(frozen=True)
class Segment:
    start: float  # seconds
    end: float
    text: str
    speaker: str = ""  # the name shown for who said it; "" when the job was not diarized


def segments(job: Any, raw: bool) -> list[Segment]:
    """The job's non-empty segments in time order, with whitespace tidied and the raw words
    chosen where asked. The stable sort keeps the stored order for equal starts."""
    known = job_speakers(job)
    result = []
    for entry in getattr(job, "segments", None) or []:
        if not isinstance(entry, dict):
            continue
        text = (raw and entry.get("raw")) or entry.get("text") or ""
        text = tidy(str(text))
        if text:
            start = seconds(entry.get("start"))
            end = max(start, seconds(entry.get("end"), default=start))
            result.append(Segment(start, end, text, speaker_name(known, entry.get("speaker"))))
    return sorted(result, key=lambda s: s.start)


def job_speakers(job: Any) -> dict:
    """`Job.speakers` when it is the dict diarization writes, else {} (not diarized)."""
    speakers = getattr(job, "speakers", None)
    return speakers if isinstance(speakers, dict) else {}


def speaker_name(speakers: dict, key: Any) -> str:
    """The name shown for a segment's speaker key, "" for none or one the job does not know."""
    return tidy(speaker_names.display_name(speakers, key)) if isinstance(key, str) and key in speakers else ""


def turns(segments: list[Segment]) -> list[Segment]:
    """Consecutive segments of the same speaker as one, their texts joined (no space between
    Chinese): a diarized transcript's paragraphs. Segments without a speaker stay as they are."""
    result: list[Segment] = []
    for segment in segments:
        last = result[-1] if result else None
        if last and segment.speaker and segment.speaker == last.speaker:
            text = join_texts([last.text, segment.text])
            result[-1] = Segment(last.start, max(last.end, segment.end), text, last.speaker)
        else:
            result.append(segment)
    return result


def job_text(job: Any, raw: bool) -> str:
    text = (raw and getattr(job, "raw_text", "")) or getattr(job, "text", "") or ""
    return str(text).strip()


def tidy(text: str) -> str:
    return " ".join(text.split())


def seconds(value: Any, default: float = 0.0) -> float:
    """A time from the stored JSON; anything missing, negative or not a number falls back."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return default
    return seconds if math.isfinite(seconds) and seconds >= 0 else default

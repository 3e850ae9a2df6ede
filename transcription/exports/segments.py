"""A job's transcript as every export format reads it: its segments in time order, tidied, with
the model's own words where asked. Reads the `Job`'s attributes only, never the database."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Segment:
    start: float  # seconds
    end: float
    text: str


def segments(job: Any, raw: bool) -> list[Segment]:
    """The job's non-empty segments in time order, with whitespace tidied and the raw words
    chosen where asked. The stable sort keeps the stored order for equal starts."""
    result = []
    for entry in getattr(job, "segments", None) or []:
        if not isinstance(entry, dict):
            continue
        text = (raw and entry.get("raw")) or entry.get("text") or ""
        text = tidy(str(text))
        if text:
            start = seconds(entry.get("start"))
            result.append(Segment(start, max(start, seconds(entry.get("end"), default=start)), text))
    return sorted(result, key=lambda s: s.start)


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

"""A finished job as a language model reads it: its lines ("[mm:ss] Name: text") and the values a
template's placeholders take."""

from __future__ import annotations

from llm.mapreduce import Line, clock
from transcription import speakers


def lines_of(job) -> list[Line]:
    shown = speakers.names(job)
    return [
        Line(start=float(s["start"]), speaker=shown.get(s.get("speaker", ""), ""), text=s["text"].strip())
        for s in job.segments
        if s.get("text", "").strip()
    ]


def values_of(job) -> dict[str, str]:
    when = job.finished_at or job.queued_at
    people = ", ".join(speakers.names(job).values())
    return {
        "name": job.original_name,
        "date": when.date().isoformat() if when else "",
        "duration": clock(job.duration or 0),
        "speakers": people or "not told apart",
    }

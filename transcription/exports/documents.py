"""Transcripts as documents: plain text, JSON with everything, and DOCX. A diarized job's text
and DOCX read as a script: one paragraph per turn, "Name: what they said"."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import datetime
from typing import Any

from transcription import speakers
from transcription.exports import segments as seg

FALLBACK_TITLE = "transcript"
# Control characters XML (hence DOCX) refuses; tab, newline and carriage return are allowed.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render_txt(job: Any, raw: bool) -> bytes:
    # A transcript people can paste: no timestamps, one segment per line (segments follow
    # pauses, so they make readable paragraphs).
    segments = seg.segments(job, raw)
    if seg.job_speakers(job) and segments:
        # One paragraph per turn, a blank line between them.
        turns = [f"{s.speaker}: {s.text}" if s.speaker else s.text for s in seg.turns(segments)]
        return ("\n\n".join(turns) + "\n").encode()
    lines = [s.text for s in segments] if segments else seg.job_text(job, raw).splitlines()
    text = "\n".join(line for line in lines if line.strip())
    return (text + "\n").encode() if text else b""


def render_json(job: Any, raw: bool) -> bytes:
    # The whole record, both the shown and the model's own words, so `raw` changes nothing here.
    options = getattr(job, "options", None) or {}
    data = {
        "id": str(job.id),
        "name": job.original_name,
        "language": job.language,
        "duration": job.duration,
        "text": job.text,
        "raw_text": job.raw_text,
        "segments": list(job.segments or []),
        "corrections": list(job.corrections or []),
        "engine": options.get("engine", {}),
        "profile": options.get("profile"),
        "hotwords": options.get("hotwords", []),
        "created": _iso(job.queued_at),
        "finished": _iso(job.finished_at),
        "processing_seconds": job.processing_seconds,
    }
    known = seg.job_speakers(job)
    data["segments"] = [_with_speaker_name(known, s) for s in data["segments"]]
    if known:
        data["speakers"] = [
            {"key": s.key, "name": s.name, "seconds": round(s.seconds, 3)}
            | ({"role": s.role} if s.role else {})
            for s in speakers.of_job(job)
        ]
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode()


def _with_speaker_name(known: dict, segment: Any) -> Any:
    """The segment with its speaker's shown name; a key the job does not know is no speaker."""
    if not isinstance(segment, dict) or "speaker" not in segment:
        return segment
    name = seg.speaker_name(known, segment["speaker"])
    if name:
        return segment | {"speaker_name": name}
    return {k: v for k, v in segment.items() if k != "speaker"}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


_GREY = (0x80, 0x80, 0x80)


def render_docx(job: Any, raw: bool) -> bytes:
    # Imported here: only this format needs python-docx, and it is slow to import.
    from docx import Document
    from docx.shared import Pt, RGBColor

    document = Document()
    title = _xml_safe(job.original_name or FALLBACK_TITLE)
    document.core_properties.title = title[:255]
    document.add_heading(title, level=0)
    meta = document.add_paragraph().add_run(_docx_meta(job, raw))
    meta.font.size = Pt(9)
    meta.font.color.rgb = RGBColor(*_GREY)

    segments = seg.segments(job, raw)
    # A diarized job: one paragraph per turn, the speaker's name in bold.
    for segment in seg.turns(segments) if seg.job_speakers(job) else segments:
        paragraph = document.add_paragraph()
        stamp = paragraph.add_run(f"[{_clock(segment.start)}] ")
        stamp.font.color.rgb = RGBColor(*_GREY)
        if segment.speaker:
            paragraph.add_run(_xml_safe(f"{segment.speaker}: ")).bold = True
        paragraph.add_run(_xml_safe(segment.text))
    if not segments:
        for line in seg.job_text(job, raw).splitlines():
            if line.strip():
                document.add_paragraph(_xml_safe(line.strip()))

    buffer = io.BytesIO()
    document.save(buffer)
    return _stamped(buffer.getvalue(), job.finished_at or job.queued_at)


def _stamped(blob: bytes, when: datetime | None) -> bytes:
    """The document with every part dated `when`. python-docx dates them with the clock at save,
    so one transcript exported twice a second apart gave different files (a zip of exports then
    differed from the single downloads, and a file's hash told nothing of its content)."""
    stamp = when.timetuple()[:6] if when and when.year >= 1980 else (1980, 1, 1, 0, 0, 0)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(blob)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            info.date_time = stamp
            target.writestr(info, source.read(info.filename))
    return out.getvalue()


def _docx_meta(job: Any, raw: bool) -> str:
    parts = []
    if job.duration:
        parts.append(f"Duration {_clock(job.duration)}")
    if job.language:
        parts.append(f"Language {job.language}")
    when = job.finished_at or job.queued_at
    if when:
        parts.append(when.date().isoformat())
    if raw:
        parts.append("Model's original words, before normalization and corrections")
    return " · ".join(parts)


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _xml_safe(text: str) -> str:
    return _XML_INVALID.sub("", text)

"""A finished job's transcript as downloadable files: TXT, SRT, VTT, JSON and DOCX, one at a time
or several in a zip.

Pure rendering: it reads the attributes of the `Job` it is given (text, raw_text, segments,
options, timings) and never queries the database, so views decide who may see what and these
functions only decide how it looks. Subtitles are made valid whatever the segments are like:
sorted, never overlapping, never empty or zero-length, and wrapped into short lines.
"""

from __future__ import annotations

import io
import json
import math
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

__all__ = [
    "FORMATS",
    "Cue",
    "ExportFormat",
    "Rendered",
    "export_filename",
    "iter_zip",
    "render",
    "render_zip",
    "safe_stem",
    "subtitle_cues",
    "zip_filename",
]


@dataclass(frozen=True)
class Rendered:
    content: bytes
    content_type: str
    filename: str


@dataclass(frozen=True)
class ExportFormat:
    extension: str  # with the dot: ".srt"
    content_type: str
    label: str


FORMATS: dict[str, ExportFormat] = {
    "txt": ExportFormat(".txt", "text/plain; charset=utf-8", _("Plain text")),
    "srt": ExportFormat(".srt", "application/x-subrip; charset=utf-8", _("SubRip subtitles")),
    "vtt": ExportFormat(".vtt", "text/vtt; charset=utf-8", _("WebVTT subtitles")),
    "json": ExportFormat(".json", "application/json", _("JSON with segments")),
    "docx": ExportFormat(
        ".docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _("Word document"),
    ),
}

ZIP_CONTENT_TYPE = "application/zip"

# Subtitle layout. 42 characters is the common broadcast limit for Latin scripts; a CJK
# character is about twice as wide on screen, hence roughly half as many.
MAX_LINE_CHARS = 42
MAX_LINE_CHARS_CJK = 20
MAX_LINES_PER_CUE = 2
MIN_CUE_MS = 500

FALLBACK_STEM = "transcript"
MAX_STEM_CHARS = 150

_CJK = (
    "\u2e80-\u2fdf"  # radicals
    "\u3000-\u303f"  # CJK punctuation
    "\u3040-\u30ff"  # kana
    "\u3100-\u312f\u31a0-\u31bf"  # bopomofo
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # ideographs
    "\uac00-\ud7af"  # hangul
    "\uff00-\uffef"  # full-width forms: ，！？：；
    "\U00020000-\U0002fa1f"  # ideograph extensions
)
# A token is one CJK character, a run of other non-space characters (a word), or a space run:
# CJK text has no spaces, so it may break between any two characters.
_TOKEN = re.compile(rf"\s+|[{_CJK}]|[^\s{_CJK}]+")
_HAS_CJK = re.compile(rf"[{_CJK}]")
# Where a line reads best when it ends.
_BREAK_AFTER = frozenset("，。？！、；：,.?!;:")
# What must not start a line (kinsoku): breaking just before it strands it.
_NO_LINE_START = frozenset("，。？！、；：）」』》〉】,.?!;:)]}%")
# Control characters XML (hence DOCX) refuses; tab, newline and carriage return are allowed.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Characters that are path separators or reserved in a file name on some system, or that would
# need escaping in a Content-Disposition header.
_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|]')


# --- public API ---------------------------------------------------------------------------


def render(job: Any, fmt: str, *, raw: bool = False) -> Rendered:
    """One job as a file. `raw=True` exports the model's own words (before ITN and hotword
    corrections) where the job kept them. JSON always carries both, so `raw` does not change it."""
    key, export = _lookup(fmt)
    content = _RENDERERS[key](job, raw)
    return Rendered(content=content, content_type=export.content_type, filename=export_filename(job, key))


def render_zip(jobs: Iterable[Any], fmt: str, *, raw: bool = False) -> Rendered:
    """Several jobs as one zip, one file per job, in memory. Use `iter_zip` to stream it."""
    key, _ = _lookup(fmt)
    content = b"".join(iter_zip(jobs, key, raw=raw))
    return Rendered(content=content, content_type=ZIP_CONTENT_TYPE, filename=zip_filename(key, raw=raw))


def iter_zip(jobs: Iterable[Any], fmt: str, *, raw: bool = False) -> Iterator[bytes]:
    """The zip of `render_zip` as chunks, one job rendered at a time: suits a streaming response
    over a queryset's `.iterator()` without holding every transcript (or the archive) in memory.
    An unknown format raises at once, not on the first chunk."""
    key, _ = _lookup(fmt)
    return _zip_chunks(jobs, key, raw)


def zip_filename(fmt: str, *, raw: bool = False) -> str:
    key, _ = _lookup(fmt)
    return f"transcripts-{'raw-' if raw else ''}{key}.zip"


def export_filename(job: Any, fmt: str) -> str:
    """The job's original name with the format's extension, safe to offer as a download name."""
    _, export = _lookup(fmt)
    return safe_stem(getattr(job, "original_name", "") or "") + export.extension


def safe_stem(name: str) -> str:
    """The stem of a user's file name with no directories, control or reserved characters and no
    leading dots; unicode is kept (会议记录.mp3 → 会议记录). Never empty."""
    name = unicodedata.normalize("NFC", name)
    # Control and format characters go first, so "pass\nwd" becomes "passwd", and a
    # right-to-left override cannot disguise the extension.
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf"))
    name = re.split(r"[\\/]", name)[-1]  # the base name, whichever separator the client used
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    stem = _UNSAFE_IN_NAME.sub("_", stem)
    stem = " ".join(stem.split())[:MAX_STEM_CHARS].strip(" .")
    return stem or FALLBACK_STEM


# --- segments, as every format sees them --------------------------------------------------


@dataclass(frozen=True)
class _Segment:
    start: float  # seconds
    end: float
    text: str


def _segments(job: Any, raw: bool) -> list[_Segment]:
    """The job's non-empty segments in time order, with whitespace tidied and the raw words
    chosen where asked. The stable sort keeps the stored order for equal starts."""
    result = []
    for entry in getattr(job, "segments", None) or []:
        if not isinstance(entry, dict):
            continue
        text = (raw and entry.get("raw")) or entry.get("text") or ""
        text = _tidy(str(text))
        if text:
            start = _seconds(entry.get("start"))
            result.append(_Segment(start, max(start, _seconds(entry.get("end"), default=start)), text))
    return sorted(result, key=lambda s: s.start)


def _job_text(job: Any, raw: bool) -> str:
    text = (raw and getattr(job, "raw_text", "")) or getattr(job, "text", "") or ""
    return str(text).strip()


def _tidy(text: str) -> str:
    return " ".join(text.split())


def _seconds(value: Any, default: float = 0.0) -> float:
    """A time from the stored JSON; anything missing, negative or not a number falls back."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return default
    return seconds if math.isfinite(seconds) and seconds >= 0 else default


# --- TXT ----------------------------------------------------------------------------------


def _render_txt(job: Any, raw: bool) -> bytes:
    # A transcript people can paste: no timestamps, one segment per line (segments follow
    # pauses, so they make readable paragraphs).
    segments = _segments(job, raw)
    lines = [s.text for s in segments] if segments else _job_text(job, raw).splitlines()
    text = "\n".join(line for line in lines if line.strip())
    return (text + "\n").encode() if text else b""


# --- subtitles ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]


def subtitle_cues(job: Any, *, raw: bool = False) -> list[Cue]:
    """The cues SRT and VTT share: ordered, non-overlapping, each at least 1 ms long and at
    most MAX_LINES_PER_CUE short lines, a long segment's time shared among its cues."""
    segments = _segments(job, raw)
    if not segments:
        # Text without segments should not happen; if it does, the text spans the audio.
        text = _tidy(_job_text(job, raw))
        segments = [_Segment(0.0, _seconds(getattr(job, "duration", None)), text)] if text else []
    blocks = [_cue_blocks(s.text) for s in segments]
    spans = _fit_spans([(_ms(s.start), _ms(s.end)) for s in segments], [len(b) for b in blocks])
    cues: list[Cue] = []
    for (start, end), block in zip(spans, blocks, strict=True):
        cues.extend(_share_time(start, end, block))
    return cues


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _fit_spans(spans: list[tuple[int, int]], cue_counts: list[int]) -> list[tuple[int, int]]:
    """Make each segment's (start, end) valid in order: a segment that starts before the previous
    one ended starts when it ends; a too short one gets MIN_CUE_MS where that does not run into
    the next segment's start; every one keeps at least 1 ms per cue, even if that pushes the next."""
    fitted: list[tuple[int, int]] = []
    previous_end = 0
    for i, ((start, end), count) in enumerate(zip(spans, cue_counts, strict=True)):
        start = max(start, previous_end)
        end = max(end, start)
        if end - start < MIN_CUE_MS:
            next_start = spans[i + 1][0] if i + 1 < len(spans) else None
            # A next segment starting at or before this start will be pushed anyway: no room to keep.
            room = MIN_CUE_MS if next_start is None or next_start <= start else next_start - start
            end = max(end, start + min(MIN_CUE_MS, room))
        end = max(end, start + count)
        fitted.append((start, end))
        previous_end = end
    return fitted


def _share_time(start: int, end: int, blocks: list[tuple[str, ...]]) -> list[Cue]:
    """Split [start, end] among a segment's cues in proportion to their length in characters;
    the caller guarantees at least 1 ms per cue."""
    weights = [sum(len(line) for line in lines) for lines in blocks]
    total = sum(weights)
    cues, cue_start, done = [], start, 0
    for i, (lines, weight) in enumerate(zip(blocks, weights, strict=True)):
        done += weight
        remaining = len(blocks) - i - 1
        cue_end = start + round((end - start) * done / total)
        cue_end = min(max(cue_end, cue_start + 1), end - remaining)
        cues.append(Cue(cue_start, cue_end, lines))
        cue_start = cue_end
    return cues


def _cue_blocks(text: str) -> list[tuple[str, ...]]:
    """A segment's text as cues of at most MAX_LINES_PER_CUE lines."""
    width = MAX_LINE_CHARS_CJK if _HAS_CJK.search(text) else MAX_LINE_CHARS
    lines = wrap_line(text, width)
    return [tuple(lines[i : i + MAX_LINES_PER_CUE]) for i in range(0, len(lines), MAX_LINES_PER_CUE)]


def wrap_line(text: str, width: int) -> list[str]:
    """Lines of at most `width` characters: between words, or between any two CJK characters,
    preferring to end a line after punctuation in its second half and never starting one with
    closing punctuation when that can be helped. A word longer than a line is cut."""
    words = _words(text, width)
    lines = []
    while words:
        fits = _fitting_prefix(words, width)
        cut = fits if fits == len(words) else _best_cut(words, fits, width)
        lines.append(_join(words[:cut]))
        words = [(words[cut][0], False), *words[cut + 1 :]] if cut < len(words) else []
    return lines


# A word and whether a space separated it from the word before.
_Word = tuple[str, bool]


def _words(text: str, width: int) -> list[_Word]:
    words: list[_Word] = []
    spaced = False
    for token in _TOKEN.findall(text):
        if token.isspace():
            spaced = bool(words)
            continue
        for i in range(0, len(token), width):  # only a word longer than a line is cut
            words.append((token[i : i + width], spaced and i == 0))
        spaced = False
    return words


def _join(words: list[_Word]) -> str:
    return "".join((" " if spaced and i else "") + word for i, (word, spaced) in enumerate(words))


def _fitting_prefix(words: list[_Word], width: int) -> int:
    """How many words fit on one line (at least one: no word is longer than a line)."""
    used = 0
    for count, (word, spaced) in enumerate(words):
        used += len(word) + (1 if spaced and count else 0)
        if used > width:
            return max(count, 1)
    return len(words)


def _best_cut(words: list[_Word], fits: int, width: int) -> int:
    for cut in range(fits, 0, -1):
        if len(_join(words[:cut])) < width / 2:
            break
        if words[cut - 1][0][-1] in _BREAK_AFTER and words[cut][0][0] not in _NO_LINE_START:
            return cut
    if fits > 1 and words[fits][0][0] in _NO_LINE_START:
        return fits - 1  # carry the last word over with the punctuation that follows it
    return fits


def _timestamp(ms: int, separator: str) -> str:
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    seconds, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{ms:03d}"


def _render_srt(job: Any, raw: bool) -> bytes:
    blocks = []
    for number, cue in enumerate(subtitle_cues(job, raw=raw), start=1):
        timing = f"{_timestamp(cue.start_ms, ',')} --> {_timestamp(cue.end_ms, ',')}"
        # An arrow inside the text could be read as a timing line by lenient parsers.
        text = "\n".join(line.replace("-->", "->") for line in cue.lines)
        blocks.append(f"{number}\n{timing}\n{text}\n\n")  # a blank line ends every cue, the last too
    return "".join(blocks).encode()


def _render_vtt(job: Any, raw: bool) -> bytes:
    blocks = []
    for cue in subtitle_cues(job, raw=raw):
        timing = f"{_timestamp(cue.start_ms, '.')} --> {_timestamp(cue.end_ms, '.')}"
        blocks.append(f"{timing}\n" + "\n".join(_vtt_escape(line) for line in cue.lines) + "\n")
    return ("WEBVTT\n\n" + "\n".join(blocks)).encode()


def _vtt_escape(line: str) -> str:
    # A cue's text is markup in WebVTT: "<" starts a tag, "&" an entity, and "-->" is forbidden.
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- JSON ---------------------------------------------------------------------------------


def _render_json(job: Any, raw: bool) -> bytes:
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
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- DOCX ---------------------------------------------------------------------------------

_GREY = (0x80, 0x80, 0x80)


def _render_docx(job: Any, raw: bool) -> bytes:
    # Imported here: only this format needs python-docx, and it is slow to import.
    from docx import Document
    from docx.shared import Pt, RGBColor

    document = Document()
    title = _xml_safe(job.original_name or FALLBACK_STEM)
    document.core_properties.title = title[:255]
    document.add_heading(title, level=0)
    meta = document.add_paragraph().add_run(_docx_meta(job, raw))
    meta.font.size = Pt(9)
    meta.font.color.rgb = RGBColor(*_GREY)

    segments = _segments(job, raw)
    for segment in segments:
        paragraph = document.add_paragraph()
        stamp = paragraph.add_run(f"[{_clock(segment.start)}] ")
        stamp.font.color.rgb = RGBColor(*_GREY)
        paragraph.add_run(_xml_safe(segment.text))
    if not segments:
        for line in _job_text(job, raw).splitlines():
            if line.strip():
                document.add_paragraph(_xml_safe(line.strip()))

    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


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


# --- zip ----------------------------------------------------------------------------------


class _Spool(io.RawIOBase):
    """A write-only, unseekable sink that hands back what was written since the last drain.
    Unseekable on purpose: zipfile then writes each entry's sizes after its data, so the
    archive can leave in chunks as it is made."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        return len(chunk)

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def _zip_chunks(jobs: Iterable[Any], fmt: str, raw: bool) -> Iterator[bytes]:
    spool = _Spool()
    names: set[str] = set()
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for job in jobs:
            rendered = render(job, fmt, raw=raw)
            name = _unique_name(rendered.filename, names)
            archive.writestr(_zip_info(name, job), rendered.content)
            yield spool.drain()
    yield spool.drain()  # the central directory, written when the archive closes


def _unique_name(filename: str, taken: set[str]) -> str:
    """The name, or "a (2).srt", "a (3).srt"… for a taken one; compared without case, as on Windows."""
    stem, dot, extension = filename.rpartition(".")
    candidate, n = filename, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{stem} ({n}){dot}{extension}"
    taken.add(candidate.casefold())
    return candidate


def _zip_info(name: str, job: Any) -> zipfile.ZipInfo:
    when = getattr(job, "finished_at", None) or getattr(job, "queued_at", None)
    date_time = when.timetuple()[:6] if when and when.year >= 1980 else (1980, 1, 1, 0, 0, 0)
    info = zipfile.ZipInfo(name, date_time=date_time)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16  # a plain readable file once extracted
    return info


# --- format lookup ------------------------------------------------------------------------

_RENDERERS: dict[str, Callable[[Any, bool], bytes]] = {
    "txt": _render_txt,
    "srt": _render_srt,
    "vtt": _render_vtt,
    "json": _render_json,
    "docx": _render_docx,
}


def _lookup(fmt: str) -> tuple[str, ExportFormat]:
    key = fmt.strip().lower().lstrip(".") if isinstance(fmt, str) else ""
    if key not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}: use one of {', '.join(FORMATS)}.")
    return key, FORMATS[key]

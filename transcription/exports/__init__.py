"""A finished job's transcript as downloadable files: TXT, SRT, VTT, JSON and DOCX, one at a time
or several in a zip.

Pure rendering: it reads the attributes of the `Job` it is given (text, raw_text, segments,
options, timings) and never queries the database, so views decide who may see what and these
functions only decide how it looks. Subtitles are made valid whatever the segments are like:
sorted, never overlapping, never empty or zero-length, and wrapped into short lines.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from transcription.exports import documents, subtitles
from transcription.exports.subtitles import Cue, subtitle_cues

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
FALLBACK_STEM = documents.FALLBACK_TITLE
MAX_STEM_CHARS = 150
# Characters that are path separators or reserved in a file name on some system, or that would
# need escaping in a Content-Disposition header.
_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|]')


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
    "txt": documents.render_txt,
    "srt": subtitles.render_srt,
    "vtt": subtitles.render_vtt,
    "json": documents.render_json,
    "docx": documents.render_docx,
}


def _lookup(fmt: str) -> tuple[str, ExportFormat]:
    key = fmt.strip().lower().lstrip(".") if isinstance(fmt, str) else ""
    if key not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}: use one of {', '.join(FORMATS)}.")
    return key, FORMATS[key]

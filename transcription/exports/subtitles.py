"""Subtitles (SRT and WebVTT): cues made valid whatever the segments are like (sorted, never
overlapping, never empty or zero-length) and wrapped into short lines, breaking between words or
between any two CJK characters. A diarized job's cues say who speaks: SRT as "Name: " before the
text, WebVTT with a voice tag, `<v Name>`. Each cue comes from one segment, so from one speaker."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from transcription.exports import segments as seg
from transcription.text import CJK

# Subtitle layout. 42 characters is the common broadcast limit for Latin scripts; a CJK
# character is about twice as wide on screen, hence roughly half as many.
MAX_LINE_CHARS = 42
MAX_LINE_CHARS_CJK = 20
MAX_LINES_PER_CUE = 2
MIN_CUE_MS = 500

# A token is one CJK character, a run of other non-space characters (a word), or a space run:
# CJK text has no spaces, so it may break between any two characters.
_TOKEN = re.compile(rf"\s+|[{CJK}]|[^\s{CJK}]+")
_HAS_CJK = re.compile(rf"[{CJK}]")
# Where a line reads best when it ends.
_BREAK_AFTER = frozenset("，。？！、；：,.?!;:")
# What must not start a line (kinsoku): breaking just before it strands it.
_NO_LINE_START = frozenset("，。？！、；：）」』》〉】,.?!;:)]}%")


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    lines: tuple[str, ...]
    speaker: str = ""  # the name shown for who says it; "" when the job was not diarized


def subtitle_cues(job: Any, *, raw: bool = False) -> list[Cue]:
    """The cues SRT and VTT share: ordered, non-overlapping, each at least 1 ms long and at
    most MAX_LINES_PER_CUE short lines, a long segment's time shared among its cues."""
    segments = seg.segments(job, raw)
    if not segments:
        # Text without segments should not happen; if it does, the text spans the audio.
        text = seg.tidy(seg.job_text(job, raw))
        segments = [seg.Segment(0.0, seg.seconds(getattr(job, "duration", None)), text)] if text else []
    blocks = [_cue_blocks(s.text, _prefix(s.speaker)) for s in segments]
    spans = _fit_spans([(_ms(s.start), _ms(s.end)) for s in segments], [len(b) for b in blocks])
    cues: list[Cue] = []
    for (start, end), block, segment in zip(spans, blocks, segments, strict=True):
        cues.extend(_share_time(start, end, block, segment.speaker))
    return cues


def _prefix(speaker: str) -> str:
    return f"{speaker}: " if speaker else ""


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


def _share_time(start: int, end: int, blocks: list[tuple[str, ...]], speaker: str) -> list[Cue]:
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
        cues.append(Cue(cue_start, cue_end, lines, speaker))
        cue_start = cue_end
    return cues


def _cue_blocks(text: str, prefix: str = "") -> list[tuple[str, ...]]:
    """A segment's text as cues of at most MAX_LINES_PER_CUE lines, narrower by the speaker's
    prefix (up to half a line) so that SRT's "Name: " line still fits."""
    width = MAX_LINE_CHARS_CJK if _HAS_CJK.search(text) else MAX_LINE_CHARS
    width -= min(len(prefix), width // 2)
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


def render_srt(job: Any, raw: bool) -> bytes:
    blocks = []
    for number, cue in enumerate(subtitle_cues(job, raw=raw), start=1):
        timing = f"{_timestamp(cue.start_ms, ',')} --> {_timestamp(cue.end_ms, ',')}"
        # An arrow inside the text could be read as a timing line by lenient parsers.
        text = "\n".join(line.replace("-->", "->") for line in cue.lines)
        text = _prefix(cue.speaker.replace("-->", "->")) + text
        blocks.append(f"{number}\n{timing}\n{text}\n\n")  # a blank line ends every cue, the last too
    return "".join(blocks).encode()


def render_vtt(job: Any, raw: bool) -> bytes:
    blocks = []
    for cue in subtitle_cues(job, raw=raw):
        timing = f"{_timestamp(cue.start_ms, '.')} --> {_timestamp(cue.end_ms, '.')}"
        text = "\n".join(_vtt_escape(line) for line in cue.lines)
        voice = f"<v {_vtt_escape(cue.speaker)}>" if cue.speaker else ""
        blocks.append(f"{timing}\n{voice}{text}\n")
    return ("WEBVTT\n\n" + "\n".join(blocks)).encode()


def _vtt_escape(line: str) -> str:
    # A cue's text is markup in WebVTT: "<" starts a tag, "&" an entity, and "-->" is forbidden.
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

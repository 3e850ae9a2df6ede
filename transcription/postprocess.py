"""After recognition: inverse text normalization, then hotword correction, on the whole text and
on every segment. The model's own output is kept beside the result. No Django here.

A stored segment is `{"start", "end", "text"}` (seconds, and the polished text), with `"raw"` (the
model's text) when polishing changed it, the metadata keys the model gave (`"language"`,
`"emotion"`, `"event"`: SenseVoice's tags) and `"words": [{"start", "end", "word"}, ...]` when the
model gave word timings: the model's own words, before ITN and hotword correction.
`engine.Segment.as_dict` writes all but `"raw"`."""

from __future__ import annotations

from dataclasses import dataclass, field

from transcription import hotword_fix, simplified
from transcription.engine import Transcript
from transcription.itn import normalize_zh


@dataclass(frozen=True)
class Result:
    text: str
    raw_text: str
    language: str
    segments: list[dict] = field(default_factory=list)  # {start, end, text[, raw, language, ..., words]}
    corrections: list[dict] = field(default_factory=list)  # {from, to}
    speakers: dict = field(default_factory=dict)  # Job.speakers, once diarized (runner.py)


def polish(transcript: Transcript, *, itn: bool, hotwords: list[str]) -> Result:
    """The text stage: Chinese in Simplified characters (simplified.py; the model's own words are kept
    in those too), then, with `itn`, the portal's own ITN (pass False when the model already did it),
    then hotword correction."""
    transcript = simplified.transcript(transcript)
    text, corrections = _polish(transcript.text, itn=itn, hotwords=hotwords)
    segments = []
    for segment in transcript.segments:
        polished, _ = _polish(segment.text, itn=itn, hotwords=hotwords)
        entry = segment.as_dict() | {"text": polished}
        if polished != segment.text:
            entry["raw"] = segment.text
        segments.append(entry)
    return Result(
        text=text,
        raw_text=transcript.text,
        language=transcript.language,
        segments=segments,
        corrections=[c.as_dict() for c in corrections],
    )


def polish_line(text: str, itn: bool, hotwords: list[str]) -> str:
    """One line of live captions through the same stage (issue 20): ITN and hotword correction."""
    return _polish(text, itn=itn, hotwords=hotwords)[0]


def _polish(text: str, *, itn: bool, hotwords: list[str]) -> tuple[str, list[hotword_fix.Correction]]:
    if itn:
        text = normalize_zh(text)
    return hotword_fix.correct(text, hotwords)

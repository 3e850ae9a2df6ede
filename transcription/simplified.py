"""Chinese in Simplified characters, whatever the model wrote: multilingual Whisper often answers
Mandarin in Traditional (我們下週討論 for 我们下周讨论). Applied to a transcript whose language is
Chinese, before the text stage (ITN, hotwords), so that what is stored, searched and exported is
Simplified. OpenCC's Traditional-to-Simplified table (`t2s`), character and phrase level, from the
`opencc` wheel: no network, loaded once per process on first use. No Django here."""

from __future__ import annotations

import dataclasses
import functools

from transcription.engine import Transcript
from transcription.text import has_han


def is_chinese(language: str) -> bool:
    """zh, zh-TW, zh_Hant... Cantonese (yue) is written in Traditional on purpose: left alone."""
    return language.lower().replace("_", "-").split("-")[0] == "zh"


@functools.cache
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _converter().convert(text) if has_han(text) else text


def transcript(result: Transcript) -> Transcript:
    """The transcript with its text, its segments' text (and words, where the engine gives them) in
    Simplified characters when its language is Chinese; any other transcript as it is."""
    if not is_chinese(result.language):
        return result
    segments = [_segment(s) for s in result.segments]
    return dataclasses.replace(result, text=to_simplified(result.text), segments=segments)


def _segment(segment):
    changes = {"text": to_simplified(segment.text)}
    words = getattr(segment, "words", None)
    if words:
        changes["words"] = [dataclasses.replace(w, word=to_simplified(w.word)) for w in words]
    return dataclasses.replace(segment, **changes)

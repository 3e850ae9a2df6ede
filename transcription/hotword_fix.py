"""Text-level hotword correction: replace near-misses of a hotword in the final transcript.

The model's biasing (when it has one) does most of the work; this pass catches what it missed:
"ill-disposed" for "ill disposed", or a Chinese homophone (星火计画 for 星火计划, same pinyin).
Every replacement is recorded so the job page can show what was changed. No Django here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from transcription.text import HAN

LATIN_THRESHOLD = 80  # similarity (0-100) of letters, spaces and hyphens ignored
PINYIN_THRESHOLD = 90  # similarity of toneless pinyin: homophones score 100
MIN_LETTERS = 5  # shorter hotwords match too many ordinary words by accident
_HAN = re.compile(f"[{HAN}]")
_WORD = re.compile(r"[A-Za-z0-9']+(?:-[A-Za-z0-9']+)*")


@dataclass(frozen=True)
class Correction:
    original: str
    replacement: str

    def as_dict(self) -> dict:
        return {"from": self.original, "to": self.replacement}


def correct(text: str, hotwords: list[str]) -> tuple[str, list[Correction]]:
    """`text` with near-misses of each hotword replaced, and what was replaced."""
    corrections: list[Correction] = []
    for hotword in sorted(set(hotwords), key=len, reverse=True):  # longest first: no partial overlaps
        fix = _fix_cjk if _HAN.search(hotword) else _fix_latin
        text, found = fix(text, hotword)
        corrections.extend(found)
    return text, corrections


def find(text: str, phrase: str) -> list[tuple[int, int]]:
    """Where `text` says `phrase` or a near-miss of it, as character spans in order: the same
    tolerance as the correction (letters for Latin phrases, toneless pinyin for Chinese ones, so
    that 新火计划 is found for 星火计划). Call-quality rules use it (quality/matching.py)."""
    if _HAN.search(phrase):
        return _cjk_matches(text, phrase)
    target = _letters(phrase)
    if not target:
        return []
    if len(target) < MIN_LETTERS:  # too short to be fuzzy about: the words themselves
        return [m.span() for m in re.finditer(rf"(?<![\w]){re.escape(phrase)}(?![\w])", text, re.IGNORECASE)]
    return sorted(_latin_matches(text, phrase, target))


def _letters(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _fix_latin(text: str, hotword: str) -> tuple[str, list[Correction]]:
    target = _letters(hotword)
    if len(target) < MIN_LETTERS:
        return text, []
    corrections = []
    for start, end in sorted(_latin_matches(text, hotword, target), reverse=True):  # right to left
        original = text[start:end]
        if original != hotword:
            corrections.append(Correction(original, hotword))
        text = text[:start] + hotword + text[end:]
    return text, corrections[::-1]


def _latin_matches(text: str, hotword: str, target: str) -> list[tuple[int, int]]:
    """Non-overlapping spans of n-1..n+1 words (n = the hotword's words) close enough to it,
    the closest first: "an ill-disposed" loses to "ill-disposed" alone."""
    words, n = list(_WORD.finditer(text)), len(hotword.split())
    candidates = []
    for i in range(len(words)):
        for width in (n - 1, n, n + 1):
            if width < 1 or i + width > len(words):
                continue
            start, end = words[i].start(), words[i + width - 1].end()
            score = fuzz.ratio(_letters(text[start:end]), target)
            if score >= LATIN_THRESHOLD:
                candidates.append((-score, end - start, start, end))
    chosen: list[tuple[int, int]] = []
    for _, _, start, end in sorted(candidates):
        if all(end <= s or start >= e for s, e in chosen):
            chosen.append((start, end))
    return chosen


def _pinyin(text: str) -> str:
    from pypinyin import lazy_pinyin  # its dictionaries load on first use: only when needed

    return "".join(lazy_pinyin(text))


def _cjk_matches(text: str, hotword: str) -> list[tuple[int, int]]:
    """Non-overlapping windows of the hotword's length, left to right, whose toneless pinyin is
    close enough to the hotword's (homophones score 100)."""
    size, target = len(hotword), _pinyin(hotword)
    spans, i = [], 0
    while i + size <= len(text):
        window = text[i : i + size]
        if _HAN.fullmatch(window[0]) and fuzz.ratio(_pinyin(window), target) >= PINYIN_THRESHOLD:
            spans.append((i, i + size))
            i += size
        else:
            i += 1
    return spans


def _fix_cjk(text: str, hotword: str) -> tuple[str, list[Correction]]:
    corrections, result, cursor = [], [], 0
    for start, end in _cjk_matches(text, hotword):
        if text[start:end] != hotword:
            corrections.append(Correction(text[start:end], hotword))
        result.append(text[cursor:start] + hotword)
        cursor = end
    result.append(text[cursor:])
    return "".join(result), corrections

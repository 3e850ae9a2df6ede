"""Word error rate, for tests and benchmarks that check transcripts against references."""

from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"[^\w\s']|_")


def normalize(text: str) -> list[str]:
    """Lower case, punctuation (hyphens too) turned into spaces, split into words."""
    return _PUNCTUATION.sub(" ", text.lower()).split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1]


def word_error_rate(pairs: list[tuple[str, str]]) -> float:
    """Corpus WER over (reference, hypothesis) pairs: total edits over total reference words."""
    edits = sum(edit_distance(normalize(ref), normalize(hyp)) for ref, hyp in pairs)
    words = sum(len(normalize(ref)) for ref, _ in pairs)
    return edits / words if words else 0.0


_NOT_CHARACTERS = re.compile(r"[\W_]")  # punctuation and spaces: not counted
_DIGITS_AS_CHINESE = str.maketrans("0123456789", "零一二三四五六七八九")


def characters(text: str) -> list[str]:
    """Characters for Chinese scoring: lower case, no punctuation or spaces, each digit read as its
    Chinese numeral (1 → 一), so that a model writing 123 for 一二三 is not charged for it."""
    return list(_NOT_CHARACTERS.sub("", text.lower()).translate(_DIGITS_AS_CHINESE))


def character_error_rate(pairs: list[tuple[str, str]]) -> float:
    """Corpus CER over (reference, hypothesis) pairs: total character edits over reference characters."""
    edits = sum(edit_distance(characters(ref), characters(hyp)) for ref, hyp in pairs)
    total = sum(len(characters(ref)) for ref, _ in pairs)
    return edits / total if total else 0.0

"""What the portal knows about writing systems: which characters are Chinese (or Japanese, or
Korean), and the one rule for joining pieces of text. Engines, editing, exports, search, ITN and
hotword correction all ask here. No Django.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Chinese characters: the unified ideographs, extension A, the compatibility block, and the
# supplementary-plane extensions.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
# The letters of scripts written without spaces between words: Han, kana, hangul syllables. The
# history search on PostgreSQL indexes runs of these as character pairs; migration 0007's SQL
# function uses the same class (tests/test_text.py checks that they agree).
CJK_LETTERS = "\u3040-\u30ff" + HAN + "\uac00-\ud7af"
# Everything that sits in such text without spaces around it: the letters, radicals, bopomofo,
# CJK punctuation (。、「」) and full-width forms (，！？：；).
CJK = CJK_LETTERS + "\u2e80-\u2fdf\u3000-\u303f\u3100-\u312f\u31a0-\u31bf\uff00-\uffef"

_HAN = re.compile(f"[{HAN}]")
_CJK = re.compile(f"[{CJK}]")


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def is_cjk(char: str) -> bool:
    return bool(_CJK.fullmatch(char))


def join_texts(pieces: Iterable[str]) -> str:
    """Pieces of one text (tokens, segments), joined with a space only where both sides of the
    boundary are written with spaces: "我们" + "like it" + "and so" + "。" -> "我们like it and so。".
    Decided at each boundary, so a mixed Chinese and English transcript reads right."""
    text = ""
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        if text and not is_cjk(text[-1]) and not is_cjk(piece[0]):
            text += " "
        text += piece
    return text

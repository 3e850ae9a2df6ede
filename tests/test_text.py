"""transcription/text.py: which characters are CJK, and the one rule for joining text."""

from __future__ import annotations

import importlib

from transcription.text import CJK, CJK_LETTERS, HAN, has_cjk, has_han, is_cjk, join_texts


def test_it_joins_tokens_without_spaces_between_chinese_characters():
    assert join_texts("我 们 去 开 会".split()) == "我们去开会"
    assert join_texts("hello world".split()) == "hello world"
    assert join_texts("我 用 iphone 打 电 话".split()) == "我用iphone打电话"
    assert join_texts(["今天下雨。", "we stay home."]) == "今天下雨。we stay home."


def test_it_decides_at_each_boundary_in_a_mixed_transcript():
    # Segments of one mixed Chinese and English meeting: English pieces keep their space, even
    # though the transcript holds Chinese elsewhere (a whole-text rule made "like itand so").
    segments = ["我们先看 Q3", "like it", "and so", "，然后", "下一个 topic"]
    assert join_texts(segments) == "我们先看 Q3 like it and so，然后下一个 topic"


def test_it_skips_empty_pieces_and_outer_spaces():
    assert join_texts(["", " hello ", "  ", "world"]) == "hello world"
    assert join_texts([]) == ""


def test_it_knows_which_characters_are_cjk():
    assert is_cjk("中") and is_cjk("か") and is_cjk("한") and is_cjk("，") and is_cjk("。")
    assert not is_cjk("a") and not is_cjk("1") and not is_cjk(",")
    assert has_han("Q3冲刺") and not has_han("カタカナ") and not has_han("hello")
    assert has_cjk("カタカナ") and not has_cjk("hello, world")


def test_it_nests_the_classes_han_in_letters_in_cjk():
    assert _ranges(HAN) <= _ranges(CJK_LETTERS) <= _ranges(CJK)
    assert has_han("\U00020000") and has_han("\uf900") and not has_han("ア")


def test_it_agrees_with_the_class_the_postgresql_search_index_uses():
    # Migration 0007's SQL function splits CJK runs into character pairs with its own copy of
    # the class: search.py must split queries the same way, or Chinese terms would miss.
    migration = importlib.import_module("transcription.migrations.0007_job_history_search")
    assert migration.PG_CJK.startswith("[") and migration.PG_CJK.endswith("]")
    assert _ranges(migration.PG_CJK[1:-1]) == _ranges(CJK_LETTERS)


def _ranges(char_class: str) -> set[tuple[str, str]]:
    """A class body made only of ranges ("a-zα-ω"), as a set of (first, last)."""
    assert len(char_class) % 3 == 0 and all(char_class[i + 1] == "-" for i in range(0, len(char_class), 3))
    return {(char_class[i], char_class[i + 2]) for i in range(0, len(char_class), 3)}

"""ITN's house style for numbers the model already wrote in digits (Whisper)."""

import pytest

from transcription.itn import normalize_zh

CASES = [
    ("我31岁了", "我31岁了"),
    ("今天是2025年3月15号", "今天是2025年3月15日"),
    ("今天是2025年3月15號", "今天是2025年3月15日"),
    ("3月15号下午", "3月15日下午"),
    ("价格是1500块。", "价格是1500元。"),
    ("价格是1,500块钱", "价格是1500元"),
    ("五块钱和5块钱", "5元和5元"),
    ("3.5块", "3.5元"),
]
UNCHANGED = ["3块蛋糕", "3号楼", "13月5号", "第2块", "Room 3, block 5"]


@pytest.mark.parametrize(("spoken", "written"), CASES)
def test_it_writes_dates_and_money_in_digits_the_house_way(spoken, written):
    assert normalize_zh(spoken) == written
    assert normalize_zh(written) == written  # idempotent


@pytest.mark.parametrize("text", UNCHANGED)
def test_it_leaves_measure_words_and_other_numbers_alone(text):
    assert normalize_zh(text) == text

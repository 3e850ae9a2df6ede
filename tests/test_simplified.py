"""Chinese transcripts in Simplified characters, whatever the model wrote."""

from transcription import simplified
from transcription.engine import Segment, Transcript


def test_it_converts_traditional_chinese_to_simplified():
    assert simplified.to_simplified("我們下週討論新火計劃的進度") == "我们下周讨论新火计划的进度"
    assert simplified.to_simplified("價格是1500塊。") == "价格是1500块。"
    assert simplified.to_simplified("头发和后来") == "头发和后来"  # Simplified stays as it is
    assert simplified.to_simplified("Hello, 2025!") == "Hello, 2025!"


def test_it_converts_the_text_and_every_segment_of_a_chinese_transcript():
    transcript = Transcript(
        text="我們下週討論",
        segments=[Segment(start=0.0, end=1.0, text="我們"), Segment(start=1.0, end=2.0, text="下週討論")],
        language="zh",
    )
    result = simplified.transcript(transcript)
    assert result.text == "我们下周讨论" and result.language == "zh"
    assert [(s.start, s.end, s.text) for s in result.segments] == [(0.0, 1.0, "我们"), (1.0, 2.0, "下周讨论")]


def test_it_leaves_other_languages_alone():
    japanese = Transcript(
        text="東京で會議", segments=[Segment(start=0, end=1, text="東京で會議")], language="ja"
    )
    assert simplified.transcript(japanese) is japanese
    assert simplified.is_chinese("zh") and simplified.is_chinese("zh-TW") and simplified.is_chinese("ZH_Hant")
    assert not simplified.is_chinese("yue") and not simplified.is_chinese("")

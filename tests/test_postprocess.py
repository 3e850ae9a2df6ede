from transcription.engine import Segment, Transcript
from transcription.postprocess import polish

SPOKEN = Transcript(
    text="我三十一岁了 请参加星火计画",
    segments=[Segment(0.0, 1.2, "我三十一岁了"), Segment(1.5, 3.0, "请参加星火计画")],
    language="zh",
)


def test_it_normalizes_and_corrects_text_and_segments_keeping_the_raw_output():
    result = polish(SPOKEN, itn=True, hotwords=["星火计划"])
    assert result.text == "我31岁了 请参加星火计划"
    assert result.raw_text == SPOKEN.text
    assert result.segments == [
        {"start": 0.0, "end": 1.2, "text": "我31岁了", "raw": "我三十一岁了"},
        {"start": 1.5, "end": 3.0, "text": "请参加星火计划", "raw": "请参加星火计画"},
    ]
    assert result.corrections == [{"from": "星火计画", "to": "星火计划"}]


def test_it_leaves_numbers_alone_without_itn():
    result = polish(SPOKEN, itn=False, hotwords=[])
    assert result.text == SPOKEN.text and result.corrections == []
    assert all("raw" not in s for s in result.segments)

from transcription.engine import Segment, Transcript, Word
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


def test_it_keeps_word_timings_and_the_models_tags_beside_each_segment():
    words = [Word(0.1, 0.4, "我"), Word(0.4, 0.9, "三"), Word(0.9, 1.1, "十")]
    spoken = Transcript(
        text="我三十一岁了",
        segments=[
            Segment(0.0, 1.2, "我三十一岁了", words=words, metadata={"language": "zh", "emotion": "NEUTRAL"}),
            Segment(1.5, 3.0, "好"),
        ],
    )
    first, second = polish(spoken, itn=True, hotwords=[]).segments
    assert first == {
        "start": 0.0,
        "end": 1.2,
        "text": "我31岁了",
        "raw": "我三十一岁了",
        "language": "zh",
        "emotion": "NEUTRAL",
        "words": [  # the model's own words, as it timed them
            {"start": 0.1, "end": 0.4, "word": "我"},
            {"start": 0.4, "end": 0.9, "word": "三"},
            {"start": 0.9, "end": 1.1, "word": "十"},
        ],
    }
    assert second == {"start": 1.5, "end": 3.0, "text": "好"}  # no timings, no tags: no keys

"""Exports are checked by parsing them back with independent libraries (srt, webvtt-py,
python-docx, json, zipfile). Jobs are built in memory and never saved: no database needed."""

from __future__ import annotations

import json
import re
import time
import zipfile
from datetime import UTC, datetime
from io import BytesIO

import docx
import pytest
import srt
import webvtt

from transcription import exports
from transcription.exports import FORMATS, render, render_zip
from transcription.models import Job

ENGLISH = (
    "So the plan for the next quarter is simple, we ship the new recogniser first, then we "
    "improve the hotword lists, and finally we look again at the dashboard. Does anyone object?"
)
CHINESE = (
    "我们今天讨论一下下个季度的产品路线图，首先是语音识别模型的升级，其次是热词功能的改进，"
    "最后再看看仪表盘的设计。大家有什么意见吗？"
)


@pytest.fixture(autouse=True)
def clean_redis():
    """Overrides the suite's Redis flush: rendering never touches Redis."""
    yield


def make_job(**fields) -> Job:
    defaults = {
        "original_name": "meeting.wav",
        "language": "en",
        "duration": 12.0,
        "status": Job.Status.DONE,
        "text": "Hello there. General Kenobi.",
        "raw_text": "hello there general kenobi",
        "segments": [
            {"start": 0.0, "end": 1.5, "text": "Hello there."},
            {"start": 2.0, "end": 4.25, "text": "General Kenobi.", "raw": "general kenobi"},
        ],
        "queued_at": datetime(2025, 3, 15, 9, 30, tzinfo=UTC),
        "finished_at": datetime(2025, 3, 15, 9, 31, 5, tzinfo=UTC),
        "processing_seconds": 3.5,
    }
    return Job(**(defaults | fields))


def srt_cues(job: Job, **kwargs) -> list[srt.Subtitle]:
    return list(srt.parse(render(job, "srt", **kwargs).content.decode()))


def assert_valid_subtitles(cues: list[srt.Subtitle], *, width: int = 42) -> None:
    assert [c.index for c in cues] == list(range(1, len(cues) + 1))
    for cue in cues:
        assert cue.end > cue.start
        lines = cue.content.split("\n")
        assert 1 <= len(lines) <= 2 and all(line.strip() for line in lines)
        assert all(len(line) <= width for line in lines), lines
    for before, after in zip(cues, cues[1:], strict=False):
        assert before.end <= after.start


def seconds(delta) -> float:
    return delta.total_seconds()


# --- SRT ----------------------------------------------------------------------------------


def test_it_renders_srt_that_parses_back_with_the_segments_texts_and_times():
    rendered = render(make_job(), "srt")
    cues = list(srt.parse(rendered.content.decode()))

    assert [(c.index, seconds(c.start), seconds(c.end), c.content) for c in cues] == [
        (1, 0.0, 1.5, "Hello there."),
        (2, 2.0, 4.25, "General Kenobi."),
    ]
    assert srt.compose(cues) == rendered.content.decode()
    assert rendered.content_type == "application/x-subrip; charset=utf-8"
    assert rendered.filename == "meeting.srt"


def test_it_splits_a_long_english_segment_into_short_cues_within_its_time():
    job = make_job(segments=[{"start": 10.0, "end": 22.0, "text": ENGLISH}])

    cues = srt_cues(job)

    assert len(cues) > 1
    assert_valid_subtitles(cues, width=42)
    assert seconds(cues[0].start) == 10.0 and seconds(cues[-1].end) == 22.0
    assert all(cues[i].end == cues[i + 1].start for i in range(len(cues) - 1))  # no gaps inside
    assert " ".join(c.content.replace("\n", " ") for c in cues) == ENGLISH


def test_it_shares_a_segments_time_among_its_cues_by_length():
    job = make_job(segments=[{"start": 0.0, "end": 20.0, "text": ENGLISH}])

    cues = srt_cues(job)

    lengths = [len(cue.content.replace("\n", "")) for cue in cues]  # characters shown
    for cue, length in zip(cues, lengths, strict=True):
        share = length / sum(lengths)
        assert seconds(cue.end - cue.start) == pytest.approx(20.0 * share, abs=0.1)


def test_it_splits_a_long_chinese_segment_into_lines_of_at_most_20_characters():
    job = make_job(language="zh", segments=[{"start": 3.0, "end": 15.0, "text": CHINESE}])

    cues = srt_cues(job)

    assert len(cues) > 1
    assert_valid_subtitles(cues, width=20)
    assert seconds(cues[0].start) == 3.0 and seconds(cues[-1].end) == 15.0
    assert "".join(c.content.replace("\n", "") for c in cues) == CHINESE
    lines = [line for c in cues for line in c.content.split("\n")]
    # Lines end after punctuation where there is some, and none starts with it.
    assert sum(line[-1] in "，。？" for line in lines) >= len(lines) - 1
    assert not any(line[0] in "，。？" for line in lines)


def test_it_splits_chinese_without_punctuation_anywhere():
    text = "一二三四五六七八九十" * 5
    cues = srt_cues(make_job(segments=[{"start": 0.0, "end": 5.0, "text": text}]))

    assert_valid_subtitles(cues, width=20)
    assert "".join(c.content.replace("\n", "") for c in cues) == text


def test_it_cuts_a_word_longer_than_a_line():
    word = "x" * 100
    cues = srt_cues(make_job(segments=[{"start": 0.0, "end": 5.0, "text": f"a {word} b"}]))

    assert_valid_subtitles(cues)
    assert "".join(c.content.replace("\n", "") for c in cues).replace(" ", "") == f"a{word}b"


def test_it_makes_overlapping_unsorted_and_zero_length_segments_valid():
    job = make_job(
        segments=[
            {"start": 5.0, "end": 7.0, "text": "third"},
            {"start": 0.0, "end": 3.0, "text": "first"},
            {"start": 2.0, "end": 4.0, "text": "second overlaps first"},
            {"start": 8.0, "end": 8.0, "text": "zero length"},
            {"start": 9.0, "end": 8.5, "text": "negative length"},
            {"start": 9.1, "end": 10.0, "text": "starts right after"},
            {"start": 9.5, "end": 9.6, "text": "inside the previous one"},
        ]
    )

    cues = srt_cues(job)

    assert_valid_subtitles(cues)
    assert [c.content for c in cues] == [
        "first",
        "second overlaps first",
        "third",
        "zero length",
        "negative length",
        "starts right after",
        "inside the previous one",
    ]
    times = [(seconds(c.start), seconds(c.end)) for c in cues]
    assert times[:4] == [(0.0, 3.0), (3.0, 4.0), (5.0, 7.0), (8.0, 8.5)]
    assert times[4] == (9.0, 9.1)  # at least some time, but never into the next cue
    assert times[5] == (9.1, 10.0)
    assert times[6] == (10.0, 10.5)  # wholly inside the previous one: moved after it


def test_it_skips_empty_segments_and_numbers_cues_from_one():
    job = make_job(
        segments=[
            {"start": 0.0, "end": 1.0, "text": "  "},
            {"start": 1.0, "end": 2.0, "text": "one"},
            {"start": 2.0, "end": 3.0, "text": ""},
            {"start": 3.0, "end": 4.0, "text": "two"},
        ]
    )

    cues = srt_cues(job)

    assert [(c.index, c.content) for c in cues] == [(1, "one"), (2, "two")]


def test_it_survives_malformed_segment_times():
    job = make_job(
        segments=[
            {"start": None, "end": "x", "text": "no times"},
            {"start": float("nan"), "end": float("inf"), "text": "not numbers"},
            {"start": -3, "end": 1, "text": "negative start"},
            "not a segment",
        ]
    )

    assert_valid_subtitles(srt_cues(job))


def test_it_makes_one_cue_spanning_the_duration_from_text_without_segments():
    job = make_job(segments=[], text="Just some text.", duration=7.5)

    cues = srt_cues(job)

    assert [(seconds(c.start), seconds(c.end), c.content) for c in cues] == [(0.0, 7.5, "Just some text.")]


def test_it_renders_an_empty_transcript_as_files_without_cues():
    job = make_job(segments=[], text="", raw_text="")

    assert render(job, "srt").content == b""
    assert render(job, "txt").content == b""
    assert render(job, "vtt").content == b"WEBVTT\n\n"
    assert webvtt.from_string(render(job, "vtt").content.decode()).captions == []


# --- VTT ----------------------------------------------------------------------------------


def test_it_renders_vtt_that_parses_back_with_the_segments_texts_and_times():
    job = make_job(segments=[{"start": 61.5, "end": 63.0, "text": "One."}, *long_segments(70.0)])
    rendered = render(job, "vtt")

    captions = webvtt.from_buffer(BytesIO(rendered.content)).captions

    assert rendered.content.startswith(b"WEBVTT\n\n")
    assert rendered.content_type == "text/vtt; charset=utf-8"
    assert rendered.filename == "meeting.vtt"
    assert captions[0].start == "00:01:01.500" and captions[0].end == "00:01:03.000"
    assert captions[0].text == "One."
    # The same cues as SRT, in VTT's spelling of time.
    assert [(c.start, c.end, c.text) for c in captions] == [
        (vtt_time(c.start), vtt_time(c.end), c.content) for c in srt_cues(job)
    ]
    for caption in captions:
        assert len(caption.lines) <= 2
        assert all(len(line) <= (20 if re.search("[一-龥]", line) else 42) for line in caption.lines)
    starts = [c.start_time.in_milliseconds() for c in captions]
    ends = [c.end_time.in_milliseconds() for c in captions]
    assert all(s < e for s, e in zip(starts, ends, strict=True))
    assert all(e <= s for e, s in zip(ends, starts[1:], strict=False))


def long_segments(start: float) -> list[dict]:
    return [
        {"start": start, "end": start + 10, "text": ENGLISH},
        {"start": start + 10, "end": start + 20, "text": CHINESE},
    ]


def vtt_time(delta) -> str:
    return srt.timedelta_to_srt_timestamp(delta).replace(",", ".")


def test_it_escapes_markup_in_vtt_cue_text():
    job = make_job(segments=[{"start": 0.0, "end": 1.0, "text": "if a < b && c --> d"}])

    content = render(job, "vtt").content.decode()

    assert "if a &lt; b &amp;&amp; c --&gt; d" in content
    assert len(webvtt.from_string(content).captions) == 1


# --- TXT ----------------------------------------------------------------------------------


def test_it_renders_plain_text_with_one_segment_per_line():
    rendered = render(make_job(), "txt")

    assert rendered.content.decode() == "Hello there.\nGeneral Kenobi.\n"
    assert rendered.content_type == "text/plain; charset=utf-8"
    assert rendered.filename == "meeting.txt"


def test_it_renders_plain_text_from_the_text_when_there_are_no_segments():
    job = make_job(segments=[], text="第一行\n\n第二行")

    assert render(job, "txt").content.decode() == "第一行\n第二行\n"


# --- raw words ----------------------------------------------------------------------------


def test_it_exports_the_models_raw_words_on_request():
    job = make_job()

    assert render(job, "txt", raw=True).content.decode() == "Hello there.\ngeneral kenobi\n"
    assert [c.content for c in srt_cues(job, raw=True)] == ["Hello there.", "general kenobi"]
    vtt = webvtt.from_string(render(job, "vtt", raw=True).content.decode())
    assert [c.text for c in vtt.captions] == ["Hello there.", "general kenobi"]
    paragraphs = [p.text for p in docx.Document(BytesIO(render(job, "docx", raw=True).content)).paragraphs]
    assert "[00:00:02] general kenobi" in paragraphs
    assert "[00:00:02] General Kenobi." not in paragraphs


def test_it_exports_the_raw_text_when_there_are_no_segments():
    job = make_job(segments=[], text="我31岁了", raw_text="我三十一岁了")

    assert render(job, "txt", raw=True).content.decode() == "我三十一岁了\n"
    assert render(job, "txt").content.decode() == "我31岁了\n"


# --- JSON ---------------------------------------------------------------------------------


def test_it_renders_json_with_the_whole_record_and_chinese_unescaped():
    hotwords = [{"phrase": "星火计划", "weight": 30}]
    segments = [{"start": 0.0, "end": 1.2, "text": "我31岁了", "raw": "我三十一岁了"}]
    job = make_job(
        original_name="会议记录.mp3",
        language="zh",
        text="我31岁了",
        raw_text="我三十一岁了",
        segments=segments,
        corrections=[{"from": "星火计画", "to": "星火计划"}],
        options={"profile": "Paraformer-zh", "hotwords": hotwords, "engine": {"engine": "funasr"}},
    )

    rendered = render(job, "json")
    data = json.loads(rendered.content)

    assert "我31岁了".encode() in rendered.content and b"\\u" not in rendered.content
    assert rendered.content_type == "application/json"
    assert rendered.filename == "会议记录.json"
    assert data == {
        "id": str(job.id),
        "name": "会议记录.mp3",
        "language": "zh",
        "duration": 12.0,
        "text": "我31岁了",
        "raw_text": "我三十一岁了",
        "segments": segments,
        "corrections": [{"from": "星火计画", "to": "星火计划"}],
        "engine": {"engine": "funasr"},
        "profile": "Paraformer-zh",
        "hotwords": hotwords,
        "created": "2025-03-15T09:30:00+00:00",
        "finished": "2025-03-15T09:31:05+00:00",
        "processing_seconds": 3.5,
    }
    assert datetime.fromisoformat(data["finished"]) == job.finished_at


def test_it_renders_json_for_a_job_without_options_or_timings():
    job = make_job(options={}, queued_at=None, finished_at=None, processing_seconds=None)

    data = json.loads(render(job, "json").content)

    assert data["engine"] == {} and data["profile"] is None and data["hotwords"] == []
    assert data["created"] is None and data["finished"] is None


# --- DOCX ---------------------------------------------------------------------------------


def test_it_renders_docx_with_title_metadata_and_timestamped_segments():
    job = make_job(segments=[{"start": 83.9, "end": 85.0, "text": "Hello there."}, *long_segments(3700.0)])
    rendered = render(job, "docx")

    document = docx.Document(BytesIO(rendered.content))
    paragraphs = document.paragraphs

    assert rendered.filename == "meeting.docx"
    assert rendered.content_type == FORMATS["docx"].content_type
    assert paragraphs[0].text == "meeting.wav" and paragraphs[0].style.name == "Title"
    assert "00:00:12" in paragraphs[1].text and "en" in paragraphs[1].text
    assert "2025-03-15" in paragraphs[1].text
    assert [p.text for p in paragraphs[2:]] == [
        "[00:01:23] Hello there.",
        f"[01:01:40] {ENGLISH}",
        f"[01:01:50] {CHINESE}",
    ]
    stamp, text = paragraphs[2].runs
    assert stamp.font.color.rgb is not None and str(stamp.font.color.rgb) != "000000"
    assert text.font.color.rgb is None  # the words keep the normal colour
    assert document.core_properties.title == "meeting.wav"


def test_it_renders_docx_even_with_control_characters_in_the_name_and_text():
    job = make_job(original_name="bad\x00name\x0b.wav", segments=[{"start": 0, "end": 1, "text": "a\x01b"}])

    paragraphs = docx.Document(BytesIO(render(job, "docx").content)).paragraphs

    assert paragraphs[0].text == "badname.wav"
    assert paragraphs[-1].text == "[00:00:00] ab"


def test_it_renders_the_same_docx_whenever_it_is_asked(monkeypatch):
    job = make_job()
    first = render(job, "docx").content
    # An hour later by the clock zipfile reads when it dates a document's parts.
    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)

    second = render(job, "docx").content

    assert first == second
    with zipfile.ZipFile(BytesIO(second)) as archive:
        dates = {info.date_time[:5] for info in archive.infolist()}  # a zip's seconds are even
    assert dates == {job.finished_at.timetuple()[:5]}


def test_it_renders_docx_from_the_text_when_there_are_no_segments():
    job = make_job(segments=[], text="First line.\nSecond line.")

    paragraphs = docx.Document(BytesIO(render(job, "docx").content)).paragraphs

    assert [p.text for p in paragraphs[2:]] == ["First line.", "Second line."]


# --- file names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("会议记录.mp3", "会议记录.srt"),
        ("../../etc/pass\nwd.wav", "passwd.srt"),
        ("C:\\Users\\me\\call.m4a", "call.srt"),
        ('say "hi"; now?.wav', "say _hi_; now_.srt"),
        ("archive.tar.gz", "archive.tar.srt"),
        ("noextension", "noextension.srt"),
        (".hidden.wav", "hidden.srt"),
        ("evil\u202ewav.exe", "evilwav.srt"),
        ("..", "transcript.srt"),
        ("", "transcript.srt"),
        ("/", "transcript.srt"),
    ],
)
def test_it_names_files_after_the_original_safely(original, expected):
    filename = render(make_job(original_name=original), "srt").filename

    assert filename == expected
    assert not any(c in filename for c in '/\\"\r\n\x00')


def test_it_keeps_long_names_reasonable():
    assert len(render(make_job(original_name="x" * 255 + ".wav"), "txt").filename) <= 160


# --- zip ----------------------------------------------------------------------------------


def test_it_zips_one_file_per_job_with_unique_names():
    jobs = [
        make_job(original_name="call.wav"),
        make_job(original_name="Call.mp3", segments=[{"start": 0, "end": 1, "text": "second"}]),
        make_job(original_name="call.wav", segments=[{"start": 0, "end": 1, "text": "third"}]),
        make_job(original_name="会议记录.mp3", segments=[{"start": 0, "end": 1, "text": "会议"}]),
    ]

    rendered = render_zip(jobs, "srt")

    assert rendered.content_type == "application/zip"
    assert rendered.filename.endswith(".zip")
    with zipfile.ZipFile(BytesIO(rendered.content)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        assert names == ["call.srt", "Call (2).srt", "call (3).srt", "会议记录.srt"]
        for name, job in zip(names, jobs, strict=True):
            assert archive.read(name) == render(job, "srt").content


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_it_zips_every_format_the_same_as_single_files(fmt):
    jobs = [make_job(), make_job(original_name="other.wav", segments=[])]

    with zipfile.ZipFile(BytesIO(render_zip(jobs, fmt, raw=True).content)) as archive:
        contents = [archive.read(name) for name in archive.namelist()]

    assert contents == [render(job, fmt, raw=True).content for job in jobs]


def test_it_streams_the_zip_in_chunks_equal_to_the_whole():
    jobs = [make_job(), make_job()]

    chunks = list(exports.iter_zip(iter(jobs), "txt"))

    assert len(chunks) > 2
    assert b"".join(chunks) == render_zip(jobs, "txt").content


def test_it_zips_no_jobs_into_an_empty_archive():
    with zipfile.ZipFile(BytesIO(render_zip([], "txt").content)) as archive:
        assert archive.namelist() == []


# --- formats ------------------------------------------------------------------------------


def test_it_declares_each_formats_extension_and_content_type():
    assert {key: (f.extension, f.content_type) for key, f in FORMATS.items()} == {
        "txt": (".txt", "text/plain; charset=utf-8"),
        "srt": (".srt", "application/x-subrip; charset=utf-8"),
        "vtt": (".vtt", "text/vtt; charset=utf-8"),
        "json": (".json", "application/json"),
        "docx": (".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    }


def test_it_refuses_an_unknown_format_naming_the_known_ones():
    with pytest.raises(ValueError, match="Unknown export format 'pdf'.*txt, srt, vtt, json, docx"):
        render(make_job(), "pdf")
    with pytest.raises(ValueError, match="Unknown export format"):
        render_zip([make_job()], "pdf")
    with pytest.raises(ValueError, match="Unknown export format"):
        exports.iter_zip([make_job()], "../srt")

"""Exports of a diarized job: who speaks, in every format. Jobs are built in memory and never
saved; the files are parsed back with independent libraries, as in test_exports.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from io import BytesIO

import docx
import pytest
import srt
import webvtt
from django.utils import translation

from transcription.exports import render
from transcription.models import Job

SPEAKERS = {"S1": {"name": ""}, "S2": {"name": "Ana"}}


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
        "text": "Hello there. General Kenobi. You are a bold one. Kill him.",
        "raw_text": "",
        "speakers": SPEAKERS,
        "segments": [
            {"start": 0.0, "end": 1.5, "text": "Hello there.", "speaker": "S1"},
            {"start": 2.0, "end": 4.0, "text": "General Kenobi.", "speaker": "S2", "raw": "general kenobi"},
            {"start": 4.5, "end": 6.0, "text": "You are a bold one.", "speaker": "S2"},
            {"start": 7.0, "end": 8.0, "text": "Kill him.", "speaker": "S1"},
        ],
        "queued_at": datetime(2025, 3, 15, 9, 30, tzinfo=UTC),
        "finished_at": datetime(2025, 3, 15, 9, 31, 5, tzinfo=UTC),
        "processing_seconds": 3.5,
    }
    return Job(**(defaults | fields))


def chinese_job() -> Job:
    return make_job(
        language="zh",
        speakers={"S1": {"name": "张三"}, "S2": {"name": ""}},
        segments=[
            {"start": 0.0, "end": 1.0, "text": "我们开始吧。", "speaker": "S1"},
            {"start": 1.0, "end": 2.0, "text": "先看路线图。", "speaker": "S1"},
            {"start": 2.5, "end": 3.0, "text": "好的。", "speaker": "S2"},
        ],
    )


# --- TXT ----------------------------------------------------------------------------------


def test_it_renders_plain_text_as_one_paragraph_per_turn_with_the_speakers_name():
    text = render(make_job(), "txt").content.decode()

    assert text == (
        "Speaker 1: Hello there.\n\nAna: General Kenobi. You are a bold one.\n\nSpeaker 1: Kill him.\n"
    )


def test_it_joins_a_chinese_turn_without_spaces():
    text = render(chinese_job(), "txt").content.decode()

    assert text == "张三: 我们开始吧。先看路线图。\n\nSpeaker 2: 好的。\n"


def test_it_names_unnamed_speakers_in_the_users_language():
    with translation.override("zh-hans"):
        text = render(make_job(), "txt").content.decode()

    assert text.startswith("说话人 1: Hello there.")


def test_it_exports_the_raw_words_of_a_turn_on_request():
    text = render(make_job(), "txt", raw=True).content.decode()

    assert "Ana: general kenobi You are a bold one.\n" in text


def test_it_leaves_a_segment_without_a_known_speaker_unnamed():
    segments = [
        {"start": 0.0, "end": 1.0, "text": "Who?", "speaker": "S9"},
        {"start": 1.0, "end": 2.0, "text": "Me.", "speaker": "S2"},
    ]

    text = render(make_job(segments=segments), "txt").content.decode()

    assert text == "Who?\n\nAna: Me.\n"


def test_it_renders_a_job_that_was_not_diarized_as_before():
    job = make_job(speakers={})

    assert render(job, "txt").content.decode() == (
        "Hello there.\nGeneral Kenobi.\nYou are a bold one.\nKill him.\n"
    )
    assert [c.content for c in srt.parse(render(job, "srt").content.decode())][0] == "Hello there."
    assert "<v " not in render(job, "vtt").content.decode()
    data = json.loads(render(job, "json").content)
    assert "speakers" not in data  # and the segments' stale keys are no speakers either:
    assert all("speaker" not in s and "speaker_name" not in s for s in data["segments"])
    assert data["segments"][1] == {
        "start": 2.0,
        "end": 4.0,
        "text": "General Kenobi.",
        "raw": "general kenobi",
    }


# --- SRT and VTT --------------------------------------------------------------------------


def test_it_prefixes_each_srt_cue_with_its_speakers_name():
    cues = list(srt.parse(render(make_job(), "srt").content.decode()))

    assert [c.content for c in cues] == [
        "Speaker 1: Hello there.",
        "Ana: General Kenobi.",
        "Ana: You are a bold one.",
        "Speaker 1: Kill him.",
    ]


def test_it_prefixes_every_cue_of_a_long_segment_and_keeps_lines_short():
    words = "so the plan for the next quarter is simple we ship the new recogniser first " * 3
    job = make_job(segments=[{"start": 0.0, "end": 20.0, "text": words, "speaker": "S2"}])

    cues = list(srt.parse(render(job, "srt").content.decode()))

    assert len(cues) > 1
    assert all(c.content.startswith("Ana: ") for c in cues)
    assert all(len(line) <= 42 for c in cues for line in c.content.split("\n"))
    assert all(before.end <= after.start for before, after in zip(cues, cues[1:], strict=False))


def test_it_marks_each_vtt_cue_with_a_voice_tag():
    content = render(make_job(), "vtt").content.decode()

    captions = webvtt.from_string(content).captions

    assert len(captions) == 4
    assert "<v Speaker 1>Hello there.\n" in content
    assert "<v Ana>General Kenobi.\n" in content
    assert [c.voice for c in captions] == ["Speaker 1", "Ana", "Ana", "Speaker 1"]
    assert [c.text for c in captions][:2] == ["Hello there.", "General Kenobi."]


def test_it_escapes_markup_in_a_vtt_voice_name():
    job = make_job(speakers={"S1": {"name": "A&B <x> -->"}, "S2": {"name": "Ana"}})

    content = render(job, "vtt").content.decode()

    assert "<v A&amp;B &lt;x&gt; --&gt;>Hello there.\n" in content
    assert len(webvtt.from_string(content).captions) == 4


# --- JSON ---------------------------------------------------------------------------------


def test_it_renders_json_with_speaker_names_and_talk_time():
    data = json.loads(render(make_job(), "json").content)

    assert [(s["speaker"], s["speaker_name"]) for s in data["segments"]] == [
        ("S1", "Speaker 1"),
        ("S2", "Ana"),
        ("S2", "Ana"),
        ("S1", "Speaker 1"),
    ]
    assert data["segments"][1]["raw"] == "general kenobi"
    assert data["speakers"] == [
        {"key": "S1", "name": "Speaker 1", "seconds": 2.5},
        {"key": "S2", "name": "Ana", "seconds": 3.5},
    ]


# --- DOCX ---------------------------------------------------------------------------------


def test_it_renders_docx_with_one_paragraph_per_turn_and_the_name_in_bold():
    paragraphs = docx.Document(BytesIO(render(make_job(), "docx").content)).paragraphs

    assert [p.text for p in paragraphs[2:]] == [
        "[00:00:00] Speaker 1: Hello there.",
        "[00:00:02] Ana: General Kenobi. You are a bold one.",
        "[00:00:07] Speaker 1: Kill him.",
    ]
    stamp, name, text = paragraphs[3].runs
    assert name.text == "Ana: " and name.bold
    assert not stamp.bold and not text.bold

"""A job's speakers (transcription/speakers.py): names as shown, talk time, and the user's edits."""

from __future__ import annotations

import pytest
from django.utils import translation

from transcription import speakers
from transcription.models import Job

pytestmark = pytest.mark.django_db

SEGMENTS = [
    {"start": 0.0, "end": 4.0, "text": "Good morning.", "speaker": "S1"},
    {"start": 4.5, "end": 6.0, "text": "Morning!", "speaker": "S2"},
    {"start": 6.0, "end": 10.0, "text": "Shall we start?", "speaker": "S1"},
    {"start": 10.0, "end": 12.0, "text": "Yes.", "speaker": "S3"},
]


def diarized(owner, **fields) -> Job:
    values = {
        "original_name": "meeting.wav",
        "status": Job.Status.DONE,
        "text": "Good morning. Morning! Shall we start? Yes.",
        "segments": [dict(s) for s in SEGMENTS],
        "speakers": {"S1": {"name": ""}, "S2": {"name": "Ana"}, "S3": {"name": ""}},
        "options": {"diarize": {"speakers": 0}},
    }
    return Job.objects.create(owner=owner, **(values | fields))


def test_it_shows_a_given_name_or_a_numbered_speaker_in_the_users_language(alice):
    job = diarized(alice)
    assert speakers.names(job) == {"S1": "Speaker 1", "S2": "Ana", "S3": "Speaker 3"}
    with translation.override("zh-hans"):
        assert speakers.display_name(job.speakers, "S1") == "说话人 1"
    assert speakers.segment_speaker(job, job.segments[1]) == "Ana"
    assert speakers.segment_speaker(job, {"start": 0, "end": 1, "text": "x"}) == ""


def test_it_counts_each_speakers_talk_time(alice):
    people = speakers.of_job(diarized(alice))
    assert [(p.key, p.seconds, p.percent, p.colour, p.talk_time) for p in people] == [
        ("S1", 8.0, 70, 1, "0:08"),
        ("S2", 1.5, 13, 2, "0:02"),
        ("S3", 2.0, 17, 3, "0:02"),
    ]


def test_it_renames_a_speaker_for_the_whole_job(alice):
    job = speakers.speaker_rename(job=diarized(alice), key="S1", name="  Elinor   Dashwood ")
    job.refresh_from_db()
    assert job.speakers["S1"] == {"name": "Elinor Dashwood"}
    assert [speakers.segment_speaker(job, s) for s in job.segments] == [
        "Elinor Dashwood",
        "Ana",
        "Elinor Dashwood",
        "Speaker 3",
    ]


def test_it_refuses_an_empty_name_or_an_unknown_speaker(alice):
    job = diarized(alice)
    with pytest.raises(ValueError, match="empty"):
        speakers.speaker_rename(job=job, key="S1", name="   ")
    with pytest.raises(ValueError, match="no such speaker"):
        speakers.speaker_rename(job=job, key="S9", name="Bob")
    with pytest.raises(ValueError, match="no such speaker"):
        speakers.speaker_merge(job=job, key="S1", into="S9")
    job.refresh_from_db()
    assert job.speakers["S1"] == {"name": ""}


def test_it_refuses_to_edit_the_speakers_of_a_job_without_them(alice):
    job = diarized(alice, speakers={}, segments=[{"start": 0.0, "end": 1.0, "text": "Hi."}])
    with pytest.raises(ValueError, match="no speakers"):
        speakers.speaker_rename(job=job, key="S1", name="Ana")


def test_it_merges_two_speakers_into_one(alice):
    job = speakers.speaker_merge(job=diarized(alice), key="S3", into="S1")
    job.refresh_from_db()
    assert list(job.speakers) == ["S1", "S2"]
    assert [s["speaker"] for s in job.segments] == ["S1", "S2", "S1", "S1"]
    assert [p.seconds for p in speakers.of_job(job)] == [10.0, 1.5]


def test_it_moves_one_segment_to_another_speaker(alice):
    job = speakers.segment_move(job=diarized(alice), index=1, key="S3")
    job.refresh_from_db()
    assert [s["speaker"] for s in job.segments] == ["S1", "S3", "S1", "S3"]
    with pytest.raises(ValueError):
        speakers.segment_move(job=job, index=4, key="S1")


def test_it_keeps_a_name_within_its_limit(alice):
    job = speakers.speaker_rename(job=diarized(alice), key="S2", name="x" * 200)
    assert len(job.speakers["S2"]["name"]) == speakers.MAX_NAME

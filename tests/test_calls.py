"""calls.py: a stereo call's channels, each recognised on its own, joined back into one
conversation with a speaker per side; progress summed over the channels; each side's voice."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conversations import CALL, call_recording, conversation
from transcription import calls, speaker_turns
from transcription.engine.interface import Segment, Transcript


def test_it_reads_the_sides_of_a_call_from_the_options():
    assert calls.roles({"diarize": {"channels": ["customer", "agent"]}}) == ["customer", "agent"]
    assert calls.roles({"diarize": {"speakers": 2}}) == [] and calls.roles({}) == []
    assert calls.LAYOUTS["call-agent-left"] == ["agent", "customer"]
    assert calls.LAYOUTS["call-agent-right"] == ["customer", "agent"]


def test_it_joins_the_channels_in_order_of_time_with_a_speaker_per_channel():
    left = Transcript(
        text="Hello. Anything else?",
        segments=[Segment(0.0, 1.0, "Hello."), Segment(5.0, 6.0, "Anything else?")],
        language="en",
    )
    right = Transcript(text="Hi, my card.", segments=[Segment(1.5, 4.0, "Hi, my card.")])
    call = calls.joined([left, right])
    assert [s.text for s in call.segments] == ["Hello.", "Hi, my card.", "Anything else?"]
    assert [s.metadata["speaker"] for s in call.segments] == ["S1", "S2", "S1"]
    assert call.text == "Hello. Hi, my card. Anything else?" and call.language == "en"


def test_it_puts_the_left_channel_first_when_both_start_together():
    both = [
        Transcript(text="a", segments=[Segment(2.0, 3.0, "a")]),
        Transcript(text="b", segments=[Segment(2.0, 2.5, "b")]),
    ]
    assert [s.metadata["speaker"] for s in calls.joined(both).segments] == ["S1", "S2"]


def test_it_has_no_transcript_when_a_channel_has_none():
    assert calls.joined([Transcript(text=""), None]) is None


def test_it_sums_the_progress_of_the_channels():
    seen = []
    left, right = calls.progress_per_channel(lambda done, total: seen.append((done, total)), 2)
    left(5.0, 10.0)
    assert seen[-1] == (5.0, 20.0)  # the right channel's length is not known yet: as long
    right(2.0, 10.0)
    left(10.0, 10.0)
    right(10.0, 10.0)
    assert seen[1:] == [(7.0, 20.0), (12.0, 20.0), (20.0, 20.0)]


def test_it_mixes_the_channels_into_one_recording():
    mixed = calls.mixed([np.array([1.0, 0.5, 0.2], dtype="f4"), np.array([0.0, 0.5], dtype="f4")])
    assert mixed.tolist() == pytest.approx([0.5, 0.5])


def test_it_gives_every_side_its_role_heard_or_not():
    people = {"S1": {"name": "Lin", "voice": [0.1], "profile": 3, "confidence": 0.9}}
    assert calls.with_roles(people, ["agent", "customer"]) == {
        "S1": {"name": "Lin", "voice": [0.1], "profile": 3, "confidence": 0.9, "role": "agent"},
        "S2": {"name": "", "role": "customer"},
    }


def test_it_hears_each_side_s_own_voice():
    """Each channel's voice is its speaker's, not the echo of the other side: the left channel's
    matches the reader's voice on a mono recording of the reader alone, not the CMU speaker's."""
    conv = conversation(CALL, pause=0.5)
    stereo = call_recording(conv, left="reader")
    segments = [
        Segment(t.start, t.end, t.voice, metadata={"speaker": "S1" if t.voice == "reader" else "S2"})
        for t in conv.turns
    ]
    voices = calls.voices([stereo[:, 0], stereo[:, 1]], Transcript(text="", segments=segments))
    assert set(voices) == {"S1", "S2"}
    reader = calls.diarize.voice(conversation([("reader", 3), ("reader", 4)]).samples, [(0.0, 9.0)])
    cmu = calls.diarize.voice(conversation([("cards", 0)]).samples, [(0.0, 5.0)])
    assert float(voices["S1"] @ reader) > speaker_turns.MATCH > float(voices["S1"] @ cmu)
    assert float(voices["S2"] @ reader) < speaker_turns.MATCH


def test_it_has_no_voice_for_a_side_that_never_spoke():
    conv = conversation(CALL[:1])
    silent = np.zeros_like(conv.samples)
    segments = [Segment(0.0, conv.turns[0].end, "x", metadata={"speaker": "S1"})]
    voices = calls.voices([conv.samples, silent], Transcript(text="", segments=segments))
    assert list(voices) == ["S1"]


def test_it_silences_the_other_sides_echo_but_keeps_double_talk():
    rng = np.random.default_rng(7)
    voice = rng.standard_normal(16_000).astype("f4") * 0.3  # one second of "speech"
    left = np.concatenate([voice, voice * 0.01, voice])  # speaks, hears the right side's echo, both talk
    right = np.concatenate([voice * 0.01, voice, voice * 0.8])
    gated_left, gated_right = calls.gated([left, right])
    hold = calls.HOLD * calls.FRAME
    assert np.abs(gated_left[16_000 + hold : 32_000 - hold]).max() == 0  # the echo is gone
    assert np.abs(gated_right[hold : 16_000 - hold]).max() == 0
    assert np.array_equal(gated_left[:16_000], left[:16_000])  # its own speech untouched
    assert np.array_equal(gated_left[32_000:], left[32_000:]) and np.array_equal(
        gated_right[32_000:], right[32_000:]
    )


def test_it_splits_a_segment_where_its_words_pause_for_the_other_side():
    from transcription.engine.interface import Word

    words = [
        Word(7.8, 8.5, " Go"),
        Word(8.5, 9.9, " forward."),
        Word(14.5, 15.7, " Thirty"),
        Word(15.8, 17.7, " three."),
    ]
    segment = Segment(7.8, 27.4, "Go forward. Thirty three.", words=words)
    other = Transcript(text="", segments=[Segment(10.5, 14.0, "Which way?")])
    call = calls.joined([Transcript(text="", segments=[segment]), other])
    assert [(s.start, s.end, s.text, s.metadata["speaker"]) for s in call.segments] == [
        (7.8, 9.9, "Go forward.", "S1"),
        (10.5, 14.0, "Which way?", "S2"),
        (14.5, 27.4, "Thirty three.", "S1"),
    ]


@pytest.mark.django_db
def test_it_asks_for_word_timings_and_never_batches_a_call(alice, default_profile):
    from tests.conftest import AUDIO, upload_of
    from transcription import profiles, scheduler, services

    options = profiles.diarize_options(default_profile, "call-agent-right")
    assert options == {"diarize": {"channels": ["customer", "agent"]}, "words": True}
    clip = AUDIO / "cmu_numbers.wav"
    plain = [
        services.job_create(owner=alice, profile=default_profile, upload=upload_of(clip)) for _ in range(2)
    ]
    call = services.job_create(
        owner=alice, profile=default_profile, upload=upload_of(clip), recognition=options
    )
    assert scheduler.batch_candidates(job=call, max_seconds=60, limit=5) == []
    assert call.id not in scheduler.batch_candidates(job=plain[0], max_seconds=60, limit=5)


@pytest.mark.django_db
def test_it_shows_each_side_by_its_role_until_named(alice):
    from django.utils import translation

    from transcription import speakers
    from transcription.models import Job

    job = Job.objects.create(
        owner=alice,
        original_name="call.wav",
        speakers={"S1": {"name": "", "role": "customer"}, "S2": {"name": "Lin", "role": "agent"}},
    )
    assert speakers.names(job) == {"S1": "Customer", "S2": "Lin"}
    assert [s.role for s in speakers.of_job(job)] == ["customer", "agent"]
    with translation.override("zh-hans"):
        assert speakers.display_name(job.speakers, "S1") == "客户"

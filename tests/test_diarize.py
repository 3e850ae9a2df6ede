"""Speaker diarization (transcription/diarize.py) on real voices: the LibriVox reader and two CMU
speakers joined into conversations (tests/conversations.py), with the real embedder."""

from __future__ import annotations

import itertools
import random

import numpy as np

from tests import conversations
from tests.conversations import CALL, MEETING, VOICES, Conversation, conversation
from transcription import diarize, speaker_turns
from transcription.engine import Segment, Transcript, Word
from transcription.text import join_texts


def accuracy(conv: Conversation, found: diarize.Diarization) -> float:
    """Share of the conversation's turns labelled right, under the best matching of the labels
    found to the true voices."""
    predicted = [found.speaker_at((t.start + t.end) / 2) for t in conv.turns]
    voices = sorted({t.voice for t in conv.turns})
    labels = sorted(set(predicted))
    padded = voices + [None] * max(0, len(labels) - len(voices))
    best = 0
    for matching in itertools.permutations(padded, len(labels)):
        to_voice = dict(zip(labels, matching, strict=True))
        best = max(best, sum(to_voice[p] == t.voice for p, t in zip(predicted, conv.turns, strict=True)))
    return best / len(conv.turns)


def random_order(seed: int, turns: int = 10) -> list[tuple[str, int]]:
    rng = random.Random(seed)
    order = []
    for _ in range(turns):
        voice = rng.choice(list(VOICES))
        order.append((voice, rng.randrange(len(VOICES[voice]))))
    return order


def test_it_tells_three_voices_apart_in_a_meeting():
    conv = conversation(MEETING)
    found = diarize.diarize(conv.samples, conv.speech())
    assert found.speakers == 3
    assert accuracy(conv, found) == 1.0


def test_it_labels_turns_right_across_many_conversations():
    """Segment-level accuracy over ten conversations of ten turns in random order: at least 95 %,
    and the number of people found right in at least nine of them."""
    right, total, counts_right = 0.0, 0, 0
    for seed in range(10):
        order = random_order(seed)
        conv = conversation(order)
        found = diarize.diarize(conv.samples, conv.speech())
        right += accuracy(conv, found) * len(conv.turns)
        total += len(conv.turns)
        counts_right += found.speakers == len({voice for voice, _ in order})
    assert right / total >= 0.95
    assert counts_right >= 9


def test_it_uses_the_number_of_speakers_given():
    call = conversation(CALL)
    found = diarize.diarize(call.samples, call.speech(), speakers=2)
    assert found.speakers == 2 and accuracy(call, found) == 1.0
    meeting = conversation(MEETING)
    assert diarize.diarize(meeting.samples, meeting.speech(), speakers=3).speakers == 3
    assert diarize.diarize(meeting.samples, meeting.speech(), speakers=2).speakers == 2


def test_it_finds_one_voice_in_a_monologue():
    conv = conversation([("reader", i) for i in range(5)])
    found = diarize.diarize(conv.samples, conv.speech())
    assert found.speakers == 1
    assert {t.speaker for t in found.turns} == {1}


def test_it_numbers_speakers_in_order_of_first_appearance():
    conv = conversation([("cards", 3), ("reader", 0), ("cmu", 1), ("reader", 2)])
    found = diarize.diarize(conv.samples, conv.speech())
    assert [found.speaker_at((t.start + t.end) / 2) for t in conv.turns] == [1, 2, 3, 2]


def test_it_keeps_one_unit_vector_per_speaker():
    conv = conversation(CALL)
    found = diarize.diarize(conv.samples, conv.speech())
    assert found.centroids.shape == (2, 256)
    assert np.allclose(np.linalg.norm(found.centroids, axis=1), 1.0, atol=1e-4)


def test_it_returns_no_turns_without_speech():
    found = diarize.diarize(np.zeros(16_000, dtype="f4"), [])
    assert found.turns == [] and found.speakers == 0 and found.speaker_at(0.5) is None


def test_it_embeds_a_stretch_shorter_than_one_window():
    conv = conversation([("reader", 1), ("cards", 1)])
    short = [(t.start, min(t.end, t.start + 0.5)) for t in conv.turns]
    found = diarize.diarize(conv.samples, short, speakers=2)
    assert [found.speaker_at(s + 0.2) for s, _ in short] == [1, 2]


def _turns(*spans: tuple[float, float, int]) -> diarize.Diarization:
    turns = [diarize.Turn(s, e, k) for s, e, k in spans]
    return diarize.Diarization(
        turns=turns, speakers=max(t.speaker for t in turns), centroids=np.zeros((0, 256))
    )


def test_it_splits_a_segment_where_the_speaker_changes_between_its_words():
    words = [
        Word(0.1, 0.5, " Good"),
        Word(0.6, 1.0, " morning."),
        Word(2.1, 2.5, " Hello"),
        Word(2.6, 3.0, " there."),
    ]
    transcript = Transcript(
        text="Good morning. Hello there.", segments=[Segment(0.0, 3.2, "Good morning. Hello there.", words)]
    )
    out = speaker_turns.assign(transcript, _turns((0.0, 1.5, 1), (2.0, 3.2, 2)))
    assert [(s.start, s.end, s.text, s.metadata["speaker"]) for s in out.segments] == [
        (0.0, 1.0, "Good morning.", "S1"),
        (2.1, 3.2, "Hello there.", "S2"),
    ]
    assert out.text == transcript.text  # the whole text is the model's, unchanged
    assert out.segments[1].words == words[2:]


def test_it_joins_chinese_words_without_spaces_when_splitting():
    words = [Word(0.0, 0.3, "你"), Word(0.3, 0.6, "好"), Word(1.0, 1.3, "再"), Word(1.3, 1.6, "见")]
    transcript = Transcript(text="你好再见", segments=[Segment(0.0, 1.6, "你好再见", words)])
    out = speaker_turns.assign(transcript, _turns((0.0, 0.8, 1), (0.8, 1.6, 2)), join=join_texts)
    assert [s.text for s in out.segments] == ["你好", "再见"]


def test_it_keeps_a_lone_word_with_the_words_around_it():
    words = [Word(0.0, 0.4, " one"), Word(0.5, 0.9, " two"), Word(1.0, 1.4, " three")]
    transcript = Transcript(text="one two three", segments=[Segment(0.0, 1.4, "one two three", words)])
    out = speaker_turns.assign(transcript, _turns((0.0, 0.45, 1), (0.45, 0.95, 2), (0.95, 1.4, 1)))
    assert len(out.segments) == 1 and out.segments[0].metadata["speaker"] == "S1"


def test_it_gives_a_segment_without_words_the_speaker_who_holds_most_of_it():
    transcript = Transcript(text="a b", segments=[Segment(0.0, 3.0, "a"), Segment(3.0, 4.0, "b")])
    out = speaker_turns.assign(transcript, _turns((0.0, 1.0, 2), (1.0, 3.5, 1)))
    # S2 spoke first in the turns, but only S1's segment comes first: keys follow the segments
    assert [s.metadata["speaker"] for s in out.segments] == ["S1", "S1"]
    assert out.segments[0].as_dict()["speaker"] == "S1"


def test_it_numbers_keys_by_the_segments_leaving_no_gap():
    transcript = Transcript(text="a b", segments=[Segment(0.0, 1.0, "a"), Segment(2.0, 3.0, "b")])
    out = speaker_turns.assign(transcript, _turns((0.0, 1.0, 3), (1.5, 1.7, 1), (2.0, 3.0, 2)))
    assert [s.metadata["speaker"] for s in out.segments] == ["S1", "S2"]


def test_it_reads_the_voices_the_fixtures_promise():
    for names in VOICES.values():
        for name in names:
            assert conversations.clip(name).size > 8_000

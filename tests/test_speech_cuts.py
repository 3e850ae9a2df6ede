"""Where a long recording is cut into chunks (transcription/speech_cuts.py): in a pause that the
real Silero VAD finds, near an even share, never in a word; on real speech."""

from __future__ import annotations

import numpy as np

from tests.conftest import AUDIO
from transcription import audio, speech_cuts

RATE = 16_000
SPEECH = audio.decode(AUDIO / "sense_and_sensibility_01_austen_64kb-0870.wav", max_seconds=60)  # 7.1 s


def pause(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


def test_it_cuts_in_the_pause_between_sentences_nearest_an_even_share():
    # Speech, a pause at 14-15 s, speech, a pause at 29-30 s, speech...: 4 rounds of 15 s.
    recording = np.concatenate([np.concatenate([SPEECH, SPEECH, pause(0.8)]) for _ in range(4)])
    spans = speech_cuts.spans(recording, 2)
    assert len(spans) == 2 and spans[0][0] == 0 and spans[-1][1] == recording.size
    cut = spans[0][1]
    assert spans[1][0] == cut
    assert abs(cut / RATE - 30.0) < 0.5  # the middle of the pause that ends the second round
    assert np.abs(recording[cut - 3_000 : cut + 3_000]).max() == 0  # silence on both sides


def test_it_moves_a_cut_from_the_middle_of_a_sentence_to_the_nearest_pause():
    recording = np.tile(np.concatenate([SPEECH, pause(0.2)]), 7)  # 51.1 s, a pause every 7.3 s
    spans = speech_cuts.spans(recording, 3)
    # A third ends at 17.0 s, in the third sentence; the pause before it (14.6 s) is nearer than
    # the one after (21.9 s).
    assert abs(spans[0][1] / RATE - 14.6) < 0.3
    assert np.abs(recording[spans[0][1] - 800 : spans[0][1] + 800]).max() < 0.02  # hardly a sound


def test_it_cuts_at_the_quietest_moment_when_the_speech_never_pauses():
    # Three readers over each other: speech from end to end, no pause for the VAD to find.
    reading = np.tile(SPEECH, 6)
    crowd = (reading + np.roll(reading, 27_200) + np.roll(reading, 56_000)) / 3
    point = 20 * RATE
    assert speech_cuts.pause_near(crowd, point) != point
    crowd[21 * RATE : 21 * RATE + 320] *= 0.01  # one quiet 20 ms
    cut = speech_cuts.pause_near(crowd, point)
    assert abs(cut - (21 * RATE + 160)) <= 320


def test_it_does_not_cut_a_recording_too_short_to_share():
    recording = np.concatenate([SPEECH, pause(1.0), SPEECH])
    assert speech_cuts.spans(recording, 2) == [(0, recording.size)]
    assert speech_cuts.spans(np.concatenate([recording] * 4), 1) == [(0, recording.size * 4)]


def test_it_covers_the_whole_recording_in_order_with_many_chunks():
    recording = np.concatenate([np.concatenate([SPEECH, pause(0.5)])] * 20)  # 152 s
    spans = speech_cuts.spans(recording, 6)
    assert len(spans) == 6 and spans[0][0] == 0 and spans[-1][1] == recording.size
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
    lengths = [(end - start) / RATE for start, end in spans]
    assert max(lengths) - min(lengths) < 8  # within a sentence of even

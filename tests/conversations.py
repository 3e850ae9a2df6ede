"""Real multi-speaker audio for the diarization tests: three real voices (the LibriVox reader, two
CMU speakers; tests/fixtures/audio/SPEAKERS_SOURCES.md) joined into a conversation of turns, with
the truth: who speaks from when to when."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import soundfile as sf

from tests.conftest import AUDIO

SAMPLE_RATE = 16_000
READER = [f"sense_and_sensibility_01_austen_64kb-{n}.wav" for n in ("0870", "0880", "0890", "0920", "0930")]
CMU = ["cmu_goforward.wav", "cmu_numbers.wav", "cmu_something.wav"]
CARDS = [f"cmu_cards_{n}.wav" for n in ("002", "003", "004", "005")]
VOICES = {"reader": READER, "cmu": CMU, "cards": CARDS}


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    voice: str


@dataclass(frozen=True)
class Conversation:
    samples: np.ndarray
    turns: list[Turn]

    def speech(self) -> list[tuple[float, float]]:
        return [(t.start, t.end) for t in self.turns]


def clip(name: str) -> np.ndarray:
    samples, rate = sf.read(AUDIO / name, dtype="float32")
    assert rate == SAMPLE_RATE
    return samples


def conversation(order: list[tuple[str, int]], *, pause: float = 0.4) -> Conversation:
    """The clips of `order` ((voice, index into that voice's clips)) one after another, `pause`
    seconds of silence between turns."""
    gap = np.zeros(int(pause * SAMPLE_RATE), dtype="f4")
    parts, turns, at = [], [], 0.0
    for voice, index in order:
        samples = clip(VOICES[voice][index])
        turns.append(Turn(at, at + samples.size / SAMPLE_RATE, voice))
        parts += [samples, gap]
        at += (samples.size + gap.size) / SAMPLE_RATE
    return Conversation(samples=np.concatenate(parts), turns=turns)


# Three people taking turns, each voice several times, in an order with no pattern.
MEETING = [
    ("reader", 0), ("cmu", 0), ("cards", 0), ("reader", 1), ("cmu", 1), ("cards", 3), ("reader", 2),
    ("cmu", 2), ("cards", 1), ("reader", 3), ("cards", 2), ("reader", 4),
]  # fmt: skip
# Two people: the reader and the CMU speaker.
CALL = [("reader", 0), ("cmu", 0), ("reader", 1), ("cmu", 1), ("reader", 2), ("cmu", 2)]


def call_recording(conv: Conversation, *, left: str, crosstalk: float = 0.01) -> np.ndarray:
    """The conversation as a stereo call, (samples, 2): voice `left` on the left channel, every
    other voice on the right, each channel hearing the other side faintly (`crosstalk`, -40 dB:
    a phone line's echo), as a call centre's recorder writes it."""
    stereo = np.zeros((conv.samples.size, 2), dtype="f4")
    for turn in conv.turns:
        span = slice(int(turn.start * SAMPLE_RATE), int(turn.end * SAMPLE_RATE))
        side = 0 if turn.voice == left else 1
        stereo[span, side] = conv.samples[span]
        stereo[span, 1 - side] = conv.samples[span] * crosstalk
    return stereo

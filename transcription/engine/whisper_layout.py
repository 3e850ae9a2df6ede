"""Recordings laid end to end as Whisper hears them in a batch: each one's speech (Silero VAD, as
faster-whisper's batched pipeline finds it) as clips of at most one window, on the joint timeline.
No Django."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from transcription.engine.interface import SAMPLE_RATE

WINDOW_S = 30  # Whisper hears at most 30 s at once: one batch item


@dataclass
class Layout:
    """Recordings laid end to end: their speech as clips of at most WINDOW_S seconds (seconds on
    the joint timeline), the recording each clip belongs to, and each recording's offset and length."""

    clips: list[dict]
    owners: list[int]
    offsets: list[float]
    totals: list[float]

    @classmethod
    def of(cls, audios: Sequence[np.ndarray]) -> Layout:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        # The options BatchedInferencePipeline uses itself when it runs VAD.
        options = VadOptions(max_speech_duration_s=WINDOW_S, min_silence_duration_ms=160)
        layout, offset = cls(clips=[], owners=[], offsets=[], totals=[]), 0
        for index, samples in enumerate(audios):
            layout.offsets.append(offset / SAMPLE_RATE)
            layout.totals.append(len(samples) / SAMPLE_RATE)
            for start, end in windows(get_speech_timestamps(samples, options)):
                clip = {"start": (offset + start) / SAMPLE_RATE, "end": (offset + end) / SAMPLE_RATE}
                layout.clips.append(clip)
                layout.owners.append(index)
            offset += len(samples)
        return layout

    def owner_at(self, seconds: float) -> int:
        """The recording of the clip a segment starting at `seconds` came from."""
        starts = [clip["start"] for clip in self.clips]
        return self.owners[max(0, bisect.bisect_right(starts, seconds + 1e-3) - 1)]


def windows(speech: list[dict]) -> list[tuple[int, int]]:
    """Consecutive speech chunks (sample ranges) merged into spans of at most WINDOW_S seconds,
    silence between them included, as Whisper would hear them in one window."""
    limit = WINDOW_S * SAMPLE_RATE
    spans: list[tuple[int, int]] = []
    for chunk in speech:
        if spans and chunk["end"] - spans[-1][0] <= limit:
            spans[-1] = (spans[-1][0], chunk["end"])
        else:
            spans.append((chunk["start"], chunk["end"]))
    return spans

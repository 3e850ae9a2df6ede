"""Calling an engine as the worker does: its one method, `transcribe_many`, here with one
recording (a lone job is a batch of one) or one at a time."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from transcription.engine import Engine, ProgressCallback, Transcript


def transcribe_one(
    engine: Engine, audio: np.ndarray, *, on_progress: ProgressCallback | None = None, **kwargs
) -> Transcript:
    [transcript] = engine.transcribe_many([audio], on_progress_each=[on_progress], **kwargs)
    return transcript


def transcribe_each(engine: Engine, audios: Sequence[np.ndarray], **kwargs) -> list[Transcript]:
    """Each recording in its own engine call: what a batch must come out the same as."""
    return [transcribe_one(engine, audio, **kwargs) for audio in audios]

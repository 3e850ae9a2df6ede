"""Whisper's window cut to the audio (whisper.cpp's "audio_ctx"), for live captions and short
recordings alike. No Django; faster-whisper is patched only when a window is first asked for.

Whisper pads every window to 30 s before its encoder, which then costs as much for 3 s of audio as
for 30 (tiny.en on 2 cores: 0.40 s, against 0.10 s for 15 s), and the decoder's cross-attention
spans the whole window. CTranslate2's encoder takes shorter inputs, so a decoding of shorter audio
pads to it plus WINDOW_MARGIN_S, in steps of WINDOW_STEP_S, instead. Less than ~2.5 s of margin
and Whisper ends its window early and decodes the rest again (slower, and worse). faster-whisper
pads with its module's `pad_or_trim`; `encoder_window` swaps in a version that reads the length
from this thread only, so a decoding in any other thread keeps its own window."""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager

WINDOW_MARGIN_S = 2.5
WINDOW_STEP_S = 5.0
_window = threading.local()


@contextmanager
def encoder_window(seconds: float):
    """Within this block, in this thread, faster-whisper pads to a window just past `seconds`
    (30 s, Whisper's own, at most)."""
    _install_window_padding()
    frames = int(min(30.0, math.ceil((seconds + WINDOW_MARGIN_S) / WINDOW_STEP_S) * WINDOW_STEP_S) * 100)
    before, _window.frames = getattr(_window, "frames", None), frames
    try:
        yield frames
    finally:
        _window.frames = before


def _install_window_padding() -> None:
    from faster_whisper import transcribe

    if getattr(transcribe.pad_or_trim, "cut_window", False):
        return
    original = transcribe.pad_or_trim

    def pad_or_trim(array, length: int = 3000, *, axis: int = -1):
        return original(array, getattr(_window, "frames", None) or length, axis=axis)

    pad_or_trim.cut_window = True
    transcribe.pad_or_trim = pad_or_trim

"""Real media files made on the fly with PyAV: compressed audio, and video with or without sound."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

RATE = 16_000


def encode(
    samples: np.ndarray | None, dest: Path, *, audio_codec: str | None, video_codec: str | None = None
) -> Path:
    """Write `samples` (16 kHz float32: mono, or (n, 2) for stereo) with `audio_codec`, plus a small
    black video track of the same length when `video_codec` is given. `samples=None` with a video
    codec makes a two-second video with no audio track at all."""
    seconds = len(samples) / RATE if samples is not None else 2.0
    with av.open(str(dest), "w") as out:
        video = _video_stream(out, video_codec) if video_codec else None
        layout = "stereo" if samples is not None and samples.ndim == 2 else "mono"
        audio = _audio_stream(out, audio_codec, layout) if audio_codec and samples is not None else None
        if video:
            _write_video(out, video, seconds)
        if audio:
            _write_audio(out, audio, samples, layout)
    return dest


def _audio_stream(out, codec: str, layout: str):
    rate = 48_000 if codec in ("libopus", "opus") else RATE
    stream = out.add_stream(codec, rate=rate, layout=layout)
    return stream


def _video_stream(out, codec: str):
    stream = out.add_stream(codec, rate=5)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    return stream


def _write_video(out, stream, seconds: float) -> None:
    black = np.zeros((48, 64, 3), dtype=np.uint8)
    for i in range(int(seconds * 5)):
        frame = av.VideoFrame.from_ndarray(black, format="rgb24")
        frame.pts, frame.time_base = i, Fraction(1, 5)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def _write_audio(out, stream, samples: np.ndarray, layout: str) -> None:
    planes = np.ascontiguousarray(samples.reshape(-1, 1 if layout == "mono" else 2).T, dtype=np.float32)
    frame = av.AudioFrame.from_ndarray(planes, format="fltp", layout=layout)
    frame.sample_rate, frame.pts = RATE, 0
    resampler = av.AudioResampler(format=stream.format.name, layout=layout, rate=stream.rate)
    for chunk in resampler.resample(frame) + resampler.resample(None):
        out.mux(stream.encode(chunk))
    out.mux(stream.encode(None))

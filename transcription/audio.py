"""Decode any upload into 16 kHz mono float32, or say in plain words why not.

PyAV (FFmpeg) does the work. The engine never sees a path or a URL: funasr would happily
download an http(s) string or shell out to ffmpeg, so everything goes through here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000

# Container formats we accept, by FFmpeg demuxer name. Playlist-like demuxers (hls,
# concat, image2, tty...) can open other files or URLs, so they are not on the list.
ALLOWED_FORMATS = frozenset(
    {
        "wav", "w64", "mp3", "flac", "ogg", "aac", "mov", "mp4", "m4a", "3gp", "3g2", "mj2",
        "matroska", "webm", "asf", "amr", "aiff", "caf", "avi", "flv", "mpeg", "mpegts", "opus",
    }
)  # fmt: skip


class AudioDecodeError(Exception):
    """The upload is not audio we can use; the message is meant for the user."""


NOT_MEDIA = "This file is not an audio or video file that can be read. Is it damaged, or of another type?"


def decode(path: str | Path, *, max_seconds: float) -> np.ndarray:
    """Return the file's first audio track as 16 kHz mono float32 samples."""
    import av  # PyAV: imported here so the web process can start without touching FFmpeg

    if Path(path).stat().st_size == 0:
        raise AudioDecodeError("This file is empty.")
    try:
        container = av.open(str(path), options={"protocol_whitelist": "file"})
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise AudioDecodeError(NOT_MEDIA) from exc
    with container:
        if not set(container.format.name.split(",")) & ALLOWED_FORMATS:
            raise AudioDecodeError(
                f"This file looks like a {container.format.long_name}, "
                "which is not an accepted audio or video format."
            )
        stream = next((s for s in container.streams if s.type == "audio"), None)
        if stream is None:
            raise AudioDecodeError("This file has no audio track.")
        samples = _decode_stream(av, container, stream, max_samples=int(max_seconds * SAMPLE_RATE))
    if samples.size == 0:
        raise AudioDecodeError("No audio could be decoded from this file: it may be damaged or truncated.")
    return samples


def _decode_stream(av, container, stream, *, max_samples: int) -> np.ndarray:
    # Resample only; downmix by averaging the channels ourselves. FFmpeg's own downmix
    # scales by 0.707 per channel, which clips loud stereo recordings.
    resampler = av.AudioResampler(format="fltp", rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    try:
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunk = _mono(out)
                total += chunk.size
                if total > max_samples:
                    raise AudioDecodeError(
                        f"This recording is longer than the limit of {_hms(max_samples / SAMPLE_RATE)}."
                    )
                chunks.append(chunk)
        for out in resampler.resample(None):
            chunks.append(_mono(out))
    except av.error.FFmpegError as exc:
        # A file that breaks off mid-way still gives what came before; only fail if nothing did.
        if not chunks:
            raise AudioDecodeError(NOT_MEDIA) from exc
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.clip(np.concatenate(chunks), -1.0, 1.0).astype(np.float32, copy=False)


def _mono(frame) -> np.ndarray:
    planes = frame.to_ndarray()  # planar float: (channels, samples)
    return planes[0] if planes.shape[0] == 1 else planes.mean(axis=0)


def _hms(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def probe_duration(path: str | Path) -> float | None:
    """The duration the container's header claims, or None. Cheap: nothing is decoded."""
    import av

    try:
        with av.open(str(path), options={"protocol_whitelist": "file"}) as container:
            if container.duration is None:
                return None
            return max(0.0, container.duration / 1_000_000)  # microseconds (av.time_base)
    except Exception:  # noqa: BLE001 - any unreadable file: the worker reports why
        return None

"""Decode any upload into 16 kHz mono float32, or say in plain words why not.

PyAV (FFmpeg) does the work. The engine never sees a path or a URL: funasr would happily
download an http(s) string or shell out to ffmpeg, so everything goes through here.
"""

from __future__ import annotations

from dataclasses import dataclass
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


def gettext_noop(message: str) -> str:
    """Marks a message for the translation catalog (makemessages looks for this name) without
    importing Django: errors are stored in English and translated when shown (portal/i18n.py)."""
    return message


NOT_MEDIA = gettext_noop(
    "This file is not an audio or video file that can be read. Is it damaged, or of another type?"
)
NOT_ACCEPTED = gettext_noop(
    "This file looks like a {format}, which is not an accepted audio or video format."
)
TOO_LONG = gettext_noop("This recording is longer than the limit of {limit}.")
TOO_BIG = gettext_noop(
    "This recording is too long to process: decoded, it would take more than {megabytes} MB of memory "
    "(about {limit} of audio)."
)

# 16 kHz mono float32 is 64 KB a second, about 230 MB an hour: 1 GiB holds about 4 h 40 min, just
# above the default ASR_MAX_AUDIO_SECONDS (4 h). The worker passes ASR_MAX_DECODED_MB.
BYTES_PER_SAMPLE = 4
DEFAULT_MAX_DECODED_BYTES = 1024 * 1024 * 1024


@dataclass(frozen=True)
class SampleLimit:
    """The most samples a decode may hold, and the sentence that says which limit that is."""

    samples: int
    message: str

    @classmethod
    def of(cls, *, max_seconds: float, max_decoded_bytes: int) -> SampleLimit:
        by_duration = int(max_seconds * SAMPLE_RATE)
        by_size = max_decoded_bytes // BYTES_PER_SAMPLE
        if by_duration <= by_size:
            return cls(by_duration, TOO_LONG.format(limit=_hms(max_seconds)))
        seconds = by_size / SAMPLE_RATE
        return cls(by_size, TOO_BIG.format(megabytes=max_decoded_bytes // 2**20, limit=_hms(seconds)))

    def refuses(self, seconds: float | None) -> str:
        """The message for a recording `seconds` long (as its header says), or "" if it fits."""
        return self.message if seconds is not None and seconds * SAMPLE_RATE > self.samples else ""


class _SampleBuffer:
    """Decoded samples, gathered in one array that grows in place and never beyond the limit: a
    list of frames joined at the end would hold every sample twice at its peak."""

    def __init__(self, limit: SampleLimit) -> None:
        self.limit, self.size = limit, 0
        self._data = np.empty(min(limit.samples, 60 * SAMPLE_RATE), dtype=np.float32)

    def append(self, chunk: np.ndarray) -> None:
        end = self.size + chunk.size
        if end > self.limit.samples:
            raise AudioDecodeError(self.limit.message)  # stop here: the rest is never decoded
        if end > self._data.size:
            # Grow by half, capped at the limit. resize() reallocates in place (mremap for large
            # arrays on Linux), so the old and the new array are never held side by side.
            self._data.resize(min(self.limit.samples, max(end, self._data.size * 3 // 2)), refcheck=False)
        np.clip(chunk, -1.0, 1.0, out=self._data[self.size : end])
        self.size = end

    def result(self) -> np.ndarray:
        self._data.resize(self.size, refcheck=False)  # hand back the unused tail, in place
        return self._data


def decode(
    path: str | Path, *, max_seconds: float, max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES
) -> np.ndarray:
    """Return the file's first audio track as 16 kHz mono float32 samples, stopping as soon as
    they would pass `max_seconds` or take more than `max_decoded_bytes` of memory."""
    import av  # PyAV: imported here so the web process can start without touching FFmpeg

    if Path(path).stat().st_size == 0:
        raise AudioDecodeError(gettext_noop("This file is empty."))
    try:
        container = av.open(str(path), options={"protocol_whitelist": "file"})
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise AudioDecodeError(NOT_MEDIA) from exc
    with container:
        if not set(container.format.name.split(",")) & ALLOWED_FORMATS:
            raise AudioDecodeError(NOT_ACCEPTED.format(format=container.format.long_name))
        stream = next((s for s in container.streams if s.type == "audio"), None)
        if stream is None:
            raise AudioDecodeError(gettext_noop("This file has no audio track."))
        limit = SampleLimit.of(max_seconds=max_seconds, max_decoded_bytes=max_decoded_bytes)
        samples = _decode_stream(av, container, stream, limit=limit)
    if samples.size == 0:
        raise AudioDecodeError(
            gettext_noop("No audio could be decoded from this file: it may be damaged or truncated.")
        )
    return samples


def _decode_stream(av, container, stream, *, limit: SampleLimit) -> np.ndarray:
    # Resample only; downmix by averaging the channels ourselves. FFmpeg's own downmix
    # scales by 0.707 per channel, which clips loud stereo recordings.
    resampler = av.AudioResampler(format="fltp", rate=SAMPLE_RATE)
    samples = _SampleBuffer(limit)
    try:
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                samples.append(_mono(out))
        for out in resampler.resample(None):
            samples.append(_mono(out))
    except av.error.FFmpegError as exc:
        # A file that breaks off mid-way still gives what came before; only fail if nothing did.
        if not samples.size:
            raise AudioDecodeError(NOT_MEDIA) from exc
    return samples.result()


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

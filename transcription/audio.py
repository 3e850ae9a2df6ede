"""Decode any upload into 16 kHz mono float32, or say in plain words why not.

PyAV (FFmpeg) does the work. The engine never sees a path or a URL: funasr would happily
download an http(s) string or shell out to ffmpeg, so everything goes through here.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from transcription import mono16k
from transcription.mono16k import SAMPLE_RATE, SampleSink

if TYPE_CHECKING:
    import numpy as np  # imported where used: the probe's child process never loads numpy


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
NOT_TWO_CHANNELS = gettext_noop(
    "This recording has one channel: a call with one speaker per channel needs a stereo recording. "
    "Transcribe it again without the call option to tell the speakers apart by voice."
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
        import numpy as np

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
        chunk.clip(-1.0, 1.0, out=self._data[self.size : end])
        self.size = end

    def result(self) -> np.ndarray:
        self._data.resize(self.size, refcheck=False)  # hand back the unused tail, in place
        return self._data


def decode(
    path: str | Path,
    *,
    max_seconds: float,
    max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES,
    channel: int | None = None,
) -> np.ndarray:
    """Return the file's first audio track as 16 kHz mono float32 samples, stopping as soon as
    they would pass `max_seconds` or take more than `max_decoded_bytes` of memory. With
    `channel` (0 left, 1 right), only that channel: a call recorded one speaker per channel.

    This runs FFmpeg in the calling process: a decoder bug on a crafted file can take that process
    down with it. The worker and the upload path use transcription/media_sandbox.py instead, which
    runs this in a short-lived child process under resource limits."""
    limit = SampleLimit.of(max_seconds=max_seconds, max_decoded_bytes=max_decoded_bytes)
    samples = _SampleBuffer(limit)
    decode_into(path, samples, channel=channel)
    return samples.result()


def decode_into(path: str | Path, sink: SampleSink, *, channel: int | None = None) -> None:
    """Decode the file's first audio track into `sink` as 16 kHz mono float32 chunks. The sink
    enforces the sample limit (it raises AudioDecodeError when one chunk more would pass it)."""
    import av  # PyAV: imported here so the web process can start without touching FFmpeg

    if Path(path).stat().st_size == 0:
        raise AudioDecodeError(gettext_noop("This file is empty."))
    with _opened(av, path) as container:
        if not _accepted(container):
            raise AudioDecodeError(NOT_ACCEPTED.format(format=container.format.long_name))
        stream = next((s for s in container.streams if s.type == "audio"), None)
        if stream is None:
            raise AudioDecodeError(gettext_noop("This file has no audio track."))
        _decode_stream(av, container, stream, sink, channel)
    if sink.size == 0:
        raise AudioDecodeError(
            gettext_noop("No audio could be decoded from this file: it may be damaged or truncated.")
        )


def _refuse_other_files(url: str, flags: int, options: dict):
    """The container's io_open: a demuxer that wants to open another file or URL (a playlist's
    segments, a concat list's entries, an image sequence, a reference in a QuickTime file) is
    refused, whatever its format. Only the upload itself, opened by us, is ever read."""
    raise PermissionError(f"refused to open {url!r} from inside an upload")


@contextmanager
def _opened(av, path: str | Path) -> Iterator:
    """The upload as an FFmpeg input container that can reach nothing else: FFmpeg reads it
    through a Python file object (so no protocol opens it), every other open is refused
    (`_refuse_other_files`), and the protocol allow-list stays "file" for what a demuxer would
    open on its own (an SDP file's network sockets). Raises AudioDecodeError (not media) if
    FFmpeg cannot open it; the caller checks the format against ALLOWED_FORMATS."""
    with open(path, "rb") as file:
        try:
            container = av.open(file, options={"protocol_whitelist": "file"}, io_open=_refuse_other_files)
        except Exception as exc:  # noqa: BLE001 - FFmpeg errors, refused opens, bad metadata...
            if out_of_memory(exc):  # the memory limit, not the file: the caller says so
                raise
            raise AudioDecodeError(NOT_MEDIA) from exc
        with container:
            yield container


def out_of_memory(exc: BaseException) -> bool:
    """A MemoryError, or an OSError for ENOMEM (a library or a buffer mapped under the limit)."""
    return isinstance(exc, MemoryError) or (isinstance(exc, OSError) and exc.errno == errno.ENOMEM)


def _accepted(container) -> bool:
    return bool(set(container.format.name.split(",")) & ALLOWED_FORMATS)


def _decode_stream(av, container, stream, sink: SampleSink, channel: int | None) -> None:
    if stream.codec_context is None:  # FFmpeg has no decoder for this stream's codec
        raise AudioDecodeError(NOT_MEDIA)
    stream.codec_context.thread_type = "NONE"  # no decoder threads: one core, and none to spawn
    stream.codec_context.thread_count = 1
    to_16k = mono16k.To16k(av, sink)
    try:
        for frame in mono16k.frames(container, stream):
            to_16k.feed(*mono16k.mono(frame, channel))
        to_16k.flush()
    except MemoryError:
        raise
    except mono16k.MissingChannel as exc:
        raise AudioDecodeError(NOT_TWO_CHANNELS) from exc
    except (av.error.FFmpegError, ValueError, OverflowError) as exc:
        # A file that breaks off mid-way still gives what came before; only fail if nothing did.
        if not sink.size:
            raise AudioDecodeError(NOT_MEDIA) from exc


def _hms(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def probe_duration(path: str | Path) -> float | None:
    """The duration the container's header claims, or None (also for a format that is not
    accepted: it is opened as `decode` opens it, reaching no other file). Cheap: nothing is
    decoded. In the calling process: media_sandbox.probe_isolated runs it in a child process."""
    import av

    try:
        with _opened(av, path) as container:
            if not _accepted(container) or container.duration is None:
                return None
            return max(0.0, container.duration / 1_000_000)  # microseconds (av.time_base)
    except Exception:  # noqa: BLE001 - any unreadable file: the worker reports why
        return None

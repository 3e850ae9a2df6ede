"""PyAV's decoded audio frames -> 16 kHz mono float32, for audio.py: each frame's channels read
plane by plane and averaged, then FFmpeg's resampler. Django-free; PyAV and numpy are imported
where used (the web process never decodes)."""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from fractions import Fraction
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16_000


class SampleSink(Protocol):
    """Where decoded samples go, in order: audio.py's buffer in memory, or a file (media_sandbox)."""

    size: int

    def append(self, chunk: np.ndarray) -> None: ...


def frames(container, stream) -> Iterator:
    """The stream's decoded frames, each made safe to drop (`_pin_layout`) before any is used."""
    for packet in container.demux(stream):
        frames = stream.decode(packet)  # all of the packet's frames: none is dropped unseen
        for frame in frames:
            _pin_layout(frame)
        yield from frames


def _pin_layout(frame) -> None:
    """Keep the frame's AudioLayout object alive for good when its channel layout may own memory.

    PyAV 18 gives every decoded frame an AudioLayout holding a shallow copy of FFmpeg's channel
    layout, and frees that copy with the object. A layout in custom channel order (a CAF or a
    QuickTime file with a 7.1 channel map, say) owns an array, which FFmpeg frees with the frame
    as well: freed twice, the heap is corrupted and the process aborts. Only layouts described
    with their channel list ("8 channels (FL+FR+...)") can be custom; such an object is never
    released (a few dozen bytes a frame), so its copy is never freed."""
    layout = frame.layout
    if "(" in layout.name:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(layout))


# FFmpeg's sample formats (planar ones end in "p"): numpy type, zero, scale to [-1, 1) -- the
# same scaling as FFmpeg's own conversion to float.
_SAMPLE_FORMATS = {
    "u8": ("u1", 128.0, 1 / 2**7),
    "s16": ("i2", 0.0, 1 / 2**15),
    "s32": ("i4", 0.0, 1 / 2**31),
    "s64": ("i8", 0.0, 1 / 2**63),
    "flt": ("f4", 0.0, 1.0),
    "dbl": ("f8", 0.0, 1.0),
}


class MissingChannel(ValueError):
    """One channel of a call was asked for, and the recording does not have it (it is mono)."""


def mono(frame, channel: int | None = None) -> tuple[np.ndarray, int]:
    """The frame's channels averaged into one, as float32, and its sample rate; or only
    `channel` (0 = left, 1 = right) of it, for a call recorded with one speaker per channel.

    Read plane by plane (`AudioPlane(frame, i)` for i below the channel count), never through
    `frame.planes` or `frame.to_ndarray()`: PyAV finds the planes by walking FFmpeg's plane pointers
    up to a NULL one, and a planar frame with 8 or more channels has none after the last, so it
    read past the end and crashed the process (a FLAC with 8 channels did). Averaging, not
    FFmpeg's downmix, which scales each channel by 0.707 and so clips loud stereo recordings; the
    mean of samples in [-1, 1] stays in [-1, 1] however many channels there are."""
    import numpy as np
    from av.audio.plane import AudioPlane

    name = frame.format.name
    planar = frame.format.is_planar
    kind = _SAMPLE_FORMATS.get(name[:-1] if planar else name)
    channels, count, rate = frame.layout.nb_channels, frame.samples, frame.sample_rate
    if kind is None or channels < 1 or rate < 1:
        raise ValueError(f"unusable audio frame: {name}, {channels} channels, {rate} Hz")
    dtype, zero, scale = kind
    if channel is not None:
        if channel >= channels:
            raise MissingChannel(f"channel {channel} of a frame with {channels}")
        return _scaled(_one_channel(frame, planar, dtype, count, channels, channel), zero, scale), rate
    # float32 sums 8- and 16-bit samples exactly (64 channels of them), float64 the wider ones.
    exact = np.float32 if dtype in ("u1", "i2", "f4") else np.float64
    # Summed channel by channel, not by a matrix product: numpy's BLAS allocates its buffers on
    # first use, and under the sandbox's memory limit it exits the process when it cannot.
    if planar:
        mean = np.frombuffer(AudioPlane(frame, 0), dtype=dtype, count=count).astype(exact)
        for index in range(1, channels):
            mean += np.frombuffer(AudioPlane(frame, index), dtype=dtype, count=count)
    else:
        interleaved = np.frombuffer(AudioPlane(frame, 0), dtype=dtype, count=count * channels)
        mean = interleaved[0::channels].astype(exact)
        for index in range(1, channels):
            mean += interleaved[index::channels]
    if channels > 1:
        mean /= channels
    return _scaled(mean, zero, scale), rate


def _one_channel(frame, planar: bool, dtype: str, count: int, channels: int, channel: int) -> np.ndarray:
    import numpy as np
    from av.audio.plane import AudioPlane

    if planar:
        return np.frombuffer(AudioPlane(frame, channel), dtype=dtype, count=count).astype(np.float64)
    interleaved = np.frombuffer(AudioPlane(frame, 0), dtype=dtype, count=count * channels)
    return interleaved[channel::channels].astype(np.float64)


def _scaled(values: np.ndarray, zero: float, scale: float) -> np.ndarray:
    import numpy as np

    if zero:
        values -= zero
    if scale != 1.0:
        values *= scale
    return values.astype(np.float32, copy=False)


class To16k:
    """Mono float32 at any rate -> the sink, at 16 kHz, through FFmpeg's resampler. Input is
    gathered into calls of about BATCH output samples (a call a frame would cost more in calls than
    in resampling) and split as finely as needed so that no call makes more: a header that says
    1 Hz asks for 16,000 samples out of each one in, and must meet the sample limit before it
    meets the memory limit. A new resampler is set up whenever the rate changes mid-stream
    (chained Ogg, a spliced MPEG-TS)."""

    BATCH = 16_384

    def __init__(self, av, sink: SampleSink) -> None:
        self.av, self.sink, self.rate, self.resampler = av, sink, 0, None
        self.pending: list[np.ndarray] = []
        self.waiting = self.pts = 0

    def feed(self, mono: np.ndarray, rate: int) -> None:
        if not mono.size:
            return
        if rate != self.rate:
            self.flush()
            self.rate, self.pts, self.time_base = rate, 0, Fraction(1, rate)
            self.most = max(1, self.BATCH * rate // SAMPLE_RATE)  # input samples a call takes
            if rate != SAMPLE_RATE:
                self.resampler = self.av.AudioResampler("flt", "mono", SAMPLE_RATE)
        if self.resampler is None:
            self.sink.append(mono)
            return
        for start in range(0, mono.size, self.most):
            piece = mono[start : start + self.most]
            self.pending.append(piece)
            self.waiting += piece.size
            if self.waiting >= self.most:
                self._push()

    def _push(self) -> None:
        import numpy as np

        mono = self.pending[0] if len(self.pending) == 1 else np.concatenate(self.pending)
        self.pending, self.waiting = [], 0
        frame = self.av.AudioFrame.from_ndarray(mono.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = self.rate, self.pts, self.time_base
        self.pts += mono.size
        for out in self.resampler.resample(frame):
            self.sink.append(_samples(out))

    def flush(self) -> None:
        if self.resampler is None:
            return
        if self.pending:
            self._push()
        for out in self.resampler.resample(None):
            self.sink.append(_samples(out))
        self.resampler = None


def _samples(frame) -> np.ndarray:
    """A mono float32 frame's samples (one plane: `to_ndarray` is safe here, but this is cheaper)."""
    import numpy as np
    from av.audio.plane import AudioPlane

    return np.frombuffer(AudioPlane(frame, 0), dtype=np.float32, count=frame.samples)

"""A seeded corpus of unusual and hostile uploads for the decoder, made with PyAV and numpy only
(CI has no sox or ffmpeg command).

    from tests.hostile_corpus import corpus, sample, write
    items = corpus(seed=0)              # about 480 Items; nothing is written yet
    paths = write(items, dest)          # each Item's file under dest (skips what PyAV refuses here)

Kinds (Item.kind):

- channels: every channel count from 1 to 64, at sample rates from 1 kHz to 384 kHz, each channel a
  tone of its own, in PCM (several sample formats and containers), FLAC, Opus (mapping family 255
  for more than 8 channels), WavPack, TTA, AAC;
- codec: every audio codec PyAV writes here, in every container that takes it (the accepted ones,
  and others the decoder must refuse by name: NUT, VOC, RealMedia, WTV, SoX...);
- truncated, flipped: real clips (tests/fixtures/audio, and the same encoded in a dozen formats)
  cut at random offsets, or with random bytes changed;
- empty: no bytes, headers and no samples, one sample;
- absurd: headers that lie (4 GB, a rate of 0 or 1 Hz or 4 GHz, 0 or 65535 channels, durations of
  centuries, a negative or NaN duration);
- video-only, nested (attachments, archives, polyglots, a container inside another's name);
- playlist: HLS, DASH, ffconcat, SDP, m3u/pls/asx that point at other files on disk (written
  next to the corpus, under targets/), /etc/passwd, file://, data: and http:// URLs. Decoding one
  must never read its target: Item.expect is "refused";
- junk: random bytes, zeros, text, other file types, magic numbers followed by garbage.

Item.expect: "audio" (decodes), "refused" (AudioDecodeError) or "any" (either is right: a damaged
clip may still hold audio).
"""

from __future__ import annotations

import gzip
import io
import math
import struct
import tarfile
import wave
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from tests.hostile import AUDIO, BAD_FILES, PNG, wav_bytes

RATES = (1000, 8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200, 96000, 176400, 192000, 352800, 384000)
LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


@dataclass(frozen=True)
class Item:
    name: str  # the file's name: unique in the corpus; its extension is part of the test
    kind: str
    expect: str  # "audio", "refused" or "any"
    make: Callable[[Path], None]  # writes the file at the given path


def layout(channels: int) -> str:
    return LAYOUTS.get(channels, f"{channels} channels")


def tones(channels: int, rate: int, seconds: float, amplitude: float = 0.8) -> np.ndarray:
    """(samples, channels) float32: channel k a sine of its own frequency, below a quarter of the rate."""
    t = np.arange(max(1, int(rate * seconds))) / rate
    top = max(rate / 4, 20.0)
    freqs = [min(top, 110.0 * (1 + k % 7) + 13 * k) for k in range(channels)]
    return (amplitude * np.sin(2 * np.pi * np.outer(t, freqs))).astype(np.float32)


def encode(
    path: Path,
    *,
    fmt: str,
    codec: str,
    rate: int,
    channels: int,
    seconds: float,
    options: dict | None = None,
    samples: np.ndarray | None = None,
    video: str | None = None,
    sample_format: str | None = None,
) -> None:
    """Write tones (or `samples`, (n, channels) float) with `codec` in container `fmt`, plus a small
    video track when `video` names a video codec, in the codec's `sample_format` (default: its
    first). Frames go in packed: PyAV converts them."""
    import av

    data = tones(channels, rate, seconds) if samples is None else np.asarray(samples, dtype=np.float32)
    with av.open(str(path), "w", format=fmt) as out:
        vstream = _video_stream(out, video) if video else None
        stream = out.add_stream(codec, rate=rate, layout=layout(channels), options=options or {})
        if sample_format:
            stream.format = sample_format
        if vstream is not None:
            _write_video(av, out, vstream, seconds)
        step = 4096
        for start in range(0, len(data), step):
            chunk = np.ascontiguousarray(data[start : start + step]).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout=layout(channels))
            frame.sample_rate, frame.pts, frame.time_base = rate, start, Fraction(1, rate)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def _video_stream(out, codec: str):
    stream = out.add_stream(codec, rate=5)
    stream.width, stream.height = 64, 48
    stream.pix_fmt = {"mjpeg": "yuvj420p", "ffv1": "yuv420p", "gif": "rgb8", "apng": "rgb24"}.get(
        codec, "yuv420p"
    )
    return stream


def _write_video(av, out, stream, seconds: float) -> None:
    picture = np.zeros((48, 64, 3), dtype=np.uint8)
    for i in range(max(1, int(seconds * 5))):
        picture[:, :, 1] = (i * 40) % 256
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
        frame.pts, frame.time_base = i, Fraction(1, 5)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def video_only(path: Path, *, fmt: str, codec: str) -> None:
    import av

    with av.open(str(path), "w", format=fmt) as out:
        _write_video(av, out, _video_stream(out, codec), 1.0)


def clip_samples(path: Path = AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav") -> np.ndarray:
    """A fixture clip's samples, (n, channels) float32, read with the wave module (no FFmpeg)."""
    with wave.open(str(path)) as clip:
        raw = np.frombuffer(clip.readframes(clip.getnframes()), dtype="<i2")
        return (raw.reshape(-1, clip.getnchannels()) / 32768).astype(np.float32)


def _bytes(data: bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(data)


# --- channels -----------------------------------------------------------------------------------

# codec, container, extension, most channels, rates ("*": any of RATES), options
_MULTICHANNEL = (
    ("pcm_s16le", "wav", "wav", 64, "*", None),
    ("pcm_u8", "wav", "wav", 64, "*", None),
    ("pcm_s32le", "wav", "wav", 64, "*", None),
    ("pcm_f64le", "wav", "wav", 64, "*", None),
    ("pcm_s24le", "w64", "w64", 64, "*", None),
    ("pcm_f32le", "caf", "caf", 64, "*", None),
    ("pcm_s16be", "aiff", "aiff", 64, "*", None),
    ("pcm_s16le", "matroska", "mka", 64, "*", None),
    ("pcm_s24le", "mov", "mov", 64, "*", None),
    ("flac", "flac", "flac", 8, "*", None),
    ("libopus", "ogg", "opus", 64, (8000, 16000, 48000), {"mapping_family": "255"}),
    ("wavpack", "matroska", "mka", 64, "*", None),
    ("tta", "matroska", "mkv", 16, "*", None),
    ("aac", "mp4", "m4a", 8, (8000, 16000, 44100, 48000, 96000), None),
    ("alac", "ipod", "m4a", 2, "*", None),
)


def _channel_items(rng: np.random.Generator) -> list[Item]:
    items = []
    for channels in range(1, 65):
        rate = RATES[(channels * 5) % len(RATES)]
        choices = [c for c in _MULTICHANNEL if c[3] >= channels]
        codec, fmt, ext, _, rates, options = choices[int(rng.integers(len(choices)))]
        if rates != "*":
            rate = min(rates, key=lambda r: abs(math.log(r / rate)))
        seconds = float(min(0.6, max(0.05, 4e5 / (channels * rate))))
        make = _encoder(fmt=fmt, codec=codec, rate=rate, channels=channels, seconds=seconds, options=options)
        items.append(Item(f"channels-{channels:02d}-{rate}hz-{codec}.{ext}", "channels", "audio", make))
    # Named layouts, which some containers map in a custom channel order (CAF and AIFF: 7.1).
    for fmt, codec, ext in (
        ("caf", "pcm_s16le", "caf"),
        ("aiff", "pcm_s16be", "aiff"),
        ("mp4", "aac", "m4a"),
    ):
        for channels in range(3, 9):
            make = _encoder(fmt=fmt, codec=codec, rate=48000, channels=channels, seconds=0.3)
            items.append(Item(f"channels-layout-{layout(channels)}-{codec}.{ext}", "channels", "audio", make))
    return items


def _encoder(**kwargs) -> Callable[[Path], None]:
    return lambda path: encode(path, **kwargs)


# --- every codec in every container -------------------------------------------------------------

_PCM_LE = "pcm_s16le pcm_s24le pcm_s32le pcm_f32le pcm_f64le pcm_u8 pcm_alaw pcm_mulaw"
_RIFF = f"{_PCM_LE} pcm_s64le adpcm_ima_wav adpcm_ms adpcm_swf adpcm_yamaha dfpwm g722 g726"
_RIFF += " flac libmp3lame mp2 ac3 eac3"
# container format -> (extension, accepted by transcription.audio, codecs)
CONTAINERS = {
    "wav": ("wav", True, f"{_RIFF} libopencore_amrnb"),
    "w64": ("w64", True, _RIFF),
    "aiff": ("aiff", True, "pcm_s16be pcm_s24be pcm_s32be pcm_f32be pcm_f64be pcm_s8 pcm_u8 pcm_alaw "
             "pcm_mulaw adpcm_ima_qt adpcm_ima_ws"),
    "caf": ("caf", True, "pcm_s16be pcm_s16le pcm_s24le pcm_f32le pcm_f64be pcm_s8 pcm_alaw pcm_mulaw "
            "adpcm_ima_qt adpcm_ima_wav adpcm_ms alac flac libmp3lame mp2 ac3 libopencore_amrnb"),
    "flac": ("flac", True, "flac"),
    "mp3": ("mp3", True, "libmp3lame"),
    "adts": ("aac", True, "aac"),
    "ogg": ("ogg", True, "libopus flac"),
    "opus": ("opus", True, "libopus"),
    "matroska": ("mkv", True, "aac ac3 alac eac3 flac libmp3lame libopus mp2 pcm_f32le pcm_s16be "
                 "pcm_s24le pcm_u8 real_144 tta wavpack"),
    "webm": ("webm", True, "libopus"),
    "mp4": ("mp4", True, "aac ac3 alac eac3 flac libmp3lame libopus mp2 pcm_s16le pcm_f32be pcm_s24be"),
    "ipod": ("m4a", True, "aac alac ac3"),
    "mov": ("mov", True, "aac alac adpcm_ima_qt libopencore_amrnb nellymoser pcm_alaw pcm_s16be "
            "pcm_f64le mp2"),
    "3gp": ("3gp", True, "aac libopencore_amrnb"),
    "avi": ("avi", True, "pcm_s16le pcm_u8 adpcm_ms libmp3lame mp2 ac3 flac g726"),
    "asf": ("wma", True, "pcm_s16le adpcm_ima_wav libmp3lame aac flac"),
    "flv": ("flv", True, "aac libmp3lame nellymoser pcm_s16le adpcm_swf pcm_alaw"),
    "mpegts": ("ts", True, "aac ac3 eac3 libmp3lame mp2 libopus flac pcm_s16le pcm_bluray"),
    "mpeg": ("mpg", True, "mp2 libmp3lame ac3 pcm_dvd"),
    "amr": ("amr", True, "libopencore_amrnb"),
    # Containers PyAV writes that are not accepted: refused, by name.
    "nut": ("nut", False, "pcm_s16le flac libopus"),
    "au": ("au", False, "pcm_s16be pcm_mulaw g722"),
    "voc": ("voc", False, "pcm_s16le pcm_u8"),
    "rm": ("rm", False, "real_144 ac3"),
    "wtv": ("wtv", False, "pcm_s16le mp2"),
    "wv": ("wv", False, "wavpack"),
    "tta": ("tta", False, "tta"),
    "ircam": ("sf", False, "pcm_s16le pcm_f32le"),
    "sox": ("sox", False, "pcm_s32le"),
    "mmf": ("mmf", False, "adpcm_yamaha"),
    "sbc": ("sbc", False, "sbc"),
    "aptx": ("aptx", False, "aptx"),
    "g722": ("g722", False, "g722"),
    "s16le": ("raw", False, "pcm_s16le"),
    "ac3": ("ac3", False, "ac3"),
    "mp2": ("mp2", True, "mp2"),  # read by the accepted "mp3" demuxer (MPEG audio)
}  # fmt: skip
# The rates a codec takes (the others take any of RATES); codecs that need stereo.
CODEC_RATES = {
    "libopus": (8000, 16000, 48000),
    "aac": (8000, 16000, 44100, 48000, 96000),
    "libmp3lame": (8000, 16000, 44100),
    "mp2": (16000, 44100, 48000),
    "ac3": (44100, 48000),
    "eac3": (44100, 48000),
    "libopencore_amrnb": (8000,),
    "g722": (16000,),
    "g726": (8000,),
    "adpcm_swf": (11025, 22050, 44100),
    "real_144": (8000,),
    "nellymoser": (8000, 16000, 44100),
    "pcm_dvd": (48000, 96000),
    "pcm_bluray": (48000, 96000),
    "sbc": (16000, 48000),
    "aptx": (8000, 48000),
    "adpcm_yamaha": (8000, 16000, 44100),
    "dfpwm": (8000, 16000, 48000),
    "flv:pcm_s16le": (11025, 22050, 44100),
    "flv:pcm_alaw": (8000,),
    "flv:libmp3lame": (11025, 22050, 44100),
    "mmf:adpcm_yamaha": (8000, 11025, 22050, 44100),
    "mp4:libmp3lame": (16000, 44100),
    "avi:flac": (8000, 16000, 44100),
}
STEREO, MONO = {"aptx"}, {"libopencore_amrnb", "g722", "g726", "nellymoser", "real_144", "mmf:adpcm_yamaha"}


def _codec_items(rng: np.random.Generator) -> list[Item]:
    items = []
    for fmt, (ext, accepted, codecs) in CONTAINERS.items():
        for codec in codecs.split():
            rates = CODEC_RATES.get(f"{fmt}:{codec}") or CODEC_RATES.get(codec) or RATES
            rate = int(rates[int(rng.integers(len(rates)))])
            mono = codec in MONO or f"{fmt}:{codec}" in MONO
            channels = 2 if codec in STEREO else 1 if mono else int(rng.choice([1, 1, 2]))
            seconds = 1.0 if rate >= 8000 else 2.0
            make = _encoder(fmt=fmt, codec=codec, rate=rate, channels=channels, seconds=seconds)
            expect = "any" if accepted else "refused"
            items.append(Item(f"codec-{fmt}-{codec}-{rate}hz-{channels}ch.{ext}", "codec", expect, make))
    # Audio with pictures: the sound of a video.
    for fmt, ext, acodec, vcodec in (
        ("mp4", "mp4", "aac", "mpeg4"),
        ("matroska", "mkv", "libopus", "ffv1"),
        ("webm", "webm", "libopus", "libvpx"),
        ("avi", "avi", "pcm_s16le", "mjpeg"),
        ("mpegts", "ts", "mp2", "mpeg2video"),
        ("mov", "mov", "alac", "libx264"),
    ):
        make = _encoder(fmt=fmt, codec=acodec, rate=48000, channels=2, seconds=1.0, video=vcodec)
        items.append(Item(f"video-with-sound-{vcodec}-{acodec}.{ext}", "codec", "audio", make))
    return items


# --- damaged real clips -------------------------------------------------------------------------

# Real speech, encoded: name -> (container, codec, rate)
BASES = {
    "clip.wav": None,
    "clip.mp3": ("mp3", "libmp3lame", 16000),
    "clip.flac": ("flac", "flac", 16000),
    "clip.opus": ("ogg", "libopus", 48000),
    "clip.m4a": ("ipod", "aac", 16000),
    "clip.mkv": ("matroska", "wavpack", 16000),
    "clip.webm": ("webm", "libopus", 48000),
    "clip.mpg": ("mpeg", "mp2", 16000),
    "clip.ac3": ("ac3", "ac3", 48000),
    "clip.caf": ("caf", "alac", 16000),
    "clip.aiff": ("aiff", "pcm_s16be", 16000),
    "clip.ts": ("mpegts", "aac", 16000),
}


def base_clip(name: str) -> bytes:
    """A fixture clip (3 s of speech) as `name`'s format, made once per process."""
    if name not in _BASE_CACHE:
        samples = clip_samples()
        spec = BASES[name]
        if spec is None:
            data = wav_bytes(samples[:, 0])
        else:
            fmt, codec, rate = spec
            if rate != 16000:  # good enough for a test clip: linear interpolation
                t = np.arange(int(len(samples) * rate / 16000)) * 16000 / rate
                samples = np.interp(t, np.arange(len(samples)), samples[:, 0]).astype(np.float32)[:, None]
            buffer = io.BytesIO()
            _encode_to(buffer, fmt=fmt, codec=codec, rate=rate, samples=samples)
            data = buffer.getvalue()
        _BASE_CACHE[name] = data
    return _BASE_CACHE[name]


_BASE_CACHE: dict[str, bytes] = {}


def _encode_to(buffer: io.BytesIO, *, fmt: str, codec: str, rate: int, samples: np.ndarray) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"clip.{fmt}"
        encode(path, fmt=fmt, codec=codec, rate=rate, channels=1, seconds=0, samples=samples)
        buffer.write(path.read_bytes())


def _truncated(name: str, seed: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        data = base_clip(name)
        cut = int(np.random.default_rng(seed).integers(1, len(data)))
        path.write_bytes(data[:cut])

    return make


def _flipped(name: str, seed: int, where: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        rng = np.random.default_rng(seed)
        data = bytearray(base_clip(name))
        span = min(len(data), 512) if where == "header" else len(data)
        for at in rng.integers(0, span, size=int(rng.integers(1, 40))):
            data[at] = int(rng.integers(256))
        if where == "run":  # a run of zeros or 0xFF somewhere in the middle
            at = int(rng.integers(len(data) // 4, len(data)))
            data[at : at + int(rng.integers(16, 4096))] = bytes([0xFF if rng.random() < 0.5 else 0]) * 4096
        path.write_bytes(bytes(data))

    return make


def _damaged_items(rng: np.random.Generator) -> list[Item]:
    items = []
    names = sorted(BASES)
    for i in range(48):
        name = names[i % len(names)]
        items.append(
            Item(f"truncated-{i:02d}-{name}", "truncated", "any", _truncated(name, int(rng.integers(2**31))))
        )
    for i in range(48):
        name = names[i % len(names)]
        where = ("anywhere", "header", "run")[i % 3]
        seed = int(rng.integers(2**31))
        items.append(Item(f"flipped-{i:02d}-{where}-{name}", "flipped", "any", _flipped(name, seed, where)))
    # Every real fixture, damaged too.
    for i, fixture in enumerate(sorted(AUDIO.glob("*.wav"))):
        data = fixture.read_bytes()
        flips = np.random.default_rng(int(rng.integers(2**31)))
        damaged = bytearray(data)
        for at in flips.integers(44, len(data), size=200):
            damaged[at] ^= 0xFF
        items.append(Item(f"flipped-fixture-{i}-{fixture.name}", "flipped", "audio", _bytes(bytes(damaged))))
        cut = int(flips.integers(45, len(data)))
        items.append(Item(f"truncated-fixture-{i}-{fixture.name}", "truncated", "any", _bytes(data[:cut])))
    return items


# --- empty streams, lying headers ---------------------------------------------------------------


def _wav_header(*, rate=16000, channels=1, bits=16, data_size=0, riff_size=None, fmt_tag=1, block_align=None):
    block_align = channels * bits // 8 if block_align is None else block_align
    byte_rate = (rate * block_align) & 0xFFFFFFFF
    fields = (fmt_tag, channels, rate & 0xFFFFFFFF, byte_rate, block_align & 0xFFFF, bits)
    fmt = struct.pack("<HHIIHH", *fields)
    riff_size = 36 + data_size if riff_size is None else riff_size
    return (
        b"RIFF" + struct.pack("<I", riff_size & 0xFFFFFFFF) + b"WAVEfmt " + struct.pack("<I", 16) + fmt
        + b"data" + struct.pack("<I", data_size & 0xFFFFFFFF)
    )  # fmt: skip


def _speech_pcm(seconds: float = 1.0) -> bytes:
    return (clip_samples()[: int(16000 * seconds), 0] * 32767).astype("<i2").tobytes()


def _patched(name: str, tag: bytes, offset: int, value: bytes) -> Callable[[Path], None]:
    """A base clip with `value` written `offset` bytes after the first `tag` (a box or chunk name)."""

    def make(path: Path) -> None:
        data = bytearray(base_clip(name))
        at = data.find(tag)
        if at >= 0:
            data[at + offset : at + offset + len(value)] = value
        path.write_bytes(bytes(data))

    return make


def _no_packets(fmt: str, codec: str, rate: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        import av

        with av.open(str(path), "w", format=fmt) as out:
            out.add_stream(codec, rate=rate, layout="mono")
            out.start_encoding()  # the header, and nothing after it

    return make


def _mkv_duration(value: float) -> Callable[[Path], None]:
    """A Matroska clip whose Segment Info Duration (ID 0x4489, a float) says `value`."""

    def make(path: Path) -> None:
        data = bytearray(base_clip("clip.mkv"))
        at = data.find(b"\x44\x89")
        if at >= 0 and data[at + 2] == 0x88:  # an 8-byte float
            data[at + 3 : at + 11] = struct.pack(">d", value)
        elif at >= 0 and data[at + 2] == 0x84:
            data[at + 3 : at + 7] = struct.pack(">f", value)
        path.write_bytes(bytes(data))

    return make


def _header_items() -> list[Item]:
    pcm = _speech_pcm()
    huge = 0xFFFFFFF0
    wav = wav_bytes(clip_samples()[:, 0])
    empty = [
        Item("empty-zero-bytes.wav", "empty", "refused", _bytes(b"")),
        Item("empty-header-only.wav", "empty", "refused", _bytes(_wav_header())),
        Item("empty-one-sample.wav", "empty", "any", _bytes(_wav_header(data_size=2) + b"\x10\x00")),
        Item("empty-no-packets.mkv", "empty", "refused", _no_packets("matroska", "flac", 16000)),
        Item("empty-no-packets.flac", "empty", "refused", _no_packets("flac", "flac", 16000)),
        Item("empty-no-packets.opus", "empty", "refused", _no_packets("ogg", "libopus", 48000)),
        Item("empty-no-packets.m4a", "empty", "refused", _no_packets("ipod", "aac", 16000)),
        Item("empty-no-packets.caf", "empty", "refused", _no_packets("caf", "pcm_s16le", 16000)),
        Item("empty-id3-only.mp3", "empty", "refused", _bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00")),
        Item("empty-riff-only.wav", "empty", "refused", _bytes(b"RIFF\x04\x00\x00\x00WAVE")),
    ]
    ff4, one_ff4 = b"\xff" * 4, b"\x00\x00\x00\x01\xff\xff\xff\xff"

    def lying(**header) -> Callable[[Path], None]:
        return _bytes(_wav_header(data_size=len(pcm), **header) + pcm)

    def odd(name: str, expect: str, make: Callable[[Path], None]) -> Item:
        return Item(name, "absurd", expect, make)

    absurd = [
        odd("absurd-4gb.wav", "audio", _bytes(_wav_header(data_size=huge, riff_size=huge) + pcm)),
        odd("absurd-rate-1hz.wav", "any", lying(rate=1)),
        odd("absurd-rate-0.wav", "refused", lying(rate=0)),
        odd("absurd-rate-4ghz.wav", "any", lying(rate=huge)),
        odd("absurd-channels-0.wav", "refused", lying(channels=0)),
        odd("absurd-channels-65535.wav", "any", lying(channels=65535)),
        odd("absurd-bits-0.wav", "any", lying(bits=0)),
        odd("absurd-block-align-0.wav", "any", lying(block_align=0)),
        odd("absurd-format-tag.wav", "any", lying(fmt_tag=0x7777)),
        odd("absurd-list-chunk.wav", "any", _bytes(wav[:36] + b"LIST" + struct.pack("<I", huge) + wav[36:])),
        odd("absurd-flac-total-samples.flac", "any", _patched("clip.flac", b"fLaC", 21, b"\xff" * 5)),
        odd("absurd-flac-rate.flac", "any", _patched("clip.flac", b"fLaC", 18, b"\xff\xff\xf0")),
        odd("absurd-mvhd-duration.m4a", "any", _patched("clip.m4a", b"mvhd", 16, one_ff4)),
        odd("absurd-mdhd-duration.m4a", "any", _patched("clip.m4a", b"mdhd", 16, one_ff4)),
        odd("absurd-mdhd-timescale-0.m4a", "any", _patched("clip.m4a", b"mdhd", 16, bytes(4))),
        odd("absurd-stsz-count.m4a", "any", _patched("clip.m4a", b"stsz", 12, b"\x7f\xff\xff\xff")),
        odd("absurd-mkv-duration-centuries.mkv", "any", _mkv_duration(1e15)),
        odd("absurd-mkv-duration-negative.mkv", "any", _mkv_duration(-1e9)),
        odd("absurd-mkv-duration-nan.mkv", "any", _mkv_duration(float("nan"))),
        odd("absurd-aiff-frames.aiff", "any", _patched("clip.aiff", b"COMM", 10, ff4)),
        odd("absurd-aiff-rate.aiff", "any", _patched("clip.aiff", b"COMM", 16, b"\x7f" + b"\xff" * 5)),
        odd("absurd-caf-rate.caf", "any", _patched("clip.caf", b"desc", 12, struct.pack(">d", 1e300))),
        odd("absurd-caf-channels.caf", "any", _patched("clip.caf", b"desc", 36, ff4)),
        odd("absurd-ogg-granule.opus", "any", _patched("clip.opus", b"OggS", 6, b"\xff" * 8)),
    ]
    return empty + absurd


# --- video only, nested containers, playlists, junk ---------------------------------------------


def _video_items() -> list[Item]:
    cases = (
        ("mp4", "mp4", "mpeg4"),
        ("matroska", "mkv", "ffv1"),
        ("webm", "webm", "libvpx"),
        ("avi", "avi", "mjpeg"),
        ("mpeg", "mpg", "mpeg2video"),
        ("mov", "mov", "libx264"),
        ("mpegts", "ts", "mpeg2video"),
        ("gif", "gif", "gif"),
        ("apng", "png", "apng"),
    )
    return [
        Item(
            f"video-only-{codec}.{ext}",
            "video-only",
            "refused",
            lambda p, f=fmt, c=codec: video_only(p, fmt=f, codec=c),
        )
        for fmt, ext, codec in cases
    ]


def _attached(with_audio: bool) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        import av

        with av.open(str(path), "w", format="matroska") as out:
            out.add_attachment("meeting.wav", "audio/x-wav", base_clip("clip.wav")[:20000])
            if with_audio:
                stream = out.add_stream("flac", rate=16000, layout="mono")
                frame = av.AudioFrame.from_ndarray(
                    tones(1, 16000, 0.5).reshape(1, -1), format="flt", layout="mono"
                )
                frame.sample_rate, frame.pts = 16000, 0
                out.mux(stream.encode(frame))
                out.mux(stream.encode(None))
            else:
                out.start_encoding()  # the header (with the attachment), and nothing after it

    return make


def _archive(kind: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        wav = base_clip("clip.wav")
        if kind == "zip":
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr("meeting.wav", wav)
            path.write_bytes(buffer.getvalue())
        elif kind == "gzip":
            path.write_bytes(gzip.compress(wav))
        else:
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w") as archive:
                info = tarfile.TarInfo("meeting.wav")
                info.size = len(wav)
                archive.addfile(info, io.BytesIO(wav))
            path.write_bytes(buffer.getvalue())

    return make


def _joined(*parts: str | bytes) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(b"".join(base_clip(p) if isinstance(p, str) else p for p in parts))


def _nested_items() -> list[Item]:
    id3 = b"ID3\x04\x00\x00\x00\x00\x00\x20" + b"\x00" * 32
    return [
        Item("nested-attachment-only.mkv", "nested", "refused", _attached(False)),
        Item("nested-attachment-and-audio.mkv", "nested", "audio", _attached(True)),
        Item("nested-zip.wav", "nested", "refused", _archive("zip")),
        Item("nested-gzip.wav", "nested", "refused", _archive("gzip")),
        Item("nested-tar.wav", "nested", "any", _archive("tar")),
        Item("nested-webm-named.wav", "nested", "audio", _joined("clip.webm")),
        Item("nested-ogg-named.mp3", "nested", "audio", _joined("clip.opus")),
        Item("nested-m4a-named.flac", "nested", "audio", _joined("clip.m4a")),
        Item("nested-id3-then-wav.mp3", "nested", "any", _joined(id3, "clip.wav")),
        Item("nested-wav-then-wav.wav", "nested", "audio", _joined("clip.wav", "clip.wav")),
        Item("nested-wav-then-mkv.wav", "nested", "audio", _joined("clip.wav", "clip.mkv")),
        Item("nested-png-then-wav.wav", "nested", "refused", _joined(PNG, "clip.wav")),
        Item(
            "nested-wav-then-html.html",
            "nested",
            "audio",
            _joined("clip.wav", b"<html><script>alert(1)</script>"),
        ),
        Item(
            "nested-pdf-then-wav.wav", "nested", "any", _joined(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "clip.wav")
        ),
        Item("nested-mp4-in-mkv-named.mp4", "nested", "audio", _joined("clip.mkv")),
    ]


def _playlist(text: str, targets: dict[str, str] | None = None) -> Callable[[Path], None]:
    """A playlist-like file; {name} in `text` becomes the absolute path of a target file written
    under targets/ next to the corpus (a real clip in the named format)."""

    def make(path: Path) -> None:
        values = {}
        for key, clip in (targets or {}).items():
            target = path.parent / "targets" / f"{path.stem}-{key}{Path(clip).suffix}"
            target.parent.mkdir(exist_ok=True)
            target.write_bytes(base_clip(clip))
            values[key] = str(target)
        path.write_text(text.format(**values))

    return make


_MPD = (
    '<?xml version="1.0"?><MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" '
    'mediaPresentationDuration="PT3S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011"><Period>'
    '<AdaptationSet mimeType="audio/mp4"><Representation id="a" bandwidth="64000" codecs="mp4a.40.2">'
    "<BaseURL>file://{t}</BaseURL></Representation></AdaptationSet></Period></MPD>\n"
)
_HLS = "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXT-X-VERSION:3\n#EXTINF:3.0,\n{segment}\n#EXT-X-ENDLIST\n"


def _playlist_items() -> list[Item]:
    ts, wav = {"t": "clip.ts"}, {"t": "clip.wav"}
    return [
        Item(f"playlist-{name}", "playlist", "refused", make)
        for name, make in (
            ("hls-local-ts.m3u8", _playlist(_HLS.replace("{segment}", "{t}"), ts)),
            ("hls-file-url.m3u8", _playlist(_HLS.replace("{segment}", "file://{t}"), ts)),
            ("hls-relative.m3u8", _playlist(_HLS.replace("{segment}", "targets/playlist-hls-relative-t.ts"),
                                            ts)),
            ("hls-etc-passwd.m3u8", _playlist(_HLS.replace("{segment}", "/etc/passwd"))),
            ("hls-http.m3u8", _playlist(_HLS.replace("{segment}", "http://127.0.0.1:9/segment.ts"))),
            ("hls-data-url.m3u8", _playlist(_HLS.replace("{segment}", "data:text/plain;base64,SGVsbG8="))),
            ("hls-named.wav", _playlist(_HLS.replace("{segment}", "{t}"), ts)),
            ("hls-key.m3u8", _playlist(_HLS.replace("#EXTINF", '#EXT-X-KEY:METHOD=AES-128,URI="{k}"\n#EXTINF')
                                       .replace("{segment}", "{t}"), {"t": "clip.ts", "k": "clip.wav"})),
            ("hls-master.m3u8", _playlist("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000\n{t}\n",
                                          {"t": "clip.ts"})),
            ("ffconcat-wav.wav", _playlist("ffconcat version 1.0\nfile '{t}'\n", wav)),
            ("ffconcat-unsafe.txt", _playlist("ffconcat version 1.0\nfile '/etc/passwd'\nfile '{t}'\n", wav)),
            ("dash.mpd", _playlist(_MPD, {"t": "clip.m4a"})),
            ("rtp.sdp", _playlist("v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\n"
                                  "m=audio 5004 RTP/AVP 0\na=rtpmap:0 PCMU/8000\n")),
            ("plain.m3u", _playlist("#EXTM3U\n#EXTINF:3,clip\n{t}\n", wav)),
            ("plain.pls", _playlist("[playlist]\nFile1={t}\nNumberOfEntries=1\nVersion=2\n", wav)),
            ("asx.asx", _playlist('<asx version="3.0"><entry><ref href="file://{t}"/></entry></asx>\n', wav)),
            ("image2-%03d.png", lambda p: p.write_bytes(PNG)),
        )
    ]  # fmt: skip


def _junk_items(rng: np.random.Generator) -> list[Item]:
    random = {size: rng.bytes(size) for size in (1, 7, 100, 4096, 65536, 1_000_000)}
    magic = {
        "riff.wav": b"RIFF\xff\xff\xff\xffWAVEfmt ",
        "flac.flac": b"fLaC\x00\x00\x00\x22",
        "ogg.ogg": b"OggS\x00\x02" + b"\x00" * 20,
        "ebml.mkv": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01",
        "ftyp.mp4": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom",
        "id3.mp3": b"ID3\x03\x00\x00\x00\x00\x0f\x76",
        "mpegts.ts": b"\x47\x40\x00\x10" + b"\x00" * 184,
        "caf.caf": b"caff\x00\x01\x00\x00",
        "aiff.aiff": b"FORM\x00\x00\xff\xffAIFFCOMM",
        "asf.wma": bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c"),
    }
    items = [
        Item(f"junk-random-{size}.wav", "junk", "refused", _bytes(data)) for size, data in random.items()
    ]
    items += [
        Item(f"junk-magic-{name}", "junk", "refused", _bytes(head + rng.bytes(int(rng.integers(10, 5000)))))
        for name, head in magic.items()
    ]
    items += [
        Item(f"junk-bad-{kind}-{name}", "junk", "refused", _bytes(data))
        for kind, (name, data, _) in BAD_FILES.items()
    ]
    items += [
        Item("junk-zeros.wav", "junk", "refused", _bytes(bytes(1_000_000))),
        Item("junk-ff.mp3", "junk", "refused", _bytes(b"\xff" * 65536)),
        Item("junk-text.wav", "junk", "refused", _bytes(b"Meeting notes: this is plain text.\n" * 50)),
        Item("junk-png.mp3", "junk", "refused", _bytes(PNG)),
        Item("junk-elf.wav", "junk", "refused", _bytes(b"\x7fELF\x02\x01\x01" + bytes(57) + rng.bytes(2000))),
        Item("junk-html.webm", "junk", "refused", _bytes(b"<!doctype html><title>x</title><p>not audio\n")),
        Item("junk-utf16-bom.wav", "junk", "refused", _bytes("\ufeffnot audio".encode("utf-16"))),
        Item("junk-mp3-sync-storm.mp3", "junk", "any", _bytes(b"\xff\xfb\x90\x64" * 20000)),
    ]
    return items


def corpus(seed: int = 0) -> list[Item]:
    """The whole corpus, in a fixed order for a given seed."""
    rng = np.random.default_rng(seed)
    items = (
        _channel_items(rng)
        + _codec_items(rng)
        + _damaged_items(rng)
        + _header_items()
        + _video_items()
        + _nested_items()
        + _playlist_items()
        + _junk_items(rng)
    )
    assert len({item.name for item in items}) == len(items), "corpus names must be unique"
    return items


def sample(count: int, seed: int = 0) -> list[Item]:
    """`count` items of the corpus, every kind represented, chosen with `seed`."""
    items = corpus(seed)
    rng = np.random.default_rng(seed + 1)
    kinds = sorted({item.kind for item in items})
    chosen = []
    for kind in kinds:  # one of each kind first
        of_kind = [item for item in items if item.kind == kind]
        chosen.append(of_kind[int(rng.integers(len(of_kind)))])
    rest = [item for item in items if item not in chosen]
    picks = rng.choice(len(rest), size=max(0, count - len(chosen)), replace=False)
    return chosen + [rest[int(i)] for i in sorted(picks)]


def write(items: list[Item], dest: Path) -> tuple[list[tuple[Item, Path]], list[tuple[Item, str]]]:
    """Write each item's file under `dest`: (written items and their paths, skipped items and why)."""
    dest.mkdir(parents=True, exist_ok=True)
    written, skipped = [], []
    for item in items:
        path = dest / item.name
        try:
            item.make(path)
            path.stat()
        except Exception as exc:  # noqa: BLE001 - a codec or container this PyAV build lacks
            skipped.append((item, f"{type(exc).__name__}: {exc}"))
            path.unlink(missing_ok=True)
            continue
        written.append((item, path))
    return written, skipped

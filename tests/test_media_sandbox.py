"""The isolated decoder (transcription/media_sandbox.py): the same samples as decoding in-process,
every channel count and sample rate, and every failure a sentence for the user while the calling
process carries on: a real native crash, a timeout, a memory limit, playlists that point elsewhere,
and a seeded sample of the hostile corpus (tests/hostile_corpus.py)."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from tests import hostile_corpus
from tests.hostile import AUDIO, CLIP, silence_wav
from transcription import audio, media_sandbox
from transcription.media_sandbox import decode_isolated, probe_isolated

SENTENCE = re.compile(r"[A-Z].{10,}[.?!]", re.S)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def levels_file(
    tmp_path: Path, *, codec: str, fmt: str, ext: str, channels: int, levels: np.ndarray, sample_format=None
) -> Path:
    """Half a second at 16 kHz where channel k holds the constant `levels[k]` (after a short fade
    in, so that lossless codecs have something to predict)."""
    samples = np.tile(levels.astype(np.float32), (8000, 1))
    samples[:800] *= np.linspace(0, 1, 800, dtype=np.float32)[:, None]
    path = tmp_path / f"levels-{channels}.{ext}"
    hostile_corpus.encode(
        path,
        fmt=fmt,
        codec=codec,
        rate=16000,
        channels=channels,
        seconds=0,
        samples=samples,
        sample_format=sample_format,
    )
    return path


@pytest.mark.parametrize("channels", [1, 2, 7, 8, 9, 16, 32, 64])
@pytest.mark.parametrize(
    "codec, fmt, ext, sample_format",
    [
        ("pcm_s16le", "wav", "wav", None),  # packed 16-bit
        ("pcm_u8", "wav", "wav", None),  # packed unsigned 8-bit
        ("pcm_f32le", "caf", "caf", None),  # packed float; CAF maps 3-8 channels in a custom order
        ("wavpack", "matroska", "mka", "s16p"),  # planar: PyAV's to_ndarray crashed on 8 or more
        ("wavpack", "matroska", "mka", "fltp"),
    ],
)
def test_it_averages_every_channel_count(tmp_path, codec, fmt, ext, sample_format, channels):
    levels = np.linspace(-0.9, 0.95, channels) if channels > 1 else np.array([0.6])
    path = levels_file(
        tmp_path, codec=codec, fmt=fmt, ext=ext, channels=channels, levels=levels, sample_format=sample_format
    )
    samples = decode_isolated(path, max_seconds=60)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert samples.size == 8000
    tolerance = 1 / 128 if codec == "pcm_u8" else 2e-4
    assert np.median(samples[1000:]) == pytest.approx(levels.mean(), abs=tolerance)


@pytest.mark.parametrize(
    "codec, fmt, ext, sample_format",
    [
        ("pcm_s16le", "wav", "wav", None),
        ("pcm_u8", "wav", "wav", None),
        ("wavpack", "matroska", "mka", "s16p"),
        ("wavpack", "matroska", "mka", "fltp"),
    ],
)
def test_it_decodes_one_channel_of_a_call_exactly(tmp_path, codec, fmt, ext, sample_format):
    """A call's channel alone (one side of it): packed and planar, signed and unsigned."""
    levels = np.array([-0.5, 0.75])
    path = levels_file(
        tmp_path, codec=codec, fmt=fmt, ext=ext, channels=2, levels=levels, sample_format=sample_format
    )
    tolerance = 1 / 128 if codec == "pcm_u8" else 2e-4
    for channel in (0, 1):
        samples = decode_isolated(path, max_seconds=60, channel=channel)
        assert samples.size == 8000
        assert np.median(samples[1000:]) == pytest.approx(levels[channel], abs=tolerance)


def test_it_says_a_mono_file_is_no_call(tmp_path):
    path = levels_file(tmp_path, codec="pcm_s16le", fmt="wav", ext="wav", channels=1, levels=np.array([0.5]))
    with pytest.raises(audio.AudioDecodeError, match="has one channel"):
        decode_isolated(path, max_seconds=60, channel=1)


@pytest.mark.parametrize("channels", [2, 8, 64])
def test_it_averages_loud_channels_without_clipping_or_scaling(tmp_path, channels):
    """FFmpeg's own downmix would scale each channel by 0.707 and sum: 8 loud channels clip."""
    path = levels_file(
        tmp_path, codec="pcm_s16le", fmt="wav", ext="wav", channels=channels, levels=np.full(channels, 0.99)
    )
    samples = decode_isolated(path, max_seconds=60)
    assert np.median(samples[1000:]) == pytest.approx(0.99, abs=1e-4)
    assert np.abs(samples).max() < 0.995


@pytest.mark.parametrize("channels", [8, 16, 64])
def test_it_decodes_many_channel_opus(tmp_path, channels):
    """Opus with mapping family 255 decodes to planar float: the case PyAV's planes crashed on."""
    path = tmp_path / f"tones-{channels}.opus"
    hostile_corpus.encode(
        path,
        fmt="ogg",
        codec="libopus",
        rate=48000,
        channels=channels,
        seconds=0.5,
        options={"mapping_family": "255"},
    )
    samples = decode_isolated(path, max_seconds=60)
    assert abs(samples.size - 8000) < 800
    assert 0.02 < np.abs(samples).max() <= 1.0


@pytest.mark.parametrize("rate", [1000, 8000, 11025, 44100, 96000, 192000, 384000])
def test_it_resamples_any_rate_to_16k(tmp_path, rate):
    seconds, frequency = 1.0, 200.0
    tone = 0.5 * np.sin(2 * np.pi * frequency * np.arange(int(rate * seconds)) / rate)
    path = tmp_path / f"tone-{rate}.wav"
    hostile_corpus.encode(
        path, fmt="wav", codec="pcm_s16le", rate=rate, channels=1, seconds=0, samples=tone[:, None]
    )
    samples = decode_isolated(path, max_seconds=60)
    assert abs(samples.size - 16000) <= 16
    assert 0.45 < np.abs(samples[2000:-2000]).max() < 0.55
    spectrum = np.abs(np.fft.rfft(samples))
    assert np.argmax(spectrum) * 16000 / samples.size == pytest.approx(frequency, abs=2)


@pytest.mark.parametrize(
    "codec, fmt, ext, rate",
    [("flac", "flac", "flac", 384000), ("wavpack", "matroska", "mka", 192000), ("aac", "mp4", "m4a", 96000)],
)
def test_it_resamples_high_rates_of_compressed_audio(tmp_path, codec, fmt, ext, rate):
    path = tmp_path / f"tone.{ext}"
    hostile_corpus.encode(path, fmt=fmt, codec=codec, rate=rate, channels=2, seconds=1.0)
    samples = decode_isolated(path, max_seconds=60)
    assert abs(samples.size - 16000) < 1600
    assert 0.1 < np.abs(samples).max() <= 1.0


def test_it_gives_the_same_samples_as_decoding_in_process():
    for clip in sorted(AUDIO.glob("*.wav"))[:3]:
        expected = audio.decode(clip, max_seconds=60)
        np.testing.assert_array_equal(decode_isolated(clip, max_seconds=60), expected)


def test_it_passes_the_decoders_own_messages_through_unchanged(tmp_path):
    from tests.hostile import PNG

    cases = {
        write(tmp_path, "empty.wav", b""): "This file is empty.",
        write(tmp_path, "photo.mp3", PNG): audio.NOT_ACCEPTED.format(format="piped png sequence"),
        write(tmp_path, "long.wav", silence_wav(3)): audio.TOO_LONG.format(limit="0:00:02"),
        write(tmp_path, "notes.wav", b"Meeting notes\n" * 100): audio.NOT_MEDIA,
    }
    for path, message in cases.items():
        with pytest.raises(audio.AudioDecodeError) as caught:
            decode_isolated(path, max_seconds=2)
        assert str(caught.value) == message
    from tests.media import encode

    film = encode(None, tmp_path / "silent-film.mp4", audio_codec=None, video_codec="mpeg4")
    with pytest.raises(audio.AudioDecodeError, match=r"^This file has no audio track\.$"):
        decode_isolated(film, max_seconds=60)


def test_it_names_the_decoded_size_limit(tmp_path):
    path = write(tmp_path, "long.wav", silence_wav(20))
    with pytest.raises(audio.AudioDecodeError, match=r"more than 1 MB of memory \(about 0:00:16 of audio\)"):
        decode_isolated(path, max_seconds=60, max_decoded_bytes=1024 * 1024)


def test_it_contains_a_real_native_crash(tmp_path, monkeypatch):
    """The test-only hook makes the child kill itself with SIGSEGV: the caller gets a sentence,
    and carries on decoding other files."""
    crashing = write(tmp_path, "crash-me.wav", CLIP.read_bytes())
    monkeypatch.setenv(media_sandbox.CRASH_MARKER_ENV, "crash-me")
    stats = media_sandbox.IsolationStats()
    with pytest.raises(audio.AudioDecodeError) as caught:
        decode_isolated(crashing, max_seconds=60, stats=stats)
    assert str(caught.value) == media_sandbox.DECODER_CRASHED
    assert stats.exit == "signal 11 (SIGSEGV)"
    assert probe_isolated(crashing) is None
    assert decode_isolated(CLIP, max_seconds=60).size > 40000  # the marker is not in its name


def test_it_stops_a_decoder_at_the_wall_clock_limit(tmp_path):
    path = write(tmp_path, "slow.wav", hostile_corpus._wav_header(rate=1, data_size=64000) + bytes(64000))
    stats = media_sandbox.IsolationStats()
    started = time.monotonic()
    with pytest.raises(audio.AudioDecodeError) as caught:
        decode_isolated(path, max_seconds=14400, wall_seconds=0.5, stats=stats)
    assert str(caught.value) == media_sandbox.DECODE_TIMED_OUT
    assert stats.exit == "killed after the wall-clock limit"
    assert time.monotonic() - started < 3


def test_it_stops_a_decoder_at_the_cpu_limit(tmp_path):
    """1 Hz, upsampled to 16 kHz: 64,000 samples in make 16,000 times as many out, for seconds."""
    path = write(tmp_path, "slow.wav", hostile_corpus._wav_header(rate=1, data_size=64000) + bytes(64000))
    stats = media_sandbox.IsolationStats()
    with pytest.raises(audio.AudioDecodeError) as caught:
        decode_isolated(path, max_seconds=14400, cpu_seconds=1, stats=stats)
    assert str(caught.value) == media_sandbox.DECODE_TIMED_OUT
    assert stats.exit.startswith(("signal 24 (SIGXCPU)", "signal 9 (SIGKILL)"))


def test_it_reports_the_memory_limit(tmp_path):
    """A limit far below what the interpreter already maps: the first allocation for the file fails."""
    stats = media_sandbox.IsolationStats()
    with pytest.raises(audio.AudioDecodeError) as caught:
        decode_isolated(CLIP, max_seconds=60, memory_bytes=64 * 2**20, stats=stats)
    assert str(caught.value) == media_sandbox.DECODE_OUT_OF_MEMORY
    assert stats.memory_limit_bytes == 64 * 2**20


def test_it_sets_the_limits_in_the_child():
    limits = {"memory_bytes": 900 * 2**20, "cpu_seconds": 7, "output_bytes": 12345, "wall_seconds": 1}
    script = (
        "import resource, json; from transcription.media_child import _limit_resources; "
        f"_limit_resources({limits!r}); "
        "print(json.dumps([resource.getrlimit(getattr(resource, 'RLIMIT_' + n)) "
        "for n in ('AS', 'CPU', 'FSIZE', 'CORE', 'NPROC', 'NOFILE')]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=Path(audio.__file__).parent.parent
    )
    assert run.returncode == 0, run.stderr
    got = [tuple(pair) for pair in __import__("json").loads(run.stdout)]
    assert got == [(900 * 2**20,) * 2, (7, 9), (12345, 12345), (0, 0), (0, 0), (64, 64)]


def test_it_runs_the_child_without_django_or_torch():
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); import transcription.media_sandbox, av; "
        "print(sorted(m for m in ('django', 'torch', 'funasr', 'faster_whisper') if m in sys.modules))"
    )
    root = str(Path(audio.__file__).parent.parent)
    run = subprocess.run([media_sandbox.PYTHON, "-I", "-c", script, root], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_it_leaves_no_scratch_file_behind(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    decode_isolated(CLIP, max_seconds=60, scratch_dir=scratch)
    with pytest.raises(audio.AudioDecodeError):
        decode_isolated(write(tmp_path, "long.wav", silence_wav(3)), max_seconds=1, scratch_dir=scratch)
    monkeypatch.setenv(media_sandbox.CRASH_MARKER_ENV, "crash")
    with pytest.raises(audio.AudioDecodeError):
        decode_isolated(write(tmp_path, "crash.wav", CLIP.read_bytes()), max_seconds=60, scratch_dir=scratch)
    assert list(scratch.iterdir()) == []


def test_it_says_a_missing_file_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError):
        decode_isolated(tmp_path / "gone.wav", max_seconds=60)


def test_it_probes_the_header_duration_in_a_child(tmp_path):
    assert probe_isolated(write(tmp_path, "s.wav", silence_wav(3))) == pytest.approx(3.0, abs=0.01)
    assert probe_isolated(write(tmp_path, "x.wav", b"not audio")) is None
    assert probe_isolated(write(tmp_path, "png.mp3", hostile_corpus.PNG)) is None  # not accepted


HLS = "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXT-X-VERSION:3\n#EXTINF:10.0,\n{segment}\n#EXT-X-ENDLIST\n"


def test_it_never_opens_the_files_a_playlist_points_at(tmp_path):
    """An uploaded HLS playlist whose segment is a FIFO on disk: FFmpeg opening it would show at
    once (a writer's non-blocking open succeeds only while a reader has it open). Neither the
    probe nor the decode may open it; a real segment next to it is not read either."""
    fifo = tmp_path / "secret.ts"
    os.mkfifo(fifo)
    playlist = tmp_path / "list.m3u8"
    playlist.write_text(HLS.format(segment=fifo))
    opened = threading.Event()
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: nobody reads it
                time.sleep(0.002)
                continue
            opened.set()
            os.close(fd)  # the reader sees end of file and gives up
            return

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        assert probe_isolated(playlist, wall_seconds=10) is None
        with pytest.raises(audio.AudioDecodeError) as caught:
            decode_isolated(playlist, max_seconds=60, wall_seconds=10)
        assert audio.probe_duration(playlist) is None
        with pytest.raises(audio.AudioDecodeError):
            audio.decode(playlist, max_seconds=60)
    finally:
        done.set()
        watcher.join()
    assert not opened.is_set(), "a segment of the playlist was opened"
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert str(caught.value) == audio.NOT_MEDIA


def test_it_refuses_a_playlist_of_real_segments(tmp_path):
    """The same with a real MPEG-TS segment: the probe used to report the playlist's 10 s."""
    segment = tmp_path / "secret.ts"
    segment.write_bytes(hostile_corpus.base_clip("clip.ts"))
    playlist = tmp_path / "list.m3u8"
    playlist.write_text(HLS.format(segment=segment))
    assert probe_isolated(playlist) is None
    with pytest.raises(audio.AudioDecodeError, match="not an audio or video file"):
        decode_isolated(playlist, max_seconds=60)


def test_it_survives_a_seeded_sample_of_the_hostile_corpus(tmp_path):
    """60 files of the corpus (every kind), 2 at a time: samples or a sentence, nothing else."""
    written, skipped = hostile_corpus.write(hostile_corpus.sample(60, seed=7), tmp_path)
    assert len(written) >= 55, skipped

    def run(item_path):
        item, path = item_path
        try:
            return item, decode_isolated(path, max_seconds=600, max_decoded_bytes=64 * 2**20)
        except audio.AudioDecodeError as exc:
            return item, exc

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(run, written))
    for item, result in results:
        if isinstance(result, audio.AudioDecodeError):
            assert SENTENCE.fullmatch(str(result)), (item.name, str(result))
            assert item.expect != "audio", (item.name, str(result))
        else:
            assert item.expect != "refused", item.name
            assert result.dtype == np.float32 and result.ndim == 1 and result.size > 0, item.name
            assert np.isfinite(result).all() and np.abs(result).max() <= 1.0, item.name
    assert {item.kind for item, _ in results} == {item.kind for item in hostile_corpus.corpus(7)}


def test_it_decodes_in_the_child_started_before_it_was_needed(monkeypatch):
    """Each file still gets a fresh process, but one that had started (and imported) while the
    previous file was decoded: a short upload does not wait for Python to start."""
    decode_isolated(CLIP, max_seconds=60)
    waiting = media_sandbox._spare.child
    used = []
    real = media_sandbox._run

    def spy(child, *args, **kwargs):
        used.append(child)
        return real(child, *args, **kwargs)

    monkeypatch.setattr(media_sandbox, "_run", spy)
    assert decode_isolated(CLIP, max_seconds=60).size > 40000
    assert probe_isolated(CLIP) > 2
    assert used[0] is waiting and used[1] is not waiting
    assert waiting.returncode == 0 and media_sandbox._spare.child.poll() is None

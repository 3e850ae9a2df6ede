import numpy as np
import pytest

from tests.hostile import AUDIO, BAD_FILES, silence_wav, wav_bytes
from transcription import audio


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_it_decodes_a_wav_to_16k_mono_float32():
    samples = audio.decode(AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav", max_seconds=60)
    assert samples.dtype == np.float32
    assert samples.ndim == 1
    assert abs(samples.size / 16_000 - 2.99) < 0.05
    assert 0.05 < np.abs(samples).max() <= 1.0


def test_it_resamples_and_downmixes(tmp_path):
    tone = np.sin(np.linspace(0, 440 * 2 * np.pi, 44_100 * 2)).astype(np.float32) * 0.5
    stereo = np.repeat(tone, 2)  # interleaved L/R
    path = write(tmp_path, "tone.wav", wav_bytes(stereo, rate=44_100, channels=2))
    samples = audio.decode(path, max_seconds=60)
    assert abs(samples.size - 32_000) < 200  # 2 s at 16 kHz
    assert 0.4 < np.abs(samples).max() < 0.6


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_it_explains_files_that_are_not_audio(tmp_path, kind):
    name, data, message = BAD_FILES[kind]
    with pytest.raises(audio.AudioDecodeError, match=message):
        audio.decode(write(tmp_path, name, data), max_seconds=60)


def test_it_refuses_audio_over_the_duration_limit(tmp_path):
    path = write(tmp_path, "long.wav", silence_wav(3))
    with pytest.raises(audio.AudioDecodeError, match="longer than the limit of 0:00:02"):
        audio.decode(path, max_seconds=2)


def test_it_probes_the_duration_from_the_header(tmp_path):
    assert audio.probe_duration(write(tmp_path, "s.wav", silence_wav(3))) == pytest.approx(3.0, abs=0.01)
    assert audio.probe_duration(write(tmp_path, "x.wav", b"not audio")) is None


@pytest.mark.parametrize(
    "name, audio_codec, video_codec",
    [
        ("speech.mp3", "libmp3lame", None),
        ("speech.flac", "flac", None),
        ("recording.webm", "libopus", None),  # what Chrome's MediaRecorder sends
        ("meeting.mp4", "aac", "mpeg4"),
        ("training.webm", "libopus", "libvpx"),
    ],
)
def test_it_decodes_compressed_audio_and_the_sound_of_videos(tmp_path, name, audio_codec, video_codec):
    from tests.media import encode

    original = audio.decode(AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav", max_seconds=60)
    path = encode(original, tmp_path / name, audio_codec=audio_codec, video_codec=video_codec)
    samples = audio.decode(path, max_seconds=60)
    assert abs(samples.size - original.size) < 0.1 * 16_000  # codec padding, not lost audio
    assert np.abs(samples).max() > 0.05


def test_it_explains_a_video_without_sound(tmp_path):
    from tests.media import encode

    path = encode(None, tmp_path / "silent-film.mp4", audio_codec=None, video_codec="mpeg4")
    with pytest.raises(audio.AudioDecodeError, match="no audio track"):
        audio.decode(path, max_seconds=60)


def test_it_refuses_audio_over_the_decoded_size_limit(tmp_path):
    path = write(tmp_path, "long.wav", silence_wav(20))  # 1.25 MB of float32 samples
    with pytest.raises(audio.AudioDecodeError, match=r"more than 1 MB of memory \(about 0:00:16 of audio\)"):
        audio.decode(path, max_seconds=60, max_decoded_bytes=1024 * 1024)


def test_it_names_whichever_limit_is_lower(tmp_path):
    path = write(tmp_path, "long.wav", silence_wav(20))
    with pytest.raises(audio.AudioDecodeError, match="longer than the limit of 0:00:10"):
        audio.decode(path, max_seconds=10, max_decoded_bytes=1024 * 1024)


def speech_wav(tmp_path, seconds: float):
    clip = audio.decode(AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav", max_seconds=60)
    return write(tmp_path, "speech.wav", wav_bytes(np.tile(clip, int(seconds * 16_000 / clip.size) + 1)))


@pytest.mark.parametrize("seconds", [24, 600])
def test_it_never_holds_more_samples_than_the_decoded_size_limit(tmp_path, seconds):
    """Counted as it decodes, in one buffer: neither a 600 s recording cut off at the limit nor a
    24 s one that fits ever has more than the limit in memory (frames joined at the end would
    hold twice the audio at their peak)."""
    import tracemalloc

    limit = 2 * 1024 * 1024  # 32.8 s of samples
    path = speech_wav(tmp_path, seconds)
    tracemalloc.start()  # numpy reports its arrays' memory to tracemalloc
    try:
        samples = audio.decode(path, max_seconds=3600, max_decoded_bytes=limit)
    except audio.AudioDecodeError as exc:
        samples = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    if seconds == 24:
        assert samples.size == pytest.approx(24 * 16_000, abs=3 * 16_000)
    else:
        assert isinstance(samples, audio.AudioDecodeError) and "too long to process" in str(samples)
    assert peak < limit + 256 * 1024


def decode_in_a_process_of_its_own(paths: list) -> list[tuple[int, float, float]]:
    """audio.decode on each file in a fresh Python: these files used to kill the process
    (SIGSEGV, or glibc's abort on a double free), which must not take pytest with it."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import json, sys; import numpy as np; from transcription import audio\n"
        "out = []\n"
        "for p in sys.argv[1:]:\n"
        "    s = audio.decode(p, max_seconds=60)\n"
        "    out.append((s.size, float(np.median(s[len(s) // 4 :])), float(np.abs(s).max())))\n"
        "print(json.dumps(out))"
    )
    root = Path(audio.__file__).parent.parent
    run = subprocess.run(
        [sys.executable, "-c", script, *map(str, paths)], capture_output=True, text=True, cwd=root
    )
    assert run.returncode == 0, f"exit {run.returncode}: {run.stderr[-2000:]}"
    return [tuple(row) for row in json.loads(run.stdout)]


def test_it_decodes_the_files_that_crashed_it(tmp_path):
    """The issue's 8-channel FLAC (`sox -n -r 16000 -c 8 -b 16 x.flac synth 2 sine 440`): planar
    frames of 8 or more channels crashed PyAV's to_ndarray. A CAF in 7.1 (custom channel order):
    PyAV frees the frames' channel map twice. Both now decode in-process, averaged."""
    from tests.hostile_corpus import encode

    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(32000) / 16000)
    flac = tmp_path / "x.flac"
    encode(
        flac, fmt="flac", codec="flac", rate=16000, channels=8, seconds=0, samples=np.tile(tone[:, None], 8)
    )
    levels = np.linspace(-0.9, 0.95, 8)
    caf = tmp_path / "seven-one.caf"
    encode(
        caf,
        fmt="caf",
        codec="pcm_f32le",
        rate=16000,
        channels=8,
        seconds=0,
        samples=np.tile(levels, (8000, 1)),
    )
    planar = tmp_path / "nine.mka"
    encode(
        planar,
        fmt="matroska",
        codec="wavpack",
        rate=44100,
        channels=9,
        seconds=0,
        samples=np.tile(np.full(9, 0.99), (44100, 1)),
        sample_format="s16p",
    )
    (flac_size, _, flac_peak), (caf_size, caf_level, _), (planar_size, planar_level, planar_peak) = (
        decode_in_a_process_of_its_own([flac, caf, planar])
    )
    assert flac_size == 32000 and 0.49 < flac_peak < 0.51
    assert caf_size == 8000 and caf_level == pytest.approx(levels.mean(), abs=1e-4)
    assert abs(planar_size - 16000) <= 16 and planar_level == pytest.approx(0.99, abs=1e-3)
    assert planar_peak < 1.0  # averaged, not summed (FFmpeg's downmix would clip these)


def test_it_probes_nothing_a_playlist_points_at(tmp_path):
    """The probe used to open an uploaded HLS playlist's segments (and report their duration)."""
    from tests.hostile_corpus import base_clip

    segment = tmp_path / "other.ts"
    segment.write_bytes(base_clip("clip.ts"))
    playlist = write(
        tmp_path,
        "list.m3u8",
        f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n{segment}\n#EXT-X-ENDLIST\n".encode(),
    )
    assert audio.probe_duration(playlist) is None
    with pytest.raises(audio.AudioDecodeError, match="not an audio or video file"):
        audio.decode(playlist, max_seconds=60)
    assert audio.probe_duration(segment) == pytest.approx(3.0, abs=0.1)  # the segment itself is fine


def test_it_refuses_formats_off_the_list_in_the_probe_too(tmp_path):
    from tests.hostile import PNG

    assert audio.probe_duration(write(tmp_path, "photo.wav", PNG)) is None


@pytest.mark.parametrize(
    "name, codec", [("call.wav", None), ("call.mp3", "libmp3lame"), ("call.flac", "flac")]
)
def test_it_decodes_one_channel_of_a_stereo_call(tmp_path, name, codec):
    """Interleaved (WAV) and planar (MP3's float planes) frames alike: each channel alone, the other
    side silent in it; and the mix of both without a channel."""
    import soundfile as sf

    from tests.media import encode

    voice = audio.decode(AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav", max_seconds=60)
    stereo = np.zeros((voice.size * 2, 2), dtype=np.float32)
    stereo[: voice.size, 0] = voice  # the left side speaks first, then the right one
    stereo[voice.size :, 1] = voice
    path = tmp_path / name
    if codec is None:
        sf.write(path, stereo, 16_000, subtype="PCM_16")
    else:
        encode(stereo, path, audio_codec=codec)
    half = voice.size
    left = audio.decode(path, max_seconds=60, channel=0)
    right = audio.decode(path, max_seconds=60, channel=1)
    both = audio.decode(path, max_seconds=60)
    loud = np.abs(voice).max()
    offset = left.size - stereo.shape[0]  # an encoder's leading padding, if any
    assert 0 <= offset < 0.1 * 16_000
    assert np.abs(left[offset : offset + half]).max() > 0.8 * loud
    assert np.abs(left[offset + half + 800 :]).max() < 0.01
    assert np.abs(right[offset : offset + half - 800]).max() < 0.01
    assert np.abs(right[offset + half :]).max() > 0.8 * loud
    assert np.abs(both).max() == pytest.approx(loud / 2, rel=0.2)


def test_it_says_a_mono_recording_has_no_second_channel():
    path = AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav"
    assert audio.decode(path, max_seconds=60, channel=0).size > 0  # its only channel is channel 0
    with pytest.raises(audio.AudioDecodeError, match="has one channel: a call"):
        audio.decode(path, max_seconds=60, channel=1)

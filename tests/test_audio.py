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

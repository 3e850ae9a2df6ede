"""Files that are not usable audio, each with the message the user should see."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

AUDIO = Path(__file__).parent / "fixtures" / "audio"
CLIP = AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav"

# A valid 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360"
    "0000000200015de2bd6f0000000049454e44ae426082"
)


def wav_bytes(samples: np.ndarray, rate: int = 16_000, channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def silence_wav(seconds: float = 3.0) -> bytes:
    return wav_bytes(np.zeros(int(16_000 * seconds), dtype=np.float32))


# name -> (file name, bytes, substring of the message)
BAD_FILES = {
    "empty": ("empty.wav", b"", "empty"),
    "truncated": ("truncated.wav", CLIP.read_bytes()[:40], "damaged"),
    "text": ("notes.wav", b"Meeting notes\nThis is plain text, not a recording.\n" * 20, "not an audio"),
    "image": ("photo.mp3", PNG, "not an accepted"),
    "random": ("noise.m4a", np.random.default_rng(7).bytes(50_000), "not an audio"),
}

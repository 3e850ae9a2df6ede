"""Where to cut a long recording into chunks that several workers recognise at once
(transcription/chunked.py): in a pause, found by Silero VAD, near points that share the recording
out evenly. Only the audio around each point is searched: a VAD pass over a two-hour recording
would keep every other worker waiting. Knows nothing of Django."""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 16_000
# How far either side of an even share's end a pause is looked for.
SEARCH_S = 8.0
# Real pauses, not the padded speech Whisper is given: a cut must not clip a word.
MIN_SILENCE_MS = 160
SPEECH_PAD_MS = 30
PAUSE_S = 0.3  # a pause between sentences: the chunks stay even, and no sentence is cut
FRAME = SAMPLE_RATE // 50  # 20 ms: the quietest frame, when no pause is found


def spans(samples: np.ndarray, parts: int) -> list[tuple[int, int]]:
    """`parts` consecutive sample ranges covering the recording, each cut in a pause near an
    even share's end. Fewer when the recording is too short to cut."""
    total = samples.size
    if parts < 2 or total < parts * 2 * SEARCH_S * SAMPLE_RATE:
        return [(0, total)]
    bounds = [0]
    for k in range(1, parts):
        bounds.append(pause_near(samples, total * k // parts))
    bounds.append(total)
    return list(zip(bounds, bounds[1:], strict=False))


def pause_near(samples: np.ndarray, point: int) -> int:
    """The middle of the pause nearest `point` within SEARCH_S (a pause between sentences, of
    PAUSE_S or more, or else the longest there is), as a sample index; the quietest 20 ms there
    when the speech has no pause at all."""
    reach = int(SEARCH_S * SAMPLE_RATE)
    lo, hi = max(0, point - reach), min(samples.size, point + reach)
    around = samples[lo:hi]
    speech = _speech(around)
    if not speech:
        return point  # silence all around: anywhere will do
    gaps = [(0, speech[0]["start"])] if speech[0]["start"] > 0 else []
    gaps += [(a["end"], b["start"]) for a, b in zip(speech, speech[1:], strict=False)]
    if speech[-1]["end"] < around.size:
        gaps.append((speech[-1]["end"], around.size))
    gaps = [(start, end) for start, end in gaps if end > start]
    if not gaps:
        return lo + _quietest(around)
    middle = point - lo
    pauses = [g for g in gaps if g[1] - g[0] >= PAUSE_S * SAMPLE_RATE] or [
        max(gaps, key=lambda g: g[1] - g[0])
    ]
    start, end = min(pauses, key=lambda g: abs((g[0] + g[1]) // 2 - middle))
    return lo + (start + end) // 2


def _speech(samples: np.ndarray) -> list[dict]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(min_silence_duration_ms=MIN_SILENCE_MS, speech_pad_ms=SPEECH_PAD_MS)
    return get_speech_timestamps(samples, options)


def _quietest(samples: np.ndarray) -> int:
    frames = samples[: samples.size // FRAME * FRAME].reshape(-1, FRAME)
    energy = np.square(frames, dtype=np.float64).mean(axis=1)
    return int(np.argmin(energy)) * FRAME + FRAME // 2

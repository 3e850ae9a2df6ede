"""Live captions (issue 20): how soon words appear, and how many sessions one process can serve.

Engine level, for now: `--sessions` live sessions (transcription/engine/live.py, LocalAgreement over
the bundled Whisper tiny.en, greedy) share one resident model in one process, as a streaming worker
would; each is fed the test reading (the LibriVox clips, 0.5 s apart) in real time, from the wall
clock, starting a little apart. The process serves them in turn: whichever session has waited
longest with a second or more of new audio is decoded next; with `--batched`, every session with
a second or more of new audio is decoded in one batched call (`live.decode_many`). For every
committed word: **first appearance**, the wall time at which it was first shown (as partial or
final, same word within half a second) minus the time its end was spoken; and **final**, the time
it was committed minus the same. p50 and p95 over all sessions' words.

    .venv/bin/python bench/live.py [--sessions 1 4 8] [--seconds 30] [--threads 0] [--trim S]
                                   [--batched]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RATE = 16_000
FRAME = RATE // 10  # the browser sends a tenth of a second at a time


@dataclass
class Speaker:
    session: object
    audio: np.ndarray
    starts_at: float  # wall clock
    sent: int = 0
    shown: dict = field(default_factory=dict)  # (key, rounded start) -> first wall time seen
    first: list = field(default_factory=list)
    final: list = field(default_factory=list)
    done: bool = False


def reading(seconds: float) -> np.ndarray:
    from transcription import audio

    clips = sorted((Path(__file__).resolve().parent.parent / "tests/fixtures/audio").glob("sense*.wav"))
    gap = np.zeros(RATE // 2, dtype=np.float32)
    one = np.concatenate([np.concatenate([audio.decode(c, max_seconds=60), gap]) for c in clips])
    return np.tile(one, int(np.ceil(seconds * RATE / one.size)))[: int(seconds * RATE)]


def note(speaker: Speaker, update, now: float) -> None:
    from transcription.engine.live import key

    for word in update.partial + update.committed:
        speaker.shown.setdefault((key(word.word), round(word.start * 2)), now)
    for word in update.committed:
        spoken = speaker.starts_at + word.end
        seen = speaker.shown.get((key(word.word), round(word.start * 2)), now)
        speaker.first.append(max(0.0, seen - spoken))
        speaker.final.append(max(0.0, now - spoken))


def serve(model, count: int, seconds: float, batched: bool) -> tuple[list[float], list[float], float]:
    from transcription.engine.live import LiveSession, decode_many

    speech = reading(seconds)
    begin = time.monotonic() + 0.5
    speakers = [Speaker(LiveSession(model), speech, begin + i * 0.37) for i in range(count)]
    busy = 0.0
    while not all(s.done for s in speakers):
        now = time.monotonic()
        for s in speakers:  # what each microphone has sent by now (the relay only appends)
            arrived = min(s.audio.size, int(max(0.0, now - s.starts_at) * RATE) // FRAME * FRAME)
            if arrived > s.sent:
                s.session.policy.add(s.audio[s.sent : arrived])
                s.sent = arrived
        waiting = [s for s in speakers if not s.done and (s.session.policy.due() or s.sent == s.audio.size)]
        if not waiting:
            time.sleep(0.01)
            continue
        started = time.monotonic()
        ending = [s for s in waiting if s.sent == s.audio.size]
        for speaker in ending:
            update, speaker.done = speaker.session.finish(), True
            note(speaker, update, time.monotonic())
        talking = [s for s in waiting if not s.done]
        if not batched:  # one at a time: the one with the most new audio
            talking = sorted(talking, key=lambda s: s.session.policy.unheard)[-1:]
        if talking:
            decoded = (
                decode_many(model, [s.session for s in talking]) if batched else [talking[0].session.decode()]
            )
            for speaker, heard in zip(talking, decoded, strict=True):
                note(speaker, speaker.session.policy.accept(heard), time.monotonic())
        busy += time.monotonic() - started
    wall = time.monotonic() - begin
    return [x for s in speakers for x in s.first], [x for s in speakers for x in s.final], busy / wall


def p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--seconds", type=float, default=30, help="audio each session speaks")
    parser.add_argument("--threads", type=int, default=0, help="OMP_NUM_THREADS (0: the default)")
    parser.add_argument("--trim", type=float, default=0, help="BUFFER_TRIM_S (0: live.py's)")
    parser.add_argument("--batched", action="store_true", help="decode every due session in one call")
    args = parser.parse_args()
    from transcription.engine import live

    live.BUFFER_TRIM_S = args.trim or live.BUFFER_TRIM_S
    how = "every due session in one batched call" if args.batched else "one session at a time"
    print(f"BUFFER_TRIM_S={live.BUFFER_TRIM_S}, {args.seconds:.0f} s a session, {how}")
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    from transcription.engine.interface import EngineConfig
    from transcription.engine.whisper_engine import WhisperEngine, bundled_model_dir

    model = WhisperEngine(EngineConfig(kind="faster-whisper", model=bundled_model_dir())).whisper
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| sessions | first appearance p50 / p95 s | final p50 / p95 s | model busy |")
    print("| ---: | --- | --- | ---: |")
    for count in args.sessions:
        first, final, busy = serve(model, count, args.seconds, args.batched)
        shown, kept = f"{p(first, 50):.2f} / {p(first, 95):.2f}", f"{p(final, 50):.2f} / {p(final, 95):.2f}"
        print(f"| {count} | {shown} | {kept} | {100 * busy:.0f} % |", flush=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()

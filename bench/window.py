"""Whisper's window cut to the audio (transcription/engine/whisper_window.py) against Whisper's own
30 s, side by side in one run: the offline engine's time and error rate on short recordings.

Each recording goes through the engine as a job's does (`transcribe_many`, one recording a call),
with the window cut (the engine as it is) and with it held at 30 s, alternating recording by
recording so that the machine's load falls on both alike:
  - English, Whisper tiny.en: the five LibriVox clips of tests/fixtures/audio, whole (6-15 s), and
    cut into pieces of 3, 5 and 7 s (the short requests of bench/peer.py), WER against the text;
  - Mandarin, Whisper base (multilingual): the fixtures' Mandarin sentences, CER.

    .venv/bin/python bench/window.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RATE = 16_000


@contextmanager
def whole_window():
    """The engine's own decodings held at Whisper's 30 s window."""
    from transcription.engine import whisper_engine

    cut = whisper_engine.encoder_window

    @contextmanager
    def thirty(seconds: float):
        with cut(30.0) as frames:
            yield frames

    whisper_engine.encoder_window = thirty
    try:
        yield
    finally:
        whisper_engine.encoder_window = cut


def english() -> list[tuple[str, object, str]]:
    from tests.conftest import english_clips
    from transcription import audio

    items = []
    for path, said in english_clips().items():
        samples = audio.decode(path, max_seconds=60)
        items.append((Path(path).stem[-4:], samples, said))
        for seconds in (3, 5, 7):  # the clip's first seconds: the reference is not exact, so time only
            items.append((f"{Path(path).stem[-4:]}[:{seconds}s]", samples[: seconds * RATE], ""))
    return items


def mandarin() -> list[tuple[str, object, str]]:
    from tests.conftest import AUDIO
    from transcription import audio

    items = []
    for tsv in ("zh_tts_transcripts.tsv", "zh_audioeval_transcripts.tsv"):
        for line in (AUDIO / tsv).read_text("utf-8").strip().splitlines():
            name, said = line.split("\t")
            items.append((name, audio.decode(AUDIO / f"{name}.wav", max_seconds=60), said))
    return items


def measure(engine, items, rounds: int, score) -> dict[str, dict]:
    from tests.engine_calls import transcribe_one

    sides = {"cut": {"seconds": 0.0, "pairs": []}, "30 s": {"seconds": 0.0, "pairs": []}}
    for round_ in range(rounds):
        for _, samples, said in items:
            order = ["cut", "30 s"] if round_ % 2 == 0 else ["30 s", "cut"]
            for side in order:
                began = time.perf_counter()
                if side == "cut":
                    text = transcribe_one(engine, samples).text
                else:
                    with whole_window():
                        text = transcribe_one(engine, samples).text
                sides[side]["seconds"] += time.perf_counter() - began
                if said and round_ == 0:
                    sides[side]["pairs"].append((said, text))
    for side in sides.values():
        side["error"] = score(side["pairs"])
    return sides


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from transcription import profiles
    from transcription.engine import EngineConfig, get_engine
    from transcription.engine.whisper_engine import bundled_model_dir
    from transcription.evaluation import character_error_rate, word_error_rate
    from transcription.simplified import to_simplified

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| model | audio | window | seconds | error rate |")
    print("| --- | --- | --- | ---: | ---: |")
    base = profiles.model_dir("whisper-base")
    runs = [
        ("Whisper tiny.en", EngineConfig(kind="faster-whisper", model=bundled_model_dir()), english(),
         lambda pairs: ("WER", word_error_rate(pairs))),
        ("Whisper base", EngineConfig(kind="faster-whisper", model=base, language="zh"), mandarin(),
         lambda pairs: ("CER", character_error_rate([(r, to_simplified(h)) for r, h in pairs]))),
    ]  # fmt: skip
    for model, config, items, score in runs:
        engine = get_engine(config)
        seconds = sum(samples.size for _, samples, _ in items) / RATE
        for side, result in measure(engine, items, args.rounds, score).items():
            kind, error = result["error"]
            print(
                f"| {model} | {len(items)} recordings, {seconds:.1f} s, x{args.rounds} | {side} | "
                f"{result['seconds']:.2f} | {kind} {100 * error:.2f} % |",
                flush=True,
            )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()

"""Speaker diarization (transcription/diarize.py), measured by hand, never as a timed test:

  der   the diarization error rate on pyannote-audio's sample: a real 30 s two-person phone call
        with its reference RTTM (a harder case than the tests' read speech), computed with
        pyannote-metrics. Speech regions come from the recogniser's segments, as in the worker
        (and, for comparison, from the reference: "oracle speech").
  cost  what diarization adds to a job: the recogniser on a conversation of real voices (the
        tests' LibriVox and CMU speakers, looped to --seconds), then diarization of its segments,
        side by side in pairs; the ratio is (recognition + diarization) / recognition.

Setup (bench-only packages, not in requirements):

    .venv/bin/pip install pyannote.metrics
    .venv/bin/pip download --no-deps pyannote.audio==4.0.7 -d /tmp/pya   # the sample lives in its wheel
    unzip -o /tmp/pya/pyannote_audio-4.0.7-py3-none-any.whl 'pyannote/audio/sample/*' -d /tmp/pya

Run from the repository root:

    .venv/bin/python bench/diarization.py der --sample /tmp/pya/pyannote/audio/sample
    .venv/bin/python bench/diarization.py cost --seconds 600 --pairs 3
    .venv/bin/python bench/diarization.py cost --seconds 600 --pairs 3 --campplus   # CAM++'s cost
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from transcription import diarize, speaker_turns  # noqa: E402
from transcription.engine import EngineConfig, get_engine  # noqa: E402
from transcription.text import join_texts  # noqa: E402

TINY = EngineConfig(kind="faster-whisper", model="")  # Whisper tiny.en, shipped in a wheel


def _annotation(turns):
    from pyannote.core import Annotation, Segment

    annotation = Annotation()
    for start, end, label in turns:
        annotation[Segment(start, end)] = label
    return annotation


def _reference(rttm: Path):
    turns = []
    for line in rttm.read_text().splitlines():
        fields = line.split()
        start, length = float(fields[3]), float(fields[4])
        turns.append((start, start + length, fields[7]))
    return turns


def der(sample: Path) -> None:
    from pyannote.metrics.diarization import DiarizationErrorRate

    samples, rate = sf.read(sample / "sample.wav", dtype="float32")
    assert rate == 16_000
    reference = _reference(sample / "sample.rttm")
    transcript = get_engine(TINY).transcribe_many([samples])[0]
    regions = {
        "recogniser's segments": [(s.start, s.end) for s in transcript.segments],
        "oracle speech": [(s, e) for s, e, _ in reference],
    }
    truth = _annotation(reference)
    for name, speech in regions.items():
        for speakers in (0, 2):
            found = diarize.diarize(samples, speech, speakers=speakers)
            hypothesis = _annotation((t.start, t.end, f"S{t.speaker}") for t in found.turns)
            for collar in (0.0, 0.5):
                rate_ = DiarizationErrorRate(collar=collar)(truth, hypothesis, detailed=True)
                print(
                    f"{name:22} speakers={'auto' if not speakers else speakers:4} found={found.speakers} "
                    f"collar={collar:.2f}s  DER={rate_['diarization error rate']:.3f} "
                    f"(miss {rate_['missed detection'] / rate_['total']:.3f}, "
                    f"false alarm {rate_['false alarm'] / rate_['total']:.3f}, "
                    f"confusion {rate_['confusion'] / rate_['total']:.3f})"
                )


def _campplus_dir() -> str:
    """CAM++ at its published size (192-d, 7 M parameters) with random weights: the real model's
    cost on this CPU, not its accuracy (its weights are on ModelScope, out of reach here)."""
    import tempfile

    from tests.tiny_models import build_tiny_campplus

    return str(build_tiny_campplus(Path(tempfile.mkdtemp()) / "cam++", published_size=True))


def _conversation(seconds: float) -> np.ndarray:
    from tests.conversations import MEETING, conversation

    one = conversation(MEETING, pause=0.6).samples
    return np.tile(one, int(np.ceil(seconds * 16_000 / one.size)))[: int(seconds * 16_000)]


def cost(seconds: float, pairs: int, campplus: bool) -> None:
    samples = _conversation(seconds)
    engine = get_engine(TINY)
    embedder = diarize.get_embedder(_campplus_dir() if campplus else "")
    engine.transcribe_many([samples[: 16_000 * 5]])  # warm both
    plain, with_speakers, alone = [], [], []
    for _ in range(pairs):
        started = time.perf_counter()
        engine.transcribe_many([samples])
        plain.append(time.perf_counter() - started)
        started = time.perf_counter()
        transcript = engine.transcribe_many([samples])[0]
        recognised = time.perf_counter()
        found = diarize.diarize(samples, [(s.start, s.end) for s in transcript.segments], embedder=embedder)
        speaker_turns.assign(transcript, found, join=join_texts)
        done = time.perf_counter()
        with_speakers.append(done - started)
        alone.append(done - recognised)
        print(
            f"pair: without {plain[-1]:.2f} s, with {with_speakers[-1]:.2f} s "
            f"(diarization {alone[-1]:.2f} s, {found.speakers} speakers)"
        )
    without, with_, diarizing = (statistics.median(x) for x in (plain, with_speakers, alone))
    print(
        f"{seconds:.0f} s of audio, {pairs} pairs: without {without:.2f} s, with {with_:.2f} s (median); "
        f"with / without = {with_ / without:.3f}; diarization alone {diarizing:.2f} s "
        f"= {seconds / diarizing:.0f}x real time"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("der").add_argument("--sample", type=Path, required=True)
    costs = sub.add_parser("cost")
    costs.add_argument("--seconds", type=float, default=600)
    costs.add_argument("--pairs", type=int, default=3)
    costs.add_argument("--campplus", action="store_true", help="CAM++ at its published size, random weights")
    args = parser.parse_args()
    import django

    django.setup()
    if args.command == "der":
        der(args.sample)
    else:
        cost(args.seconds, args.pairs, args.campplus)


if __name__ == "__main__":
    main()

"""What decoding in a sandboxed child process costs, against decoding in the calling process.

1. Start methods: how long a child takes to start, import numpy and PyAV, and exit, for
   `subprocess` running `python -I -c` (what transcription/media_sandbox.py does), multiprocessing's
   'spawn', and multiprocessing's 'forkserver' (numpy and av preloaded in the server; its first
   child, which starts the server, is timed apart).
2. Decoding a `--minutes` (default 10) 16 kHz mono WAV made from the LibriVox test speech:
   `audio.decode` in this process against `media_sandbox.decode_isolated`, alternating, `--repeats`
   times each (after one untimed run of each). The report gives every run, the medians, their
   ratio, and the overhead in seconds and as a share of a job of `--job-seconds` (default 40: a
   10-minute recording with Whisper tiny.en on a 2-core CPU machine).
3. The same isolated decode from a parent holding `--parent-mb` (default 2048) MiB of touched
   memory, as a worker with a model does: the child is started without copying the parent.
4. Probing the header (what the upload does for each file): `audio.probe_duration` against
   `media_sandbox.probe_isolated`, alternating, `--repeats` times each.

Run it by hand from the repository root (it is not a test; no Redis, no database):

    .venv/bin/python bench/decode_isolation.py [--minutes 10] [--repeats 7] [--parent-mb 2048]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from transcription import audio, media_sandbox  # noqa: E402

CLIP = ROOT / "tests" / "fixtures" / "audio" / "sense_and_sensibility_01_austen_64kb-0880.wav"


def build_wav(path: Path, minutes: float) -> None:
    with wave.open(str(CLIP)) as clip:
        speech = clip.readframes(clip.getnframes())
        rate, width = clip.getframerate(), clip.getsampwidth()
    frames = int(minutes * 60 * rate) * width
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes((speech * (frames // len(speech) + 1))[:frames])


def _imports() -> None:
    import av  # noqa: F401
    import numpy  # noqa: F401


def time_start_methods(repeats: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    boot = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import numpy, av"
    results["subprocess python -I -c"] = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run([media_sandbox.PYTHON, "-I", "-c", boot], check=True)
        results["subprocess python -I -c"].append(time.perf_counter() - started)
    for method in ("spawn", "forkserver"):
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload(["numpy", "av"])
            started = time.perf_counter()
            child = context.Process(target=_imports)
            child.start()
            child.join()
            results["forkserver: first child (starts the server)"] = [time.perf_counter() - started]
        results[f"multiprocessing {method}"] = []
        for _ in range(repeats):
            started = time.perf_counter()
            child = context.Process(target=_imports)
            child.start()
            child.join()
            results[f"multiprocessing {method}"].append(time.perf_counter() - started)
    return results


def time_decodes(path: Path, repeats: int, seconds: float) -> tuple[list[float], list[float], list]:
    audio.decode(path, max_seconds=seconds + 60)  # untimed: page cache, imports
    media_sandbox.decode_isolated(path, max_seconds=seconds + 60)
    bare, isolated, children = [], [], []
    for _ in range(repeats):
        started = time.perf_counter()
        samples = audio.decode(path, max_seconds=seconds + 60)
        bare.append(time.perf_counter() - started)
        del samples
        stats = media_sandbox.IsolationStats()
        started = time.perf_counter()
        samples = media_sandbox.decode_isolated(path, max_seconds=seconds + 60, stats=stats)
        isolated.append(time.perf_counter() - started)
        children.append(stats)
        del samples
    return bare, isolated, children


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--job-seconds", type=float, default=40)
    parser.add_argument("--parent-mb", type=int, default=2048)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {sys.platform}")

    print("\n1. starting a child that imports numpy and PyAV, then exits (seconds):")
    for name, times in time_start_methods(args.repeats).items():
        print(f"  {name:<46} median {statistics.median(times):.3f}  ({', '.join(f'{t:.3f}' for t in times)})")

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "speech.wav"
        build_wav(path, args.minutes)
        seconds = args.minutes * 60
        print(
            f"\n2. decoding {seconds:.0f} s of 16 kHz mono WAV ({path.stat().st_size / 2**20:.1f} MiB), "
            f"{args.repeats} runs each:"
        )
        bare, isolated, children = time_decodes(path, args.repeats, seconds)
        report(bare, isolated, children, args.job_seconds)

        print(f"\n3. the same from a parent holding {args.parent_mb} MiB of touched memory:")
        ballast = np.ones(args.parent_mb * 2**20 // 8)  # touched: resident, as a loaded model is
        bare, isolated, children = time_decodes(path, args.repeats, seconds)
        report(bare, isolated, children, args.job_seconds)
        del ballast

        print(f"\n4. probing the header of the same file, {args.repeats} runs each:")
        bare, isolated = [], []
        for _ in range(args.repeats):
            started = time.perf_counter()
            audio.probe_duration(path)
            bare.append(time.perf_counter() - started)
            started = time.perf_counter()
            media_sandbox.probe_isolated(path)
            isolated.append(time.perf_counter() - started)
        b, s = statistics.median(bare), statistics.median(isolated)
        print(
            f"  median: in-process {b * 1000:.1f} ms, isolated {s * 1000:.0f} ms "
            f"({', '.join(f'{t:.3f}' for t in isolated)})"
        )


def report(bare: list[float], isolated: list[float], children: list, job_seconds: float) -> None:
    for i, (b, s, child) in enumerate(zip(bare, isolated, children, strict=True), 1):
        print(
            f"  run {i}: in-process {b:.3f} s, isolated {s:.3f} s (child CPU {child.cpu_seconds:.2f} s, "
            f"resident peak {child.max_rss_bytes / 2**20:.0f} MiB)"
        )
    b, s = statistics.median(bare), statistics.median(isolated)
    print(
        f"  median: in-process {b:.3f} s, isolated {s:.3f} s, ratio {s / b:.2f}, overhead {s - b:+.3f} s "
        f"= {(s - b) / job_seconds:.1%} of a {job_seconds:.0f} s job"
    )


if __name__ == "__main__":
    main()

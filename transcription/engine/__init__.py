"""The speech engine: audio in, segments with timestamps out.

Knows nothing of Django. The interface is in interface.py (re-exported here); torch, funasr and
faster-whisper are imported lazily by the concrete engines, and `get_engine` keeps one loaded
engine resident per process so a worker pays the model load once, not once per job.
"""

from __future__ import annotations

import gc
import importlib
import threading

from transcription.engine.interface import (
    SAMPLE_RATE,
    SEGMENT_METADATA_KEYS,
    TRANSCRIBE,
    Engine,
    EngineConfig,
    EngineError,
    EngineOutOfMemory,
    JobCancelled,
    ModelMissing,
    ProgressCallback,
    Recognition,
    Segment,
    Transcript,
    Word,
)

__all__ = [
    "SAMPLE_RATE",
    "SEGMENT_METADATA_KEYS",
    "Engine",
    "EngineConfig",
    "EngineError",
    "EngineOutOfMemory",
    "JobCancelled",
    "ModelMissing",
    "ProgressCallback",
    "Recognition",
    "TRANSCRIBE",
    "Segment",
    "Transcript",
    "Word",
    "get_engine",
    "release_memory",
    "resident_config",
    "unload",
]

_lock = threading.Lock()
_resident: Engine | None = None
load_count = 0  # how many models this process has loaded; tests assert on it
_LIBRARIES = {"funasr": "funasr", "faster-whisper": "faster_whisper"}  # what each engine imports
_process_prepared = False
# glibc's mallopt parameters, and the values a worker keeps (see _tune_malloc).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD, TRIM_THRESHOLD = 64 * 2**20, 256 * 2**20


def _load(config: EngineConfig) -> Engine:
    if config.kind == "funasr":
        from transcription.engine.funasr_engine import FunasrEngine

        return FunasrEngine(config)
    if config.kind == "faster-whisper":
        from transcription.engine.whisper_engine import WhisperEngine

        return WhisperEngine(config)
    raise EngineError(f"Unknown engine {config.kind!r}: use 'funasr' or 'faster-whisper'.")


def get_engine(config: EngineConfig) -> Engine:
    """The engine for `config`, loading it only if the resident one holds other weights."""
    global _resident, load_count
    with _lock:
        if _resident is None or _resident.config.load_key() != config.load_key():
            _resident = None  # drop the old model before loading the next one
            _prepare_process(config.kind)
            _resident = _load(config)
            load_count += 1
        _resident.config = config
        return _resident


def _prepare_process(kind: str) -> None:
    """Once per process, before its first model: settle how the process uses memory."""
    global _process_prepared
    if _process_prepared:
        return
    _process_prepared = True
    _tune_malloc()
    _freeze_imports(kind)


def _tune_malloc() -> None:
    """Fix glibc's thresholds: blocks under 64 MiB come from the heap and freed heap stays until
    the job ends, when release_memory hands it all back (malloc_trim). By default glibc moves its
    thresholds as blocks are freed: audio-sized buffers went from mmap to the heap at random jobs,
    and a worker's memory rose in steps that never came back (+13 % from job 10 to job 100).
    Fixing the mmap threshold low (128 KiB) made memory flat, but then every buffer of the
    recogniser's (a Whisper encoder's attention: 54 MB a window) was mmapped and its pages zeroed
    again at each call: the encoder ran 25 % slower than in a plain process. Fixed high and
    trimmed after each job, memory stays flat and recognition is faster than glibc's default
    (bench/residency.py, bench/peer.py). An operator's MALLOC_*_THRESHOLD_ wins; not glibc: nothing."""
    import ctypes
    import ctypes.util
    import os

    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    except (OSError, AttributeError):
        pass


def _freeze_imports(kind: str) -> None:
    """Import the engine's library, then move every object alive (the libraries, torch, Django:
    ~430,000 objects in a worker) out of the garbage collector's reach for good. They live as
    long as the process anyway, and each full collection walked them all: ~200 ms for
    `release_memory` after every job, and as much again whenever Python collected during
    recognition. Models are loaded after the freeze, so a model that is dropped later is still
    collected."""
    if kind not in _LIBRARIES:
        return
    try:
        importlib.import_module(_LIBRARIES[kind])
    except ImportError:
        return  # loading the model says what is missing
    gc.collect()  # what is already garbage goes now, not frozen with the rest
    gc.freeze()


def resident_config() -> EngineConfig | None:
    """The configuration of the model this process holds, if any."""
    engine = _resident
    return engine.config if engine is not None else None


def unload() -> None:
    """Drop the resident model; its memory goes once no running job holds it."""
    global _resident
    with _lock:
        _resident = None
    release_memory()


def release_memory() -> None:
    """Give cached memory back: Python's garbage, the C heap's free pages, and PyTorch's CUDA
    cache if torch is in use. FunASR has open reports of GPU memory growing across jobs without
    this."""
    import sys

    gc.collect()
    _trim_c_heap()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


def _trim_c_heap() -> None:
    """Hand the C heap's free pages back to the system (glibc's malloc_trim). glibc keeps what
    native code freed for reuse, so a resident worker held tens of MB it no longer used
    (bench/residency.py, docs/benchmarks.md). A few ms a job; nothing to do where the C library
    is not glibc."""
    import ctypes
    import ctypes.util

    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # no glibc (musl, macOS): its allocator, its policy
        pass

"""Decode and probe uploads in a short-lived child process, so that no file can take down the
long-lived worker or the web process. Django-free, like transcription/audio.py.

    samples = decode_isolated(path, max_seconds=..., max_decoded_bytes=...)  # or AudioDecodeError
    seconds = probe_isolated(path)                                            # or None

Each call gets a fresh Python (`sys.executable -I -c ...`: no fork of the calling process, which
may hold a model or a CUDA context; the child imports numpy and PyAV, never Django or torch),
started ahead of time as the caller's spare so that short uploads do not wait for it to start
(`_Spare`), that reads its one request on stdin and runs transcription/audio.py's own decoding
under resource limits it sets on itself before it opens the file:

- RLIMIT_AS (address space): `memory_bytes`, by default CHILD_BASE_BYTES (the interpreter, numpy
  and FFmpeg's libraries, about 200 MB of address space) plus DECODER_HEADROOM_BYTES. The samples
  are not held in the child (they go to a file as they are decoded), so the decoded-size limit
  does not need to fit in it;
- RLIMIT_FSIZE: the output file may not pass `max_decoded_bytes` (plus a little);
- RLIMIT_CPU: `cpu_seconds` (SIGXCPU, then SIGKILL two seconds later);
- RLIMIT_CORE 0 (no core dumps), RLIMIT_NPROC 0 (no thread or process: the decoder runs on one
  thread), RLIMIT_NOFILE 64;

and the parent kills it after `wall_seconds`. FFmpeg reads only the upload (audio._opened: no
protocol, no other file, and the format allow-list on every open, probes included).

The child writes the 16 kHz mono float32 samples as it decodes them into a temporary file that the
parent created and unlinked at once (the child inherits its descriptor, so nothing is left behind
whatever happens); the parent then reads them into one array: the samples are written once and
read once, never gathered twice. Every failure is an AudioDecodeError whose message the user can
read: the child's own (too long, not an accepted format, empty, no audio track...) unchanged, or
one of DECODER_CRASHED, DECODE_TIMED_OUT, DECODE_OUT_OF_MEMORY, DECODER_UNAVAILABLE.

Test-only: when the environment variable PORTAL_TEST_DECODE_CRASH_MARKER is set and its value is
part of the file's name, the child kills itself with SIGSEGV before opening the file, so that
tests can prove a real crash is contained. Never set it in production.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from transcription import audio
from transcription.audio import AudioDecodeError, gettext_noop
from transcription.media_child import CRASH_MARKER_ENV  # noqa: F401 - test-only, named here for the tests

if TYPE_CHECKING:
    import numpy as np  # imported where used: the probe's child process never loads numpy

logger = logging.getLogger(__name__)

DECODER_CRASHED = gettext_noop("This file could not be read: the decoder failed on it. It may be damaged.")
DECODE_TIMED_OUT = gettext_noop(
    "This file could not be read: decoding it took longer than allowed. It may be damaged."
)
DECODE_OUT_OF_MEMORY = gettext_noop(
    "This file could not be read: decoding it needed more memory than allowed. It may be damaged."
)
DECODER_UNAVAILABLE = gettext_noop(
    "This file could not be read just now because of a problem on the server. Please try again later."
)


MIB = 2**20
CHILD_BASE_BYTES = 256 * MIB  # measured: python + numpy + PyAV/FFmpeg take about 200 MB of address space
DECODER_HEADROOM_BYTES = 768 * MIB  # demuxer indexes, decoder buffers, per-frame arrays
PROBE_CPU_SECONDS = 10
PROBE_WALL_SECONDS = 20.0
OUTPUT_SLACK_BYTES = MIB

# The child's interpreter: the one running this module (a virtualenv's python). Deployments that
# embed Python (sys.executable is then not a python) set it to the virtualenv's bin/python.
PYTHON = sys.executable
_ROOT = str(Path(__file__).resolve().parent.parent)
_BOOT = f"import sys; sys.path.insert(0, {_ROOT!r}); from transcription.media_child import main; main()"


def default_cpu_seconds(max_seconds: float) -> int:
    """CPU time for decoding up to `max_seconds` of audio: 30 s, plus 1 s per 20 s of audio
    (4 h: 750 s). Decoding compressed audio here runs at 100-1000x real time."""
    return int(30 + max_seconds / 20)


def default_wall_seconds(cpu_seconds: float) -> float:
    """Wall-clock time for a child allowed `cpu_seconds`: twice that, plus 10 s, for a busy machine."""
    return 2 * cpu_seconds + 10


@dataclass
class IsolationStats:
    """What one child cost, filled in by decode_isolated/probe_isolated when given one."""

    exit: str = ""  # "ok", "signal N (SIGSEGV)", "exit N", "killed after the wall-clock limit"
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    max_rss_bytes: int | None = None  # the child's peak resident memory (VmHWM), if it could say
    peak_address_space_bytes: int | None = None  # its peak address space (VmPeak), under RLIMIT_AS
    memory_limit_bytes: int = 0  # RLIMIT_AS


@dataclass(frozen=True)
class _Limits:
    memory_bytes: int
    cpu_seconds: int
    output_bytes: int
    wall_seconds: float


def decode_isolated(
    path: str | Path,
    *,
    max_seconds: float,
    max_decoded_bytes: int = audio.DEFAULT_MAX_DECODED_BYTES,
    cpu_seconds: int | None = None,
    wall_seconds: float | None = None,
    memory_bytes: int | None = None,
    scratch_dir: str | Path | None = None,
    stats: IsolationStats | None = None,
    channel: int | None = None,
) -> np.ndarray:
    """audio.decode(path, ...) in a child process under resource limits: 16 kHz mono float32
    samples (of one `channel` only, when given), or AudioDecodeError with a message for the user.
    Raises FileNotFoundError (as audio.decode does) if `path` does not exist. The samples'
    temporary file goes in `scratch_dir` (default: tempfile.gettempdir(), i.e. TMPDIR) and is gone
    when this returns."""
    import numpy as np

    Path(path).stat()  # a missing file is the caller's problem, not the upload's
    limit = audio.SampleLimit.of(max_seconds=max_seconds, max_decoded_bytes=max_decoded_bytes)
    cpu = int(cpu_seconds or default_cpu_seconds(max_seconds))
    limits = _Limits(
        memory_bytes=memory_bytes or CHILD_BASE_BYTES + DECODER_HEADROOM_BYTES,
        cpu_seconds=cpu,
        output_bytes=limit.samples * audio.BYTES_PER_SAMPLE + OUTPUT_SLACK_BYTES,
        wall_seconds=wall_seconds or default_wall_seconds(cpu),
    )
    request = {"op": "decode", "path": str(path), "max_seconds": max_seconds}
    request["max_decoded_bytes"] = max_decoded_bytes
    request["channel"] = channel
    child, fd = _child(scratch_dir)
    with open(fd, "rb") as output:
        result = _run(child, request, limits, output_fd=fd, stats=stats)
        count = result.get("samples")
        if not isinstance(count, int) or not 0 < count <= limit.samples:
            logger.error("decoder child sent an unusable result: %r", result)
            raise AudioDecodeError(DECODER_UNAVAILABLE)
        output.seek(0)
        samples = np.fromfile(output, dtype=np.float32, count=count)
    if samples.size != count:
        logger.error("decoder child reported %d samples but wrote %d", count, samples.size)
        raise AudioDecodeError(DECODER_UNAVAILABLE)
    return samples


def probe_isolated(
    path: str | Path, *, wall_seconds: float = PROBE_WALL_SECONDS, stats: IsolationStats | None = None
) -> float | None:
    """audio.probe_duration(path) in a child process under resource limits: the duration the
    file's header claims, or None when there is none, the format is not accepted, or the child
    failed in any way (the worker's decode then says why)."""
    limits = _Limits(
        memory_bytes=CHILD_BASE_BYTES + DECODER_HEADROOM_BYTES,
        cpu_seconds=PROBE_CPU_SECONDS,
        output_bytes=0,
        wall_seconds=wall_seconds,
    )
    try:
        child, fd = _child(None)
        os.close(fd)  # a probe writes no samples
        result = _run(child, {"op": "probe", "path": str(path)}, limits, output_fd=None, stats=stats)
    except AudioDecodeError as exc:
        logger.info("probe of %s: %s", Path(path).name, exc)
        return None
    duration = result.get("duration")
    return float(duration) if isinstance(duration, int | float) and duration >= 0 else None


class _Child(subprocess.Popen):
    """A Popen that keeps the child's resource usage (wait4) when it is reaped."""

    rusage: resource.struct_rusage | None = None

    def _try_wait(self, wait_flags):  # subprocess.Popen's hook around waitpid
        try:
            pid, status, rusage = os.wait4(self.pid, wait_flags)
        except ChildProcessError:  # SIGCHLD ignored: the status is lost, as in Popen's own
            return self.pid, 0
        if pid == self.pid:
            self.rusage = rusage
        return pid, status


class _Spare:
    """A child started before it is needed, and its output file. Starting Python with numpy and
    PyAV takes 0.2-0.3 s, which every upload paid twice (probe, decode) before a short request was
    answered. Still a fresh process per file: it waits for one request on stdin (EOF: exit)."""

    def __init__(self, scratch_dir: str | Path | None) -> None:
        self.directory = str(Path(scratch_dir or tempfile.gettempdir()).resolve())
        self.env = _child_env()
        self.python, self.owner = PYTHON, os.getpid()
        self.output, name = tempfile.mkstemp(prefix="portal-samples-", suffix=".f32", dir=self.directory)
        os.unlink(name)  # the descriptors keep it; nothing to clean up, whatever happens next
        try:
            self.child = _Child(
                [self.python, "-I", "-c", _BOOT],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(self.output,),
                env=self.env,
                start_new_session=True,  # its own process group: killed as one, spared the terminal's ^C
            )
        except OSError:
            os.close(self.output)
            logger.exception("could not start the decoder child")
            raise AudioDecodeError(DECODER_UNAVAILABLE) from None

    def fits(self, scratch_dir: str | Path | None) -> bool:
        """Alive, and what this call would start: same process, interpreter, environment (the
        tests' crash marker), scratch directory."""
        directory = str(Path(scratch_dir or tempfile.gettempdir()).resolve())
        same = (self.owner, self.python, self.directory) == (os.getpid(), PYTHON, directory)
        return same and _child_env() == self.env and self.child.poll() is None

    def discard(self) -> None:
        if self.owner == os.getpid():  # a forked copy's spare is its parent's
            _kill(self.child)
            self.child.communicate()  # reaped, its pipes closed
        os.close(self.output)


def _child_env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


_spare_lock = threading.Lock()
_spare: _Spare | None = None


def _child(scratch_dir: str | Path | None) -> tuple[_Child, int]:
    """A child waiting for its request, and its output file: the spare when it fits, else a new
    one; either way the next spare starts now, importing while this one works."""
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
        if spare is not None and not spare.fits(scratch_dir):
            spare.discard()
            spare = None
        taken = spare or _Spare(scratch_dir)
        try:
            _spare = _Spare(None)
        except AudioDecodeError:
            _spare = None  # logged; the next call tries again
    return taken.child, taken.output


atexit.register(lambda: _spare and _spare.discard())  # reaped, not left to the interpreter's end


def _run(
    child: _Child, request: dict, limits: _Limits, *, output_fd: int | None, stats: IsolationStats | None
) -> dict:
    """Run one request in a waiting child; its result, or AudioDecodeError with the user's message."""
    line = json.dumps({**request, "limits": limits.__dict__, "output_fd": output_fd}).encode() + b"\n"
    started = time.monotonic()
    timed_out = False
    try:
        out, err = child.communicate(line, timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill(child)
        out, err = child.communicate()
    except BaseException:  # interrupted (a job timeout, ^C): never leave the child running
        _kill(child)
        child.wait()
        raise
    usage = child.rusage  # its ru_maxrss is no use: Linux counts the parent's pages before exec
    cpu = usage.ru_utime + usage.ru_stime if usage else 0.0
    exit_ = _describe(child.returncode, timed_out)
    result = _parse(out) if child.returncode == 0 else None
    if stats is not None:
        stats.exit, stats.wall_seconds, stats.cpu_seconds = exit_, time.monotonic() - started, cpu
        stats.memory_limit_bytes = limits.memory_bytes
        if result:
            stats.max_rss_bytes, stats.peak_address_space_bytes = result.get("rss"), result.get("vm")
    name = Path(request["path"]).name
    if timed_out:
        logger.warning("decoder child on %s: killed after %.0f s", name, limits.wall_seconds)
        raise AudioDecodeError(DECODE_TIMED_OUT)
    if child.returncode < 0:
        sig = -child.returncode
        logger.warning("decoder child on %s: %s after %.1f s CPU; %s", name, exit_, cpu, _tail(err))
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu >= limits.cpu_seconds - 0.5):
            raise AudioDecodeError(DECODE_TIMED_OUT)
        if sig == signal.SIGKILL:  # not ours, not the CPU limit: the kernel's out-of-memory killer
            raise AudioDecodeError(DECODE_OUT_OF_MEMORY)
        raise AudioDecodeError(DECODER_CRASHED)
    if result is None:
        logger.error("decoder child on %s: %s, no result; %s", name, exit_, _tail(err))
        raise AudioDecodeError(DECODER_UNAVAILABLE)
    if "refused" in result:
        raise AudioDecodeError(str(result["refused"]))
    failed = result.get("failed")
    if failed:
        logger.warning("decoder child on %s: %s; %s", name, failed, result.get("detail") or _tail(err))
        message = {"memory": DECODE_OUT_OF_MEMORY, "server": DECODER_UNAVAILABLE}
        raise AudioDecodeError(message.get(failed, DECODER_CRASHED))
    return result


def _parse(out: bytes) -> dict | None:
    try:
        result = json.loads(out)
    except ValueError:
        return None
    return result if isinstance(result, dict) else None


def _kill(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _describe(returncode: int, timed_out: bool) -> str:
    if timed_out:
        return "killed after the wall-clock limit"
    if returncode < 0:
        try:
            return f"signal {-returncode} ({signal.Signals(-returncode).name})"
        except ValueError:
            return f"signal {-returncode}"
    return "ok" if returncode == 0 else f"exit {returncode}"


def _tail(err: bytes) -> str:
    return err[-2000:].decode("utf-8", "replace").strip() or "(nothing on stderr)"

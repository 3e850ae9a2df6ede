"""The child process of media_sandbox.py: one request read from stdin once numpy and PyAV are
imported (decode or probe a file), resource limits set on itself before it opens the file, the
samples written to the file descriptor it inherited, one JSON result on stdout. Django-free;
imports numpy and PyAV only."""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from transcription import audio
from transcription.audio import AudioDecodeError

if TYPE_CHECKING:
    import numpy as np

MIB = 2**20
CRASH_MARKER_ENV = "PORTAL_TEST_DECODE_CRASH_MARKER"  # test-only, see media_sandbox's docstring


class _OutputFailed(Exception):
    """The samples could not be written (scratch disk full, say): the server's fault, not the file's."""


class _FileSink:
    """Decoded samples, clipped to [-1, 1] and written to the output file as they come; never
    more than the sample limit (the same check as audio._SampleBuffer's)."""

    def __init__(self, fd: int, limit: audio.SampleLimit) -> None:
        import numpy as np

        self.limit, self.size = limit, 0
        self.file = open(fd, "wb", buffering=MIB, closefd=False)  # noqa: SIM115 - closed in finish()
        self._clipped = np.empty(0, dtype=np.float32)

    def append(self, chunk: np.ndarray) -> None:
        end = self.size + chunk.size
        if end > self.limit.samples:
            raise AudioDecodeError(self.limit.message)  # stop here: the rest is never decoded
        if self._clipped.size < chunk.size:
            self._clipped = _np().empty(chunk.size, dtype="f4")
        clipped = chunk.clip(-1.0, 1.0, out=self._clipped[: chunk.size])
        try:
            self.file.write(clipped.data)
        except OSError as exc:
            raise _OutputFailed(exc) from exc
        self.size = end

    def finish(self) -> None:
        try:
            self.file.close()
        except OSError as exc:
            raise _OutputFailed(exc) from exc


def _np():
    import numpy

    return numpy


def _limit_resources(limits: dict) -> None:
    def cap(which: int, value: int, hard: int | None = None) -> None:
        _, current_hard = resource.getrlimit(which)
        hard = value if hard is None else hard
        if current_hard != resource.RLIM_INFINITY:
            value, hard = min(value, current_hard), min(hard, current_hard)
        resource.setrlimit(which, (value, hard))

    cap(resource.RLIMIT_AS, limits["memory_bytes"])
    cap(resource.RLIMIT_CPU, limits["cpu_seconds"], limits["cpu_seconds"] + 2)
    cap(resource.RLIMIT_FSIZE, limits["output_bytes"])
    cap(resource.RLIMIT_CORE, 0)
    cap(resource.RLIMIT_NPROC, 0)
    cap(resource.RLIMIT_NOFILE, 64)


def _peak_memory() -> dict:
    """This process's peak resident memory and address space, from /proc (Linux), in bytes."""
    try:
        with open("/proc/self/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
        return {"rss": int(fields["VmHWM"].split()[0]) * 1024, "vm": int(fields["VmPeak"].split()[0]) * 1024}
    except (OSError, KeyError, ValueError):
        return {}


def main() -> None:
    """The child's main: one request from stdin, one JSON result on stdout, then exit. Started
    before it is needed (media_sandbox._Spare): it imports, then waits; end of file means its
    parent is gone, or had no use for it."""
    import av  # noqa: F401 - loaded before the limits: FFmpeg's and numpy's libraries are not the
    import numpy  # noqa: F401 - upload's cost, and a failed import under the limit reads as a crash

    line = sys.stdin.readline()
    if not line:
        os._exit(0)
    request = json.loads(line)

    reserve = bytearray(2 * MIB)  # given back before the result is written, should memory run out
    _limit_resources(request["limits"])
    path = request["path"]
    marker = os.environ.get(CRASH_MARKER_ENV)
    if marker and marker in Path(path).name:  # test-only: a real native crash, see the docstring
        os.kill(os.getpid(), signal.SIGSEGV)
    try:
        if request["op"] == "probe":
            result = {"duration": audio.probe_duration(path)}
        else:
            limit = audio.SampleLimit.of(
                max_seconds=request["max_seconds"], max_decoded_bytes=request["max_decoded_bytes"]
            )
            sink = _FileSink(request["output_fd"], limit)
            audio.decode_into(path, sink, channel=request.get("channel"))
            sink.finish()
            result = {"samples": sink.size}
    except AudioDecodeError as exc:
        result = {"refused": str(exc)}
    except MemoryError:
        result = {"failed": "memory"}
    except _OutputFailed as exc:
        result = {"failed": "server", "detail": f"writing the samples: {exc}"}
    except Exception as exc:  # noqa: BLE001 - a decoder error nobody foresaw: reported, not raised
        failed = "memory" if audio.out_of_memory(exc) else "crash"
        result = {"failed": failed, "detail": traceback.format_exc(limit=-8)}
    del reserve
    result.update(_peak_memory())
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()
    os._exit(0)  # no interpreter teardown: nothing left to do, and nothing more to go wrong

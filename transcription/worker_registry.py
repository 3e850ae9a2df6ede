"""The live-worker registry: each `asrworker` announces what it is doing to Redis, with a TTL,
so a worker that dies simply disappears from the admins' page. Admins can ask a worker to unload
its model (FunASR's WebUI calls this "free GPU cache")."""

from __future__ import annotations

import logging
import os
import socket
import sys
import time
from dataclasses import asdict, dataclass, field

from redis import Redis

from transcription import engine

logger = logging.getLogger(__name__)

KEY_PREFIX = "portal:worker:"
UNLOAD_SUFFIX = ":unload"
TTL_SECONDS = 60
HEARTBEAT_SECONDS = 10


@dataclass
class WorkerStatus:
    name: str
    queue: str
    device: str
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    started_at: float = field(default_factory=time.time)
    model: str = ""
    current_job: str = ""
    jobs_done: int = 0
    model_loads: int = 0  # models this process has loaded: 1 for a worker that keeps its model resident
    rss_mb: float = 0.0
    gpu_mb: float = 0.0
    last_seen: float = 0.0


def memory_mb() -> tuple[float, float]:
    """(resident set size, CUDA memory allocated by PyTorch) in MB, now."""
    rss = 0.0
    try:
        with open("/proc/self/statm") as statm:
            rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        pass
    torch = sys.modules.get("torch")
    gpu = torch.cuda.memory_allocated() / 1e6 if torch is not None and torch.cuda.is_available() else 0.0
    return rss, gpu


def announce(connection: Redis, status: WorkerStatus, *, ttl: int | None = None) -> None:
    """Write the worker's status (model, job, memory) to Redis, to expire unless renewed."""
    config = engine.resident_config()
    status.model = f"{config.kind}: {os.path.basename(config.model.rstrip('/'))}" if config else ""
    status.model_loads = engine.load_count
    status.rss_mb, status.gpu_mb = memory_mb()
    status.last_seen = time.time()
    key = KEY_PREFIX + status.name
    values = {k: str(v) for k, v in asdict(status).items()}
    connection.pipeline().hset(key, mapping=values).expire(key, ttl or TTL_SECONDS).execute()


def withdraw(connection: Redis, name: str) -> None:
    connection.delete(KEY_PREFIX + name)


def list_all(connection: Redis) -> list[dict]:
    """Every worker that published within its TTL, by host then name."""
    workers = []
    for key in connection.scan_iter(match=KEY_PREFIX + "*"):
        key = key.decode()
        if key.endswith(UNLOAD_SUFFIX):
            continue
        values = {k.decode(): v.decode() for k, v in connection.hgetall(key).items()}
        if values:
            workers.append(values)
    return sorted(workers, key=lambda w: (w["host"], w["name"]))


def request_unload(connection: Redis, name: str) -> bool:
    if not connection.exists(KEY_PREFIX + name):
        return False
    connection.set(KEY_PREFIX + name + UNLOAD_SUFFIX, "1", ex=TTL_SECONDS * 5)
    return True


def take_unload_request(connection: Redis, name: str) -> bool:
    return bool(connection.getdel(KEY_PREFIX + name + UNLOAD_SUFFIX))


def heartbeat(connection: Redis, status: WorkerStatus) -> None:
    """One beat of a worker: drop its model if an admin asked and no job runs (a job in progress
    keeps its model; the request waits for it to end), then announce its status."""
    if not status.current_job and take_unload_request(connection, status.name):
        engine.unload()
    announce(connection, status)

"""Read-only figures for /healthz and /metrics: database, Redis, queues, jobs and workers.

Not user data: these are operational aggregates, so these readers take no `user=`; the views
that serve them decide who may see them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import Count, F, Q, Sum

from portal import queues
from transcription import worker_registry
from transcription.models import EngineProfile, Job

logger = logging.getLogger(__name__)

DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600)
RTF_BUCKETS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)


@dataclass
class Health:
    database: str = "ok"
    redis: str = "ok"
    workers: dict[str, int] = field(default_factory=dict)  # queue -> live workers
    queues_without_worker: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.database == "ok" and self.redis == "ok" and not self.queues_without_worker

    def as_dict(self) -> dict:
        return {
            "status": "ok" if self.healthy else "unhealthy",
            "database": self.database,
            "redis": self.redis,
            "workers": self.workers,
            "queues_without_worker": self.queues_without_worker,
        }


def health() -> Health:
    result = Health()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        needed = set(EngineProfile.objects.values_list("queue", flat=True).distinct())
    except Exception as exc:  # noqa: BLE001 - report, don't crash the health check
        result.database, needed = f"error: {exc.__class__.__name__}", set()
    try:
        live = worker_registry.list_all(queues.connection())
    except Exception as exc:  # noqa: BLE001
        result.redis, live = f"error: {exc.__class__.__name__}", []
    for worker in live:
        result.workers[worker["queue"]] = result.workers.get(worker["queue"], 0) + 1
    if result.redis == "ok":
        result.queues_without_worker = sorted(q for q in needed if q not in result.workers)
    return result


def metrics_text() -> str:
    """The Prometheus text exposition format."""
    lines: list[str] = []
    _jobs_by_status(lines)
    done = Job.objects.filter(status=Job.Status.DONE, processing_seconds__isnull=False)
    _histogram(
        lines, "portal_job_duration_seconds", "Processing time of finished jobs.",
        done, "processing_seconds", DURATION_BUCKETS,
    )  # fmt: skip
    _histogram(
        lines, "portal_job_real_time_factor", "Processing time over audio duration of finished jobs.",
        done.filter(duration__gt=0).annotate(rtf=F("processing_seconds") / F("duration")), "rtf", RTF_BUCKETS,
    )  # fmt: skip
    _queue_depths(lines)
    _queue_backlog(lines)
    _worker_memory(lines)
    return "\n".join(lines) + "\n"


def _jobs_by_status(lines: list[str]) -> None:
    lines += ["# HELP portal_jobs Jobs in the database by status.", "# TYPE portal_jobs gauge"]
    counts = dict(Job.objects.values_list("status").annotate(n=Count("id")))
    for status in Job.Status.values:
        lines.append(f'portal_jobs{{status="{status}"}} {counts.get(status, 0)}')


def _histogram(lines, name: str, help_text: str, jobs, field_name: str, buckets) -> None:
    """Cumulative buckets counted by the database, not by loading the jobs."""
    buckets_counts = {
        f"le_{i}": Count("id", filter=Q(**{f"{field_name}__lte": b})) for i, b in enumerate(buckets)
    }
    values = jobs.aggregate(count=Count("id"), total=Sum(field_name), **buckets_counts)
    lines += [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
    for i, bound in enumerate(buckets):
        lines.append(f'{name}_bucket{{le="{bound}"}} {values[f"le_{i}"]}')
    lines.append(f'{name}_bucket{{le="+Inf"}} {values["count"]}')
    lines.append(f"{name}_sum {values['total'] or 0:.6f}")
    lines.append(f"{name}_count {values['count']}")


def _queue_depths(lines) -> None:
    lines += ["# HELP portal_queue_depth Jobs waiting in each RQ queue.", "# TYPE portal_queue_depth gauge"]
    names = set(EngineProfile.objects.values_list("queue", flat=True)) | {settings.ASR_QUEUE}
    try:
        for name in sorted(names):
            lines.append(f'portal_queue_depth{{queue="{name}"}} {queues.get_queue(name).count}')
    except Exception:  # noqa: BLE001 - Redis down: the other figures still help
        logger.warning("metrics: Redis unavailable for queue depths", exc_info=True)


def _queue_backlog(lines) -> None:
    # Under fair scheduling the RQ queue holds only a window of jobs: the backlog is in the database.
    lines += [
        "# HELP portal_queue_backlog Queued jobs of each queue in the database, dispatched or not.",
        "# TYPE portal_queue_backlog gauge",
    ]
    queued = Job.objects.filter(status=Job.Status.QUEUED).order_by()
    counts = dict(queued.values_list("options__queue").annotate(n=Count("id")))
    names = set(EngineProfile.objects.values_list("queue", flat=True)) | {settings.ASR_QUEUE} | set(counts)
    for name in sorted(n for n in names if n):
        lines.append(f'portal_queue_backlog{{queue="{name}"}} {counts.get(name, 0)}')


def _worker_memory(lines) -> None:
    lines += [
        "# HELP portal_worker_memory_bytes Memory of each live worker.",
        "# TYPE portal_worker_memory_bytes gauge",
    ]
    try:
        live = worker_registry.list_all(queues.connection())
    except Exception:  # noqa: BLE001
        return
    for w in live:
        labels = _worker_labels(w)
        lines.append(f'portal_worker_memory_bytes{{{labels},kind="rss"}} {float(w["rss_mb"]) * 1e6:.0f}')
        lines.append(f'portal_worker_memory_bytes{{{labels},kind="gpu"}} {float(w["gpu_mb"]) * 1e6:.0f}')
    _worker_model_loads(lines, live)


def _worker_model_loads(lines, live: list[dict]) -> None:
    # More than one load per worker means jobs switch models (profiles on a shared queue), each
    # switch costing a full model load.
    lines += [
        "# HELP portal_worker_model_loads_total Models each live worker has loaded since it started.",
        "# TYPE portal_worker_model_loads_total counter",
    ]
    for w in live:
        lines.append(f"portal_worker_model_loads_total{{{_worker_labels(w)}}} {w.get('model_loads', '0')}")


def _worker_labels(worker: dict) -> str:
    return f'worker="{worker["name"]}",host="{worker["host"]}",queue="{worker["queue"]}"'

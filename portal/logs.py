"""Logging: every line written while a job is processed carries its id (`job=<uuid>`), so one
job's story can be pulled out of a worker's log; LOG_FORMAT=json writes one JSON object a line
for log collectors."""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

_job_id: contextvars.ContextVar[str] = contextvars.ContextVar("job_id", default="-")


@contextmanager
def job_context(job_id: str) -> Iterator[None]:
    token = _job_id.set(str(job_id))
    try:
        yield
    finally:
        _job_id.reset(token)


class JobIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.job_id = _job_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "job": getattr(record, "job_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)

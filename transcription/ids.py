"""Job ids as they come from requests: parsed, never trusted."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

MAX_SELECTED = 1000  # jobs one request may act on at once (history's bulk delete and download)


def parse_job_id(value) -> uuid.UUID | None:
    """The id, or None when it is malformed: a malformed id is simply not anyone's job."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def parse_job_ids(values: Sequence[str]) -> list[uuid.UUID]:
    """The well-formed ids among the first MAX_SELECTED `values`."""
    return [job_id for job_id in map(parse_job_id, list(values)[:MAX_SELECTED]) if job_id is not None]

"""Writes of the quotas app: the usage ledger."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import transaction

from quotas.models import UsageRecord


@transaction.atomic
def usage_record(
    *, user_id: int, job_id: uuid.UUID, seconds: float, size_bytes: int, at: datetime
) -> UsageRecord:
    """Record one job's upload (once per job: `job_id` is unique)."""
    return UsageRecord.objects.create(
        user_id=user_id, job_id=job_id, seconds=seconds, bytes=size_bytes, at=at
    )


def usage_update(*, job_id: uuid.UUID, seconds: float, size_bytes: int) -> None:
    """A job whose length was only known later (a live session, recorded as it was spoken): its
    ledger row gets the length and size it ended with."""
    UsageRecord.objects.filter(job_id=job_id).update(seconds=seconds, bytes=size_bytes)

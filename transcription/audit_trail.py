"""What the pages and the API tell the audit log (audit/) about jobs: who asked, through which
surface, and the job as plain data (audit/ knows no Job). Entry points call these after the
selector that found the job; recording is the one write an entry point makes besides its service
(docs/architecture.md, "Where do I put…")."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from django.db import transaction
from django.http import HttpRequest

from audit.services import JobData, audit_record, audit_record_many


def record(request: HttpRequest, action: str, job, *, detail: str = "", via: str = "page") -> None:
    """`request.user` did `action` to `job` (a repeated view within minutes is recorded once)."""
    audit_record(
        actor=request.user,
        action=action,
        job_id=job.pk,
        job_name=job.original_name,
        owner=job.owner,
        detail=detail,
        via=via,
    )


def record_many(request: HttpRequest, action: str, jobs, *, detail: str = "", via: str = "page") -> int:
    """One event per job of `jobs` (a queryset), in one insert."""
    rows = jobs.values_list("pk", "original_name", "owner_id")
    return audit_record_many(actor=request.user, action=action, jobs_data=rows, detail=detail, via=via)


def recorder(request: HttpRequest, action: str, *, detail: str = "", via: str = "page") -> Callable:
    """A callback for the bulk deletions of `upkeep`, called inside their transaction with the
    (id, name, owner id) of the jobs about to go: their record commits or rolls back with them."""

    def on_delete(jobs_data: Iterable[JobData]) -> None:
        audit_record_many(actor=request.user, action=action, jobs_data=jobs_data, detail=detail, via=via)

    return on_delete


@contextmanager
def recorded(
    request: HttpRequest, action: str, job, *, detail: str = "", via: str = "page"
) -> Iterator[None]:
    """Record `action` and run the block (a deletion) in one transaction: neither goes without the
    other. The record comes first: a deleted row has no id left to name."""
    with transaction.atomic():
        record(request, action, job, detail=detail, via=via)
        yield


def first_play(request: HttpRequest) -> bool:
    """Whether this audio request starts playing (or downloading) the recording: no Range, or one
    from byte 0. A player's seeks ask for later bytes and are not new plays."""
    requested = request.headers.get("Range", "").replace(" ", "")
    return not requested or requested.startswith("bytes=0-")

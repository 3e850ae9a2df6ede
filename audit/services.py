"""Writing the audit log. Entry points call these after the selector that found the job (they
alone know who asked and through which surface); nothing here reads a request.

Each write joins the caller's transaction (a savepoint inside one): a deletion recorded inside the
transaction of the delete is rolled back with it, and a failed record takes the delete with it,
rather than leaving a deletion nobody can account for."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent

# A page refreshed, or an API client polling a job, is one view: repeated views of one job by one
# person within this window are recorded once. So are plays: the job page's player fetches the
# start of the recording (preload) on every visit, so each refresh would otherwise be a play too.
VIEW_WINDOW = timedelta(minutes=10)

Action = AuditEvent.Action
COALESCED = {Action.VIEWED, Action.PLAYED}
JobData = tuple[uuid.UUID | str, str, int | None]  # (job id, job name, owner's id)


def audit_record(
    *, actor, action: str, job_id, job_name: str, owner, detail: str = "", via: str = "page"
) -> AuditEvent | None:
    """Record that `actor` did `action` to the job; None when it is a view (or a play) of the job
    that this actor's last VIEW_WINDOW already recorded."""
    actor, action, via = _person(actor), _known(action, Action), _known(via, AuditEvent.Via)
    with transaction.atomic():
        if action in COALESCED and _done_lately(actor, action, job_id):
            return None
        return AuditEvent.objects.create(
            actor=actor,
            actor_username=_username(actor),
            action=action,
            job_id=job_id,
            job_name=job_name[:255],
            owner=_person(owner),
            owner_username=_username(_person(owner)),
            detail=detail[:200],
            via=via,
        )


def audit_record_many(
    *, actor, action: str, jobs_data: Iterable[JobData], detail: str = "", via: str = "page"
) -> int:
    """Record one event per job (exports and deletions of many at once) in one insert. Views are
    not coalesced here. Returns how many were recorded."""
    actor, action, via = _person(actor), _known(action, Action), _known(via, AuditEvent.Via)
    rows = list(jobs_data)
    owners = get_user_model().objects.filter(pk__in={owner for _id, _name, owner in rows if owner})
    usernames = dict(owners.values_list("pk", get_user_model().USERNAME_FIELD))
    now = timezone.now()
    events = [
        AuditEvent(
            when=now,
            actor=actor,
            actor_username=_username(actor),
            action=action,
            job_id=job_id,
            job_name=(job_name or "")[:255],
            owner_id=owner_id if owner_id in usernames else None,
            owner_username=usernames.get(owner_id, ""),
            detail=detail[:200],
            via=via,
        )
        for job_id, job_name, owner_id in rows
    ]
    with transaction.atomic():
        AuditEvent.objects.bulk_create(events, batch_size=500)
    return len(events)


def _done_lately(actor, action: str, job_id) -> bool:
    if actor is None:
        return False
    since = timezone.now() - VIEW_WINDOW
    return AuditEvent.objects.filter(actor=actor, action=action, job_id=job_id, when__gte=since).exists()


def _known(value: str, choices) -> str:
    """A typo in a caller ("view") would otherwise be stored as an action nobody filters for."""
    if value not in choices.values:
        raise ValueError(f"Not one of {choices.values}: {value!r}")
    return value


def _person(user):
    """A saved, signed-in user, or None (anonymous requests have no account to point at)."""
    return user if user is not None and getattr(user, "is_authenticated", False) and user.pk else None


def _username(user) -> str:
    return user.get_username() if user is not None else ""

"""Reading the audit log: a job's own events for its owner, and the whole log for administrators.
Anyone else reads nothing: the log says who looked at what, which is itself worth protecting."""

from __future__ import annotations

from datetime import date, datetime, time

from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AuditEvent

JOB_EVENTS_SHOWN = 50


def audit_for_job(*, user, job_id, owner_id, limit: int = JOB_EVENTS_SHOWN) -> list[AuditEvent]:
    """The job's events, newest first, when `user` owns it (`owner_id`: its owner now) or may read
    the whole log; else none."""
    if not user.is_authenticated or (user.pk != owner_id and not _reads_the_log(user)):
        return []
    return list(AuditEvent.objects.filter(job_id=job_id).order_by("-when", "-pk")[:limit])


def audit_search(
    *,
    user,
    actor: str = "",
    owner: str = "",
    action: str = "",
    via: str = "",
    since: date | datetime | None = None,
    until: date | datetime | None = None,
    job_name: str = "",
) -> QuerySet[AuditEvent]:
    """Staff with the log's view permission: every event, newest first, narrowed by the username
    of who acted or whose job it was (exact, any case), the action, the surface, a date range
    (`until` a date includes that whole day) and a part of the job's name."""
    if not _reads_the_log(user):
        return AuditEvent.objects.none()
    events = AuditEvent.objects.order_by("-when", "-pk")
    if actor:
        events = events.filter(actor_username__iexact=actor)
    if owner:
        events = events.filter(owner_username__iexact=owner)
    if action:
        events = events.filter(action=action)
    if via:
        events = events.filter(via=via)
    if since is not None:
        events = events.filter(when__gte=_moment(since, time.min))
    if until is not None:
        events = events.filter(when__lte=_moment(until, time.max))
    if job_name:
        events = events.filter(job_name__icontains=job_name)
    return events


def _reads_the_log(user) -> bool:
    return bool(user.is_authenticated and user.is_staff and user.has_perm("audit.view_auditevent"))


def _moment(value: date | datetime, at: time) -> datetime:
    """A datetime as given; a date as its first (or last) moment in the portal's time zone."""
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.make_aware(datetime.combine(value, at))

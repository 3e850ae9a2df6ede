"""Quotas on uploads (the limits are the `quotas` app's): the check every upload path makes before
anything is stored, the ledger row each job writes when created, and each user's usage for the
dashboard.

Stored audio is the size of the jobs whose recording is still kept, jobs waiting are the queued
ones, and hours of audio come from the ledger (`quotas.UsageRecord`), so that deleting a job does
not give hours back. A team's usage is the sum over its members.

Hours need each upload's length, which only its header tells. The check reads it first, in the
sandboxed child process that job creation uses (`media_sandbox.probe_isolated`), before anything
is stored: a refused upload leaves nothing behind, the refusal is exact (not only "already at the
limit"), and the form and serializers stay the one place an upload is refused. The cost, a second
header read of a few milliseconds, is paid only by users under an hours limit, and only once the
cheap checks (size, waiting jobs, hours already used) have passed. Uploads sent at the same moment
(the page sends three at a time) are each checked against the usage before them, so together they
may pass a limit by those files; the next upload is refused."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timesince import timeuntil
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from quotas import periods
from quotas import selectors as quota_selectors
from quotas import services as quota_services
from quotas.models import Quota
from teams.models import Team
from transcription import media_sandbox
from transcription.models import Job

MB = 1024 * 1024
HOUR = 3600.0


@dataclass(frozen=True)
class Limits:
    """A quota row's limits in bytes, seconds and jobs; None: no limit."""

    stored_bytes: int | None = None
    day_seconds: float | None = None
    month_seconds: float | None = None
    waiting: int | None = None

    @classmethod
    def of(cls, quota: Quota | None) -> Limits:
        if quota is None:
            return cls()

        def seconds(hours: float | None) -> float | None:
            return None if hours is None else hours * HOUR

        stored = None if quota.stored_audio_mb is None else quota.stored_audio_mb * MB
        return cls(stored, seconds(quota.hours_per_day), seconds(quota.hours_per_month), quota.jobs_waiting)

    @property
    def any(self) -> bool:
        return any(limit is not None for limit in (self.stored_bytes, self.waiting)) or self.hours

    @property
    def hours(self) -> bool:
        return self.day_seconds is not None or self.month_seconds is not None


@dataclass(frozen=True)
class Usage:
    stored_bytes: int
    day_seconds: float
    month_seconds: float
    waiting: int


@dataclass(frozen=True)
class Scope:
    """The limits of one scope (the user's own, or one of their teams) and its usage now."""

    team: Team | None
    limits: Limits
    usage: Usage

    def rows(self) -> list[tuple[str, str, str]]:
        """(what, used, limit or "") for the dashboard."""
        limits, usage = self.limits, self.usage
        figures = [
            (_("Stored recordings"), usage.stored_bytes, limits.stored_bytes, filesizeformat),
            (_("Hours of audio today"), usage.day_seconds, limits.day_seconds, _hours),
            (_("Hours of audio this month"), usage.month_seconds, limits.month_seconds, _hours),
            (_("Jobs waiting"), usage.waiting, limits.waiting, str),
        ]
        return [
            (label, fmt(used), "" if limit is None else fmt(limit)) for label, used, limit, fmt in figures
        ]


def _usage(user, team: Team | None, now: datetime) -> Usage:
    jobs = Job.objects.filter(owner__memberships__team=team) if team else Job.objects.filter(owner=user)
    stored = jobs.exclude(audio="").aggregate(total=Sum("size_bytes"))["total"] or 0
    return Usage(
        stored_bytes=stored,
        day_seconds=quota_selectors.usage_seconds(
            user=user, team=team, since=periods.start(periods.DAY, now)
        ),
        month_seconds=quota_selectors.usage_seconds(
            user=user, team=team, since=periods.start(periods.MONTH, now)
        ),
        waiting=jobs.filter(status=Job.Status.QUEUED).count(),
    )


def _scopes(user, now: datetime, limited_only: bool) -> list[Scope]:
    """The user's own scope, then each of their teams with a quota (usage read only where a limit
    applies when `limited_only`)."""
    own = Limits.of(quota_selectors.quota_personal(user=user))
    scopes = [(None, own)] + [(q.team, Limits.of(q)) for q in quota_selectors.quota_teams(user=user)]
    return [
        Scope(team, limits, _usage(user, team, now))
        for team, limits in scopes
        if limits.any or not (limited_only or team)
    ]


def quota_usage(*, user) -> list[Scope]:
    """The dashboard's panel: the user's own usage against their limits, then each of their teams
    that has a quota."""
    return _scopes(user, timezone.now(), limited_only=False)


def quota_check(*, user, uploads: Sequence[UploadedFile]) -> None:
    """Refuse (ValidationError, code "quota") uploads that would take the user, or one of their
    teams, past a limit, with a sentence naming the limit and when it frees up."""
    now = timezone.now()
    scopes = _scopes(user, now, limited_only=True)
    size = sum(upload.size or 0 for upload in uploads)
    for scope in scopes:  # what is known without reading the files first
        _refuse(
            _over_storage(scope, size) or _over_waiting(scope, len(uploads)) or _over_hours(scope, 0, now)
        )
    if any(scope.limits.hours for scope in scopes):
        seconds = sum(_header_seconds(upload) for upload in uploads)
        for scope in scopes:
            _refuse(_over_hours(scope, seconds, now))


def usage_on_job_saved(sender, instance: Job, created: bool = False, raw: bool = False, **kwargs) -> None:
    """post_save of a Job (connected in TranscriptionConfig.ready): a job just created goes in the
    ledger with the length its header gave (`services.job_create` probes before the first save)
    and its size. A receiver rather than a call in job_create: however a row is created, its
    upload is counted once, as a job's recording goes with its row however it goes."""
    if created and not raw:
        quota_services.usage_record(
            user_id=instance.owner_id,
            job_id=instance.id,
            seconds=instance.duration or 0.0,
            size_bytes=instance.size_bytes,
            at=instance.queued_at,
        )


def _refuse(message: str) -> None:
    if message:
        raise ValidationError(message, code="quota")


def _header_seconds(upload: UploadedFile) -> float:
    """The length the upload's header claims (0 when it has none: the worker then says why)."""
    if hasattr(upload, "temporary_file_path"):
        return media_sandbox.probe_isolated(upload.temporary_file_path()) or 0.0
    with tempfile.NamedTemporaryFile(suffix=Path(upload.name or "").suffix[:16]) as copy:
        for chunk in upload.chunks():  # a small upload held in memory: the child reads a file
            copy.write(chunk)
        copy.flush()
        upload.seek(0)
        return media_sandbox.probe_isolated(copy.name) or 0.0


def _hours(seconds: float) -> str:
    value = seconds / HOUR
    text = f"{value:.2f}" if value >= 0.1 or value == 0 else f"{value:.4f}"
    return text.rstrip("0").rstrip(".")


def _over_storage(scope: Scope, size: int) -> str:
    limit, used = scope.limits.stored_bytes, scope.usage.stored_bytes
    if limit is None or used + size <= limit:
        return ""
    figures = {"used": filesizeformat(used), "limit": filesizeformat(limit), "team": scope.team}
    if scope.team:
        sentence = _(
            "Stored recordings of your team %(team)s: %(used)s of %(limit)s; delete old jobs to free space."
        )
    else:
        sentence = _("Stored recordings: %(used)s of %(limit)s; delete old jobs to free space.")
    if used < limit:  # room left, but not for this much
        sentence = _("These files are %(size)s.") % {"size": filesizeformat(size)} + " " + sentence
    return sentence % figures


def _over_waiting(scope: Scope, count: int) -> str:
    limit, waiting = scope.limits.waiting, scope.usage.waiting
    if limit is None or waiting + count <= limit:
        return ""
    free = max(0, limit - waiting)
    figures = {"count": waiting, "limit": limit, "free": free, "team": scope.team}
    if waiting < limit and scope.team:
        sentence = ngettext(
            "Only %(free)d more job of your team %(team)s may wait (%(limit)d at most); "
            "upload fewer files, or more when one starts.",
            "Only %(free)d more jobs of your team %(team)s may wait (%(limit)d at most); "
            "upload fewer files, or more when one starts.",
            free,
        )
    elif waiting < limit:
        sentence = ngettext(
            "Only %(free)d more of your jobs may wait (%(limit)d at most); "
            "upload fewer files, or more when one starts.",
            "Only %(free)d more of your jobs may wait (%(limit)d at most); "
            "upload fewer files, or more when one starts.",
            free,
        )
    elif scope.team:
        sentence = ngettext(
            "%(count)d job of your team %(team)s is waiting, the most allowed; upload more when one starts.",
            "%(count)d jobs of your team %(team)s are waiting, the most allowed; "
            "upload more when one starts.",
            waiting,
        )
    else:
        sentence = ngettext(
            "%(count)d of your jobs is waiting, the most allowed; upload more when one starts.",
            "%(count)d of your jobs are waiting, the most allowed; upload more when one starts.",
            waiting,
        )
    return sentence % figures


def _over_hours(scope: Scope, seconds: float, now: datetime) -> str:
    """The day's limit, then the month's: refused when already used up, or when `seconds` more
    would pass it."""
    checks = [
        (periods.DAY, scope.limits.day_seconds, scope.usage.day_seconds),
        (periods.MONTH, scope.limits.month_seconds, scope.usage.month_seconds),
    ]
    for unit, limit, used in checks:
        if limit is None or (used < limit and used + seconds <= limit):
            continue
        frees = timezone.localtime(periods.next_start(unit, now), timezone.get_default_timezone())
        figures = {
            "used": _hours(used),
            "limit": _hours(limit),
            "team": scope.team,
            "when": date_format(frees, "H:i" if unit == periods.DAY else "DATE_FORMAT"),
            "wait": timeuntil(frees, now, depth=1),
        }
        sentence = _hours_sentence(unit, team=bool(scope.team)) % figures
        if used < limit:
            sentence = (
                _("These recordings last %(length)s hours.") % {"length": _hours(seconds)} + " " + sentence
            )
        return sentence
    return ""


def _hours_sentence(unit: str, *, team: bool) -> str:
    if unit == periods.DAY and team:
        return _(
            "Your team %(team)s has used %(used)s of its %(limit)s hours of audio today; more is "
            "available from %(when)s (in %(wait)s)."
        )
    if unit == periods.DAY:
        return _(
            "You have used %(used)s of your %(limit)s hours of audio today; more is available from "
            "%(when)s (in %(wait)s)."
        )
    if team:
        return _(
            "Your team %(team)s has used %(used)s of its %(limit)s hours of audio this month; more is "
            "available from %(when)s (in %(wait)s)."
        )
    return _(
        "You have used %(used)s of your %(limit)s hours of audio this month; more is available from "
        "%(when)s (in %(wait)s)."
    )

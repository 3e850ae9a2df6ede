"""Reads of quotas and the usage ledger, each taking `user=`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import PermissionDenied
from django.db.models import Count, DateField, F, Q, Sum
from django.db.models.functions import Trunc
from django.utils import timezone

from quotas import periods
from quotas.models import Quota, UsageRecord
from teams.models import Membership


def quota_personal(*, user) -> Quota | None:
    """The user's own limits: their row, else the default row (None: no limit at all)."""
    rows = Quota.objects.filter(Q(user=user) | Q(user__isnull=True, team__isnull=True))
    return min(rows, key=lambda row: row.user_id is None, default=None)


def quota_teams(*, user) -> list[Quota]:
    """The limits of each team the user belongs to that has any, by team name."""
    teams = Membership.objects.filter(user=user).values("team_id")
    return list(Quota.objects.filter(team__in=teams).select_related("team").order_by("team__name"))


def usage_seconds(*, user, since: datetime, team=None) -> float:
    """Seconds of audio uploaded since `since` by the user, or by the members of `team`."""
    records = UsageRecord.objects.filter(at__gte=since)
    records = records.filter(user__memberships__team=team) if team else records.filter(user=user)
    return records.aggregate(total=Sum("seconds"))["total"] or 0.0


@dataclass(frozen=True)
class UsageRow:
    period: date
    kind: str  # "team" or "user"
    name: str
    seconds: float
    jobs: int

    @property
    def hours(self) -> float:
        return self.seconds / 3600


def usage_report(*, user, unit: str, count: int) -> list[UsageRow]:
    """Staff only: seconds of audio and jobs per team and per user in each of the last `count`
    days or months (the portal's time zone), from the ledger; newest period first. A team's row
    sums its members of today, for all they uploaded."""
    if not user.is_staff:
        raise PermissionDenied
    period = Trunc("at", unit, output_field=DateField(), tzinfo=timezone.get_default_timezone())
    records = UsageRecord.objects.filter(at__gte=periods.since(unit, count)).annotate(period=period)
    by_user = records.values("period", name=F("user__username"))
    by_team = records.filter(user__memberships__isnull=False).values(
        "period", name=F("user__memberships__team__name")
    )
    rows = [
        UsageRow(period=row["period"], kind=kind, name=row["name"], seconds=row["seconds"], jobs=row["jobs"])
        for kind, grouped in (("team", by_team), ("user", by_user))
        for row in grouped.annotate(seconds=Sum("seconds"), jobs=Count("id")).order_by()
    ]
    return sorted(rows, key=lambda r: (-r.period.toordinal(), r.kind != "team", r.name.lower()))

"""Days and months in the portal's time zone (settings.TIME_ZONE), whatever the time zone a
request activated: a quota's day starts at the same moment for everyone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone

DAY, MONTH = "day", "month"


def _local(now: datetime | None) -> datetime:
    return timezone.localtime(now or timezone.now(), timezone.get_default_timezone())


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


def _month_of(day: date, months_later: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + months_later
    return date(index // 12, index % 12 + 1, 1)


def start(unit: str, now: datetime | None = None) -> datetime:
    """The start of the day or month that `now` is in."""
    today = _local(now).date()
    return _midnight(today if unit == DAY else _month_of(today))


def next_start(unit: str, now: datetime | None = None) -> datetime:
    """The start of the next day or month: when a limit on this one frees up."""
    today = _local(now).date()
    return _midnight(today + timedelta(days=1) if unit == DAY else _month_of(today, 1))


def starts(unit: str, count: int, now: datetime | None = None) -> list[date]:
    """The first days of the last `count` days or months, this one included, oldest first."""
    today = _local(now).date()
    if unit == DAY:
        return [today - timedelta(days=n) for n in range(count - 1, -1, -1)]
    return [_month_of(today, -n) for n in range(count - 1, -1, -1)]


def since(unit: str, count: int, now: datetime | None = None) -> datetime:
    return _midnight(starts(unit, count, now)[0])

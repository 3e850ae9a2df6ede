"""Reading the history a page at a time: keyset pages over (queued_at, id), newest first, their
cursors, and the snippet of transcript shown around a match. The jobs to page through (owner,
filters, search) come from `selectors.job_history`."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time

from django.db.models import QuerySet
from django.utils import timezone

from transcription.models import Job
from transcription.search import Matches

HISTORY_PAGE_SIZE = 25
SNIPPET_CONTEXT = 80
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Cursor = tuple[datetime, uuid.UUID]


@dataclass(frozen=True)
class Snippet:
    """A piece of a transcript around the first match: before, the matching words, after."""

    before: str
    match: str
    after: str


@dataclass(frozen=True)
class HistoryRow:
    job: Job
    snippet: Snippet | None


@dataclass(frozen=True)
class HistoryPage:
    rows: list[HistoryRow]
    newer: str = ""  # the cursor for `before=`; empty on the newest page
    older: str = ""  # the cursor for `after=`; empty on the oldest page


def page(matches: Matches, *, terms: list[str], after: str, before: str, limit: int) -> HistoryPage:
    """One page of `matches.jobs`: `after` gives the page older than a cursor, `before` the page
    newer than it; a malformed cursor means the first page. Each row with its snippet."""
    newer_than, older_than = parse_cursor(before), parse_cursor(after)
    if newer_than:
        found = _newer(matches, newer_than, limit)
        if found.rows:
            return _with_snippets(found, terms)
    return _with_snippets(_older(matches, older_than, limit), terms)


def cursor(job: Job) -> str:
    return format_cursor((job.queued_at, job.id))


def format_cursor(value: Cursor) -> str:
    micros = (value[0] - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{value[1].hex}"


def parse_cursor(value: str) -> Cursor | None:
    micros, _, job_id = (value or "").partition(".")
    if not (micros.isascii() and micros.lstrip("-").isdigit() and len(micros) <= 18):
        return None
    try:
        return _EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(hex=job_id)
    except (ValueError, OverflowError):
        return None


def between_dates(jobs: QuerySet[Job], *, date_from: date | None, date_to: date | None) -> QuerySet[Job]:
    """Jobs queued from the start of `date_from` to the end of `date_to`, in the portal's time
    zone; a bound at the edge of the calendar (year 1, year 9999) is no bound."""
    start = _day_start(date_from) if date_from else None
    end = _day_start(date_to, days_later=1) if date_to else None
    if start:
        jobs = jobs.filter(queued_at__gte=start)
    if end:
        jobs = jobs.filter(queued_at__lt=end)
    return jobs


def _day_start(day: date, days_later: int = 0) -> datetime | None:
    try:
        start = timezone.make_aware(datetime.combine(day + timedelta(days=days_later), dt_time.min))
        start.astimezone(UTC)  # what the database will be given
    except OverflowError:
        return None
    return start


def _older(matches: Matches, after: Cursor | None, limit: int) -> HistoryPage:
    jobs = matches.jobs
    if after:
        queued_at, job_id = after
        jobs = jobs.filter(queued_at__lte=queued_at).exclude(queued_at=queued_at, id__gte=job_id)
    rows = list(matches.first(jobs.order_by("-queued_at", "-id"), limit + 1)[: limit + 1])
    older = cursor(rows[limit - 1]) if len(rows) > limit else ""
    rows = rows[:limit]
    newer = (cursor(rows[0]) if rows else format_cursor(after)) if after else ""
    return HistoryPage([HistoryRow(job, None) for job in rows], newer=newer, older=older)


def _newer(matches: Matches, before: Cursor, limit: int) -> HistoryPage:
    queued_at, job_id = before
    jobs = matches.jobs.filter(queued_at__gte=queued_at).exclude(queued_at=queued_at, id__lte=job_id)
    rows = list(matches.first(jobs.order_by("queued_at", "id"), limit + 1)[: limit + 1])
    newer = cursor(rows[limit - 1]) if len(rows) > limit else ""
    rows = rows[:limit][::-1]
    older = cursor(rows[-1]) if rows else ""
    return HistoryPage([HistoryRow(job, None) for job in rows], newer=newer, older=older)


def _with_snippets(found: HistoryPage, terms: list[str]) -> HistoryPage:
    rows = [HistoryRow(row.job, snippet(row.job.text, terms)) for row in found.rows]
    return HistoryPage(rows, newer=found.newer, older=found.older)


def snippet(text: str, terms: list[str], context: int = SNIPPET_CONTEXT) -> Snippet | None:
    """The text around the first of the terms it contains (ignoring case), else its beginning."""
    if not text:
        return None
    words = [t.lstrip("-") for t in terms if t.lower() != "or" and t.lstrip("-")]
    found = re.search("|".join(re.escape(w) for w in words), text, re.IGNORECASE) if words else None
    if not found:
        cut = text[: 2 * context]
        return Snippet("", "", cut + ("…" if len(text) > len(cut) else ""))
    start, end = max(0, found.start() - context), min(len(text), found.end() + context)
    before = ("…" if start else "") + text[start : found.start()]
    return Snippet(before, found.group(), text[found.end() : end] + ("…" if end < len(text) else ""))

"""Every read of transcription data. Each selector takes `user=`: owner scoping is not optional."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import BooleanField, Case, F, Q, QuerySet, Value, When, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber
from django.http import Http404
from django.utils import timezone
from redis.exceptions import RedisError

from transcription import profiles, queues, workers
from transcription.models import EngineProfile, Job


def job_list(*, user) -> QuerySet[Job]:
    return Job.objects.filter(owner=user).defer("segments", "text", "raw_text")


def job_get(*, user, job_id) -> Job:
    """The user's job, or 404: someone else's job looks exactly like one that does not exist."""
    try:
        return Job.objects.get(owner=user, id=job_id)
    except (Job.DoesNotExist, ValueError, TypeError):
        raise Http404("No such job.") from None


def job_exists(*, user, job_id) -> bool:
    try:
        job_uuid = uuid.UUID(str(job_id))
    except ValueError:  # a malformed id is simply not theirs
        return False
    return Job.objects.filter(owner=user, id=job_uuid).exists()


def job_run_stands(*, user, job_id, attempt: int) -> bool:
    """Whether the user's job is still running in its run number `attempt`: False once it was
    cancelled, deleted, or lost and claimed again. A worker asks this while it recognises, to
    stop work whose result nobody would keep. One indexed lookup of the row's primary key."""
    return Job.objects.filter(owner=user, id=job_id, status=Job.Status.RUNNING, attempt=attempt).exists()


def job_sync_list(*, user, job_id=None, limit: int = 200) -> list[Job]:
    """What a websocket client needs on (re)connect: one job, or the newest `limit`."""
    jobs = job_list(user=user)
    if job_id is not None:
        jobs = jobs.filter(id=job_id)
    return list(jobs[:limit])


def profile_list_selectable(*, user) -> list[EngineProfile]:
    """The profiles this user may pick at upload that can run here (their models installed)."""
    candidates = (
        EngineProfile.objects.all() if user.is_staff else EngineProfile.objects.filter(user_selectable=True)
    )
    return [p for p in candidates if profiles.readiness(p).runnable]


def profile_default(*, user) -> EngineProfile | None:
    """The default profile if this user may use it, else the first they may."""
    selectable = profile_list_selectable(user=user)
    return next((p for p in selectable if p.is_default), selectable[0] if selectable else None)


def profile_get_for_worker(*, name: str, queue: str) -> EngineProfile | None:
    """For a worker's preload: the named profile, else the default profile if it uses this
    queue. Workers are not users: this is the one selector without `user=`."""
    if name:
        return EngineProfile.objects.filter(name=name).first()
    return EngineProfile.objects.filter(is_default=True, queue=queue).first()


def worker_list(*, user) -> list[dict]:
    """Live workers, for staff only: everyone else gets none."""
    if not user.is_staff:
        return []
    rows = workers.list_all(queues.get_queue(settings.ASR_QUEUE).connection)
    now = time.time()
    for row in rows:
        row["seen_seconds_ago"] = max(0, round(now - float(row["last_seen"])))
    return rows


def _visible_jobs(*, user) -> QuerySet[Job]:
    return Job.objects.all() if user.is_staff else Job.objects.filter(owner=user)


def job_search(
    *,
    user,
    status: str = "",
    profile: str = "",
    batch: str = "",
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    search: str = "",
) -> QuerySet[Job]:
    """The API's job list, newest first: the user's own jobs, every user's for staff. `profile` is
    a profile's name or id; `search` looks in the display name and the transcript."""
    jobs = _visible_jobs(user=user).select_related("owner", "profile")
    jobs = jobs.defer("segments", "text", "raw_text", "corrections")
    if status:
        jobs = jobs.filter(status=status)
    if profile:
        jobs = jobs.filter(Q(profile_id=int(profile)) if _is_id(profile) else Q(profile__name=profile))
    if batch:
        jobs = jobs.filter(options__batch=batch)
    if created_after:
        jobs = jobs.filter(queued_at__gte=created_after)
    if created_before:
        jobs = jobs.filter(queued_at__lt=created_before)
    if search:
        jobs = jobs.filter(Q(original_name__icontains=search) | Q(text__icontains=search))
    return jobs


def job_get_visible(*, user, job_id) -> Job:
    """A job the user may read: their own, or any job for staff. 404 otherwise."""
    try:
        return _visible_jobs(user=user).select_related("owner", "profile").get(id=job_id)
    except (Job.DoesNotExist, ValueError, TypeError, ValidationError):
        raise Http404("No such job.") from None


def job_wait(*, user, job_id, timeout: float, interval: float = 0.2) -> Job:
    """The user's job once it is done or failed, or as it is after `timeout` seconds: polls the
    database, where the worker writes."""
    deadline = time.monotonic() + timeout
    job = job_get(user=user, job_id=job_id)
    while not job.is_finished and time.monotonic() < deadline:
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        job = job_get(user=user, job_id=job_id)
    return job


def profile_find_selectable(*, user, ref: str = "") -> EngineProfile | None:
    """A profile the user may pick that can run here, by name or id; no `ref`: the default."""
    if not ref:
        return profile_default(user=user)
    selectable = profile_list_selectable(user=user)
    by_name = next((p for p in selectable if p.name == ref), None)
    return by_name or next((p for p in selectable if _is_id(ref) and p.pk == int(ref)), None)


def _is_id(ref: str) -> bool:
    return ref.isascii() and ref.isdigit() and len(ref) <= 18  # fits a 64-bit key


def job_queue_positions(*, user, jobs) -> dict:
    """For the user's queued jobs among `jobs`: their place in the order their queue will run
    them (1 = the next to start), the fair order of `queue_order`. Only places leave the
    database: nobody learns whose jobs are ahead."""
    mine = [job for job in jobs if job.status == Job.Status.QUEUED and job.owner_id == user.id]
    positions = {}
    for queue in {job.options.get("queue", settings.ASR_QUEUE) for job in mine}:
        places = {row.id: place for place, row in enumerate(queue_order(queue=queue), 1)}
        positions.update({job.id: places[job.id] for job in mine if job.id in places})
    return positions


@dataclass(frozen=True)
class QueuedRow:
    id: uuid.UUID
    owner_id: int
    queued_at: datetime
    dispatched_at: datetime | None
    profile_id: int | None
    duration: float | None


def queue_order(*, queue: str, limit: int | None = None) -> list[QueuedRow]:
    """The queued jobs of `queue` in the order they will start (the first `limit` of them): first
    those already on the RQ queue (dispatched), in the order they went there, then the rest in
    fair order. Fair order is round-robin across owners: a job's turn is how many of its owner's
    queued jobs come before it (dispatched ones included), ties going to the older job; with
    ASR_FAIR_SCHEDULING off it is first come, first served. Workers and the dispatcher call it
    too: it is not scoped to a user, and only ids and times leave here. The database orders the
    rows (a window function, on SQLite and PostgreSQL alike), so a dispatcher asking for a few
    reads a few: with 10,000 jobs waiting, reading them all took 128 ms (PostgreSQL) at every
    claim. The dashboard's positions come from the same order."""
    queued = Job.objects.filter(status=Job.Status.QUEUED, options__queue=queue)
    if settings.ASR_FAIR_SCHEDULING:
        by_age = [F("queued_at").asc(), F("id").asc()]
        turn = Window(RowNumber(), partition_by=[F("owner_id")], order_by=by_age)
    else:
        turn = Value(0)
    waiting_turn = Case(When(dispatched_at__isnull=True, then=F("turn")), default=Value(0))
    rows = (
        queued.annotate(turn=turn)
        .order_by(F("dispatched_at").asc(nulls_last=True), waiting_turn, "queued_at", "id")
        .values_list("id", "owner_id", "queued_at", "dispatched_at", "profile_id", "duration")
    )
    return [QueuedRow(*values) for values in (rows[:limit] if limit is not None else rows)]


def batch_candidates(*, job: Job, max_seconds: float, limit: int) -> list[uuid.UUID]:
    """For a worker batching across jobs: up to `limit` other queued jobs that can share `job`'s
    engine call (same queue and profile, same hotwords and ITN choice, audio known to be at most
    `max_seconds` long), in the order the queue would run them. Workers are not users."""
    rows = [
        row
        for row in queue_order(queue=job.options["queue"])
        if row.id != job.id
        and row.profile_id == job.profile_id
        and row.duration is not None
        and row.duration <= max_seconds
    ][: limit * 4]  # enough to go round jobs with other options, without reading the whole queue
    wanted = _batch_key(job.options)
    options = dict(Job.objects.filter(id__in=[row.id for row in rows]).values_list("id", "options"))
    alike = [row.id for row in rows if row.id in options and _batch_key(options[row.id]) == wanted]
    return alike[:limit]


def _batch_key(options: dict) -> tuple:
    return options.get("hotwords"), options.get("itn")


def queue_available(*, user) -> bool:
    """Whether Redis answers (the queue and live updates need it): pages warn when it does not."""
    try:
        return bool(queues.get_queue(settings.ASR_QUEUE).connection.ping())
    except RedisError:
        return False


# --- History: full-text search, filters and keyset pages -------------------------------------
#
# SQLite: the FTS5 table `job_fts` (migration 0007), kept in sync by triggers; its rowid is the
# `rid` of `job_fts_key` (job id, owner id), so a search reads rowids only, never the stored text.
# Tokenized with `trigram` where SQLite has it (3.34+: substring matches, Chinese included) or
# `unicode61`. Terms the index cannot answer (shorter than a trigram, or CJK under unicode61)
# fall back to a case-insensitive LIKE. PostgreSQL: a GIN index on HISTORY_PG_DOCUMENT, queried
# with websearch_to_tsquery('simple', ...); 'simple' does not segment Chinese, so the document has
# every CJK character as a word and a Chinese term becomes a phrase of characters (no pg_trgm).
# Either way the owner is part of the search itself.

HISTORY_PAGE_SIZE = 25
SEARCH_MAX_CHARS = 200  # longer queries are cut: nobody types more, and it bounds the work
SEARCH_MAX_TERMS = 8
SNIPPET_CONTEXT = 80
SEARCH_PROBE_BATCH = 500  # SQLite: the newest jobs checked against the index at once...
SEARCH_PROBE_BATCHES = 4  # ...and how many such batches before asking SQLite for every match
# PostgreSQL's parser keeps "review.wav", "3.5" or "e-mail" as one token, and a run of Chinese
# (no spaces) as one token. The document splits at those marks, and migration 0007's function
# history_cjk_bigrams turns each CJK run into its overlapping character pairs (研发投入 -> 研发 发投
# 投入): a Chinese term is found by its pairs, all present, then confirmed by LIKE on those rows.
# Kana, CJK ideographs (and their extensions), hangul syllables:
_PG_CJK_CHAR = "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0002fa1f]"
# The job's document, kept in a column by a trigger (migration 0009: the words of migration
# 0007's expression, computed once per write instead of once per row searched).
HISTORY_PG_DOCUMENT = '"transcription_job"."search_document"'
_PG_INNER_MARKS = re.compile(r"(?<=\w)[._/@-]+(?=\w)")
_PG_CJK_RUN = re.compile(_PG_CJK_CHAR + "+")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TERM = re.compile(r'"([^"]*)"|(\S+)')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HAS_CJK = re.compile(
    "[\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u31a0-\u31bf\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\uac00-\ud7af\U00020000-\U0002fa1f]"
)
# The unary + keeps SQLite from driving the query from the matches (a lookup and a sort per match):
# it walks the user's jobs newest first in the covering index (owner_id, queued_at, id) of
# migration 0007 instead, testing each id against the matches, and stops at the page's end.
_SQLITE_FTS_SQL = (
    '+"transcription_job"."id" IN (SELECT job_id FROM job_fts_key WHERE owner_id = %s AND rid IN '
    "(SELECT rowid FROM job_fts WHERE job_fts MATCH %s))"
)
_sqlite_tokenizers: dict[str, str] = {}


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


def job_history(
    *,
    user,
    query: str = "",
    status: str = "",
    profile: int | None = None,
    batch: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    after: str = "",
    before: str = "",
    limit: int = HISTORY_PAGE_SIZE,
) -> HistoryPage:
    """One page of the user's jobs, newest first, matching a full-text `query` and the filters.
    Pages are keyset pages on (queued_at, id): `after` gives the page older than a cursor,
    `before` the page newer than it; a malformed cursor means the first page."""
    terms = search_terms(query)
    jobs, match = _history_filtered(user=user, terms=terms, status=status, profile=profile, batch=batch)
    jobs = _history_dates(jobs, date_from=date_from, date_to=date_to)
    jobs = jobs.select_related("profile").defer("segments", "raw_text", "corrections")
    search = _Search(user=user, match=match)
    newer_than, older_than = parse_history_cursor(before), parse_history_cursor(after)
    if newer_than:
        page = _history_newer(jobs, newer_than, limit, search)
        if page.rows:
            return _with_snippets(page, terms)
    return _with_snippets(_history_older(jobs, older_than, limit, search), terms)


def history_cursor(job: Job) -> str:
    micros = (job.queued_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{job.id.hex}"


def parse_history_cursor(value: str) -> tuple[datetime, uuid.UUID] | None:
    micros, _, job_id = (value or "").partition(".")
    if not (micros.isascii() and micros.lstrip("-").isdigit() and len(micros) <= 18):
        return None
    try:
        return _EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(hex=job_id)
    except (ValueError, OverflowError):
        return None


def search_terms(query: str) -> list[str]:
    """The terms of a search: "quoted phrases" whole, other words split at spaces; control
    characters, terms without a letter or digit, and anything past the limits are dropped."""
    query = _CONTROL.sub(" ", (query or "")[:SEARCH_MAX_CHARS])
    terms = [" ".join((phrase or word).split()) for phrase, word in _TERM.findall(query)]
    return [t for t in terms if any(c.isalnum() for c in t)][:SEARCH_MAX_TERMS]


def _history_filtered(
    *, user, terms: list[str], status: str, profile: int | None, batch: str
) -> tuple[QuerySet[Job], str]:
    """The user's jobs through every filter but SQLite's full-text match, and that match."""
    jobs = Job.objects.filter(owner=user)
    if status:
        jobs = jobs.filter(status=status)
    if profile is not None:
        jobs = jobs.filter(profile_id=profile)
    if batch:
        jobs = jobs.filter(options__batch=batch)
    if terms and connection.vendor == "postgresql":
        return _pg_search(jobs, terms), ""
    return _sqlite_search(jobs, terms) if terms else (jobs, "")


def _history_dates(jobs: QuerySet[Job], *, date_from: date | None, date_to: date | None) -> QuerySet[Job]:
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


def _like_any_field(term: str) -> Q:
    return Q(original_name__icontains=term) | Q(text__icontains=term)


def _sqlite_search(jobs: QuerySet[Job], terms: list[str]) -> tuple[QuerySet[Job], str]:
    """The terms the index cannot answer as LIKE filters, and an FTS5 query for the others:
    every term an FTS5 string, so user input is never FTS syntax ("" escapes a quote)."""
    tokenizer = _sqlite_fts_tokenizer()
    indexed = [t for t in terms if _sqlite_indexes(tokenizer, t)]
    for term in terms:
        if term not in indexed:
            jobs = jobs.filter(_like_any_field(term))
    return jobs, " ".join('"' + term.replace('"', '""') + '"' for term in indexed)


@dataclass(frozen=True)
class _Search:
    """SQLite's full-text match (empty: none) for the user, applied to one page at a time."""

    user: Any
    match: str

    def first(self, ordered: QuerySet[Job], count: int) -> QuerySet[Job]:
        """`ordered` cut to (at least) its first `count` matching jobs. A common word matches
        many of the newest jobs: probe them in batches, each checked against the index in one
        rowid range, which costs the same whatever the word. A rarer one: let SQLite walk all
        the user's jobs against its (then short) list of matches."""
        if not self.match:
            return ordered
        candidates = ordered.values_list("id", flat=True)
        found: list[uuid.UUID] = []
        for start in range(0, SEARCH_PROBE_BATCH * SEARCH_PROBE_BATCHES, SEARCH_PROBE_BATCH):
            batch = list(candidates[start : start + SEARCH_PROBE_BATCH])
            found += self._matching(batch)
            if len(found) >= count or len(batch) < SEARCH_PROBE_BATCH:
                return ordered.filter(id__in=found[:count])
        condition = RawSQL(_SQLITE_FTS_SQL, (self.user.pk, self.match), output_field=BooleanField())
        return ordered.filter(condition)

    def _matching(self, job_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        if not job_ids:
            return []
        marks = ", ".join(["%s"] * len(job_ids))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT job_id, rid FROM job_fts_key WHERE owner_id = %s AND job_id IN ({marks})",
                [self.user.pk, *(job_id.hex for job_id in job_ids)],
            )
            rids = dict(cursor.fetchall())
            if not rids:
                return []
            cursor.execute(
                "SELECT rowid FROM job_fts WHERE job_fts MATCH %s AND rowid BETWEEN %s AND %s",
                [self.match, min(rids.values()), max(rids.values())],
            )
            matched = {rowid for (rowid,) in cursor.fetchall()}
        return [job_id for job_id in job_ids if rids.get(job_id.hex) in matched]


def _sqlite_indexes(tokenizer: str, term: str) -> bool:
    if tokenizer == "trigram":
        return len(term) >= 3
    return tokenizer == "unicode61" and not _HAS_CJK.search(term)


def _sqlite_fts_tokenizer() -> str:
    """'trigram' or 'unicode61' as migration 0007 chose for this database; '' without FTS5."""
    if connection.vendor != "sqlite":
        return ""
    name = str(connection.settings_dict["NAME"])
    if name not in _sqlite_tokenizers:
        with connection.cursor() as cursor:
            cursor.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'job_fts'")
            row = cursor.fetchone()
        sql = (row[0] or "").lower() if row else ""
        _sqlite_tokenizers[name] = "trigram" if "trigram" in sql else "unicode61" if sql else ""
    return _sqlite_tokenizers[name]


def _pg_search(jobs: QuerySet[Job], terms: list[str]) -> QuerySet[Job]:
    from django.contrib.postgres.search import SearchQuery, SearchVectorField

    words: list[str] = []
    for term in terms:  # in websearch syntax: "a phrase", -excluded, or
        split = " ".join(_PG_INNER_MARKS.sub(" ", term).split())
        if not _PG_CJK_RUN.search(split):
            words.append(f'"{split}"' if " " in split else split)
        elif term.startswith("-"):
            jobs = jobs.exclude(_like_any_field(term[1:]))
        else:
            jobs = _pg_cjk_term(jobs, term, split, words)
    if not words:
        return jobs
    document = RawSQL(HISTORY_PG_DOCUMENT, [], output_field=SearchVectorField())
    query = SearchQuery(" ".join(words), config="simple", search_type="websearch")
    return jobs.alias(document=document).filter(document=query)


def _pg_cjk_term(jobs: QuerySet[Job], term: str, split: str, words: list[str]) -> QuerySet[Job]:
    """Add a CJK term's character pairs (and any other words in it) to `words`, and the LIKE that
    makes the match exact unless the term is a single pair. A lone character is in no pair: LIKE."""
    runs = _PG_CJK_RUN.findall(split)
    if min(len(run) for run in runs) < 2:
        return jobs.filter(_like_any_field(term))
    words += [run[i : i + 2] for run in runs for i in range(len(run) - 1)]
    words += _PG_CJK_RUN.sub(" ", split).split()
    return jobs if split == runs[0] and len(split) == 2 else jobs.filter(_like_any_field(term))


def _history_older(
    jobs: QuerySet[Job], cursor: tuple[datetime, uuid.UUID] | None, limit: int, search: _Search
) -> HistoryPage:
    if cursor:
        queued_at, job_id = cursor
        jobs = jobs.filter(queued_at__lte=queued_at).exclude(queued_at=queued_at, id__gte=job_id)
    rows = list(search.first(jobs.order_by("-queued_at", "-id"), limit + 1)[: limit + 1])
    older = history_cursor(rows[limit - 1]) if len(rows) > limit else ""
    rows = rows[:limit]
    newer = (history_cursor(rows[0]) if rows else _format_cursor(cursor)) if cursor else ""
    return HistoryPage([HistoryRow(job, None) for job in rows], newer=newer, older=older)


def _history_newer(
    jobs: QuerySet[Job], cursor: tuple[datetime, uuid.UUID], limit: int, search: _Search
) -> HistoryPage:
    queued_at, job_id = cursor
    jobs = jobs.filter(queued_at__gte=queued_at).exclude(queued_at=queued_at, id__lte=job_id)
    rows = list(search.first(jobs.order_by("queued_at", "id"), limit + 1)[: limit + 1])
    newer = history_cursor(rows[limit - 1]) if len(rows) > limit else ""
    rows = rows[:limit][::-1]
    older = history_cursor(rows[-1]) if rows else ""
    return HistoryPage([HistoryRow(job, None) for job in rows], newer=newer, older=older)


def _format_cursor(cursor: tuple[datetime, uuid.UUID]) -> str:
    micros = (cursor[0] - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}.{cursor[1].hex}"


def _with_snippets(page: HistoryPage, terms: list[str]) -> HistoryPage:
    rows = [HistoryRow(row.job, snippet(row.job.text, terms)) for row in page.rows]
    return HistoryPage(rows, newer=page.newer, older=page.older)


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


def history_profile_choices(*, user) -> list[EngineProfile]:
    """The profiles offered by the history's filter: those the user may pick (every one for staff),
    whether or not they can run here. Not "those their jobs used": that scans all their jobs."""
    return list(
        EngineProfile.objects.all() if user.is_staff else EngineProfile.objects.filter(user_selectable=True)
    )


def job_export_selected(*, user, job_ids: Sequence[str]) -> QuerySet[Job]:
    """The user's done jobs among `job_ids` (malformed ids ignored), oldest first."""
    ids = parse_job_ids(job_ids)
    return Job.objects.filter(owner=user, status=Job.Status.DONE, id__in=ids).order_by("queued_at", "id")


def job_export_batch(*, user, batch: str) -> QuerySet[Job]:
    """The user's done jobs of one batch, oldest first."""
    jobs = Job.objects.filter(owner=user, status=Job.Status.DONE, options__batch=batch)
    return jobs.order_by("queued_at", "id")


def jobs_older_than_count(*, user, days: int) -> int:
    """How many of the user's finished jobs were queued more than `days` days ago."""
    return finished_older_than(user=user, days=days).count()


def finished_older_than(*, user, days: int) -> QuerySet[Job]:
    cutoff = timezone.now() - timedelta(days=days)
    finished = [Job.Status.DONE, Job.Status.FAILED]
    return Job.objects.filter(owner=user, status__in=finished, queued_at__lt=cutoff)


HISTORY_MAX_SELECTED = 1000


def parse_job_ids(values: Sequence[str]) -> list[uuid.UUID]:
    ids = []
    for value in list(values)[:HISTORY_MAX_SELECTED]:
        try:
            ids.append(uuid.UUID(str(value)))
        except ValueError:
            continue  # a malformed id is simply not theirs
    return ids

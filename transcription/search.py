"""Full-text search of jobs (their display name and transcript): one function, `matching`, over
the two engines, used by the history page and the API alike.

SQLite: the FTS5 table `job_fts` (migration 0007), kept in sync by triggers; its rowid is the
`rid` of `job_fts_key` (job id, owner id), so a search reads rowids only, never the stored text.
Tokenized with `trigram` where SQLite has it (3.34+: substring matches, Chinese included) or
`unicode61`. Terms the index cannot answer (shorter than a trigram, or CJK under unicode61) fall
back to a case-insensitive LIKE.

PostgreSQL: a GIN index on the `search_document` column (migration 0009, kept by a trigger),
queried with websearch_to_tsquery('simple', ...): whole words. 'simple' does not segment Chinese,
so the document has every run of CJK letters as its overlapping character pairs (研发投入 -> 研发 发投
投入, migration 0007's history_cjk_bigrams), and a Chinese term is found by its pairs, all present,
then confirmed by LIKE on those rows (no pg_trgm needed).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, QuerySet
from django.db.models.expressions import RawSQL

from transcription.models import Job
from transcription.text import CJK, CJK_LETTERS

SEARCH_MAX_CHARS = 200  # longer queries are cut: nobody types more, and it bounds the work
SEARCH_MAX_TERMS = 8
SEARCH_PROBE_BATCH = 500  # SQLite: the newest jobs checked against the index at once...
SEARCH_PROBE_BATCHES = 4  # ...and how many such batches before asking SQLite for every match

# PostgreSQL's parser keeps "review.wav", "3.5" or "e-mail" as one token, and a run of Chinese
# (no spaces) as one token: the document splits at those marks (migration 0007's expression).
HISTORY_PG_DOCUMENT = '"transcription_job"."search_document"'
_PG_INNER_MARKS = re.compile(r"(?<=\w)[._/@-]+(?=\w)")
_PG_CJK_RUN = re.compile(f"[{CJK_LETTERS}]+")
_HAS_CJK = re.compile(f"[{CJK}]")
_TERM = re.compile(r'"([^"]*)"|(\S+)')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The unary + keeps SQLite from driving the query from the matches (a lookup and a sort per match):
# it walks the jobs in the order asked (for history, the covering index (owner_id, queued_at, id)
# of migration 0007), testing each id against the matches, and stops at the page's end.
_SQLITE_FTS_SQL = (
    '+"transcription_job"."id" IN (SELECT job_id FROM job_fts_key WHERE {owner}rid IN '
    "(SELECT rowid FROM job_fts WHERE job_fts MATCH %s))"
)
_sqlite_tokenizers: dict[str, str] = {}


def search_terms(query: str) -> list[str]:
    """The terms of a search: "quoted phrases" whole, other words split at spaces; control
    characters, terms without a letter or digit, and anything past the limits are dropped."""
    query = _CONTROL.sub(" ", (query or "")[:SEARCH_MAX_CHARS])
    terms = [" ".join((phrase or word).split()) for phrase, word in _TERM.findall(query)]
    return [t for t in terms if any(c.isalnum() for c in t)][:SEARCH_MAX_TERMS]


@dataclass(frozen=True)
class Matches:
    """The jobs that match a search. `jobs` holds every condition but SQLite's full-text match,
    `fts` (an FTS5 query, or ""), which `all` and `first` add: `first` cheaply, for a page."""

    jobs: QuerySet[Job]
    fts: str
    owner_id: int | None  # the jobs' one owner, when they all have one: narrows the index look-up

    def all(self, jobs: QuerySet[Job] | None = None) -> QuerySet[Job]:
        """`jobs` (by default `self.jobs`, or a refinement of it) narrowed to the matches."""
        jobs = self.jobs if jobs is None else jobs
        if not self.fts:
            return jobs
        owner, params = (
            ("owner_id = %s AND ", [self.owner_id, self.fts]) if self.owner_id else ("", [self.fts])
        )
        condition = RawSQL(_SQLITE_FTS_SQL.format(owner=owner), params, output_field=BooleanField())
        return jobs.filter(condition)

    def first(self, ordered: QuerySet[Job], count: int) -> QuerySet[Job]:
        """`ordered` (a refinement of `self.jobs`) cut to (at least) its first `count` matches.
        A common word matches many of the first jobs: probe them in batches, each checked against
        the index in one rowid range, which costs the same whatever the word. A rarer one: let
        SQLite walk all the jobs against its (then short) list of matches."""
        if not self.fts:
            return ordered
        candidates = ordered.values_list("id", flat=True)
        found: list[uuid.UUID] = []
        for start in range(0, SEARCH_PROBE_BATCH * SEARCH_PROBE_BATCHES, SEARCH_PROBE_BATCH):
            batch = list(candidates[start : start + SEARCH_PROBE_BATCH])
            found += self._matching(batch)
            if len(found) >= count or len(batch) < SEARCH_PROBE_BATCH:
                return ordered.filter(id__in=found[:count])
        return self.all(ordered)

    def _matching(self, job_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        if not job_ids:
            return []
        marks = ", ".join(["%s"] * len(job_ids))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT job_id, rid FROM job_fts_key WHERE job_id IN ({marks})",
                [job_id.hex for job_id in job_ids],
            )
            rids = dict(cursor.fetchall())
            if not rids:
                return []
            cursor.execute(
                "SELECT rowid FROM job_fts WHERE job_fts MATCH %s AND rowid BETWEEN %s AND %s",
                [self.fts, min(rids.values()), max(rids.values())],
            )
            matched = {rowid for (rowid,) in cursor.fetchall()}
        return [job_id for job_id in job_ids if rids.get(job_id.hex) in matched]


def matching(jobs: QuerySet[Job], terms: list[str], *, owner_id: int | None = None) -> Matches:
    """The jobs among `jobs` whose name or transcript holds every term (see `search_terms`).
    `owner_id`: the one owner all of `jobs` have, if so (the history's case), which SQLite's
    index look-up can use."""
    if not terms:
        return Matches(jobs, "", owner_id)
    if connection.vendor == "postgresql":
        return Matches(_pg_search(jobs, terms), "", owner_id)
    return _sqlite_search(jobs, terms, owner_id)


def _like_any_field(term: str) -> Q:
    return Q(original_name__icontains=term) | Q(text__icontains=term)


def _sqlite_search(jobs: QuerySet[Job], terms: list[str], owner_id: int | None) -> Matches:
    """The terms the index cannot answer as LIKE filters, and an FTS5 query for the others:
    every term an FTS5 string, so user input is never FTS syntax ("" escapes a quote)."""
    tokenizer = sqlite_fts_tokenizer()
    indexed = [t for t in terms if _sqlite_indexes(tokenizer, t)]
    for term in terms:
        if term not in indexed:
            jobs = jobs.filter(_like_any_field(term))
    return Matches(jobs, " ".join('"' + term.replace('"', '""') + '"' for term in indexed), owner_id)


def _sqlite_indexes(tokenizer: str, term: str) -> bool:
    if tokenizer == "trigram":
        return len(term) >= 3
    return tokenizer == "unicode61" and not _HAS_CJK.search(term)


def sqlite_fts_tokenizer() -> str:
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


# --- speakers ---------------------------------------------------------------------------


class _SpeakerNamed(Func):
    """True when one of the names in a job's `speakers` ({"S1": {"name": ...}, ...}) is LIKE the
    pattern, case-insensitively: the JSON's values looked at in the database, SQLite (json_each)
    and PostgreSQL (jsonb_each) alike. The column is compiled by Django, so its alias holds in a
    subquery too."""

    output_field = BooleanField()
    _SQL = {
        "sqlite": "EXISTS (SELECT 1 FROM json_each({column}) AS speaker"
        " WHERE json_extract(speaker.value, '$.name') LIKE %s ESCAPE '\\')",
        "postgresql": "EXISTS (SELECT 1 FROM jsonb_each({column}) AS speaker"
        " WHERE speaker.value->>'name' ILIKE %s ESCAPE '\\')",
    }

    def __init__(self, pattern: str) -> None:
        super().__init__(F("speakers"))
        self.pattern = pattern

    def as_sql(self, compiler, connection, **extra):
        if connection.vendor not in self._SQL:
            raise NotImplementedError(f"speaker search on {connection.vendor}")
        column, params = compiler.compile(self.source_expressions[0])
        return self._SQL[connection.vendor].format(column=column), [*params, self.pattern]


def with_speaker(jobs: QuerySet[Job], name: str) -> QuerySet[Job]:
    """The jobs among `jobs` with a speaker whose given name holds `name`, whatever its case
    ("ana" finds "Ana Lima"); unnamed speakers ("Speaker 1") have no name to find."""
    name = " ".join(name.split())
    if not name:
        return jobs
    escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return jobs.filter(_SpeakerNamed(f"%{escaped}%"))

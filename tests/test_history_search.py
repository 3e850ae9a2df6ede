"""Full-text search over transcripts (SQLite FTS5 or PostgreSQL), filters and keyset pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from transcription import search, selectors
from transcription.models import EngineProfile, Job

pytestmark = pytest.mark.django_db

SQLITE = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 index")
POSTGRES = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's GIN index")

ALICE_EN = "We went through the quarterly budget with the finance team and the AI roadmap."
ALICE_ZH = "今天的会议讨论了明年的预算安排，大家都同意增加研发投入。"
BOB_EN = "Bob's budget for the finance offsite, nothing else."
BOB_ZH = "鲍勃的预算安排和会议纪要。"

HOSTILE = [
    '"',
    '""',
    '"budget',
    "budget\"'",
    "*",
    "budget*",
    "NEAR(",
    "NEAR(budget finance)",
    'NEAR("budget" "finance", 2)',
    "OR",
    "budget OR",
    "AND NOT",
    "NOT budget",
    "(((",
    "budget)",
    "'; DROP TABLE transcription_job; --",
    "\x00budget",
    "-",
    "-budget",
    "--",
    ":",
    "text:budget",
    "original_name:budget",
    "^budget",
    "{budget}",
    "%",
    "_",
    "5%",
    "\\",
    "😀",
    "预",
    "a" * 10_000,
    "budget " * 2_000,
    "<script>alert(1)</script>",
]


def make_job(owner, *, name: str = "call.wav", text: str = "", **fields) -> Job:
    fields.setdefault("status", Job.Status.DONE)
    return Job.objects.create(owner=owner, original_name=name, text=text, **fields)


def history(user, **kwargs) -> list[Job]:
    return [row.job for row in selectors.job_history(user=user, limit=100, **kwargs).rows]


def names(user, **kwargs) -> list[str]:
    return [job.original_name for job in history(user, **kwargs)]


@pytest.fixture
def corpus(alice, bob):
    return {
        "alice_en": make_job(alice, name="Quarterly review.wav", text=ALICE_EN),
        "alice_zh": make_job(alice, name="周会.m4a", text=ALICE_ZH),
        "alice_other": make_job(alice, name="standup.wav", text="Nothing about money here."),
        "bob_en": make_job(bob, name="bob-offsite.wav", text=BOB_EN),
        "bob_zh": make_job(bob, name="鲍勃.wav", text=BOB_ZH),
    }


@pytest.mark.parametrize(
    "query, expected",
    [
        ("budget", ["Quarterly review.wav"]),
        ("BUDGET", ["Quarterly review.wav"]),
        ("finance budget", ["Quarterly review.wav"]),
        ('"quarterly budget"', ["Quarterly review.wav"]),
        ("ai", ["Quarterly review.wav"]),
        ("quarterly", ["Quarterly review.wav"]),
        ("review", ["Quarterly review.wav"]),
        ("review.wav", ["Quarterly review.wav"]),
        ("money", ["standup.wav"]),
        ("预算", ["周会.m4a"]),
        ("预算安排", ["周会.m4a"]),
        ("研发投入", ["周会.m4a"]),
        ("会议", ["周会.m4a"]),
        ("预", ["周会.m4a"]),
        ("明年的预算", ["周会.m4a"]),
        ("年预", []),
        ("投入研发", []),
        ("周会", ["周会.m4a"]),
        ("budget zebra", []),
        ("offsite", []),
        ("鲍勃", []),
    ],
)
def test_it_finds_words_in_the_users_own_transcripts_only(corpus, alice, query, expected):
    assert names(alice, query=query) == expected


def test_it_finds_bobs_words_for_bob_only(corpus, alice, bob):
    assert sorted(names(bob, query="budget")) == ["bob-offsite.wav"]
    assert names(bob, query="预算安排") == ["鲍勃.wav"]
    assert names(alice, query="offsite") == []


@pytest.mark.parametrize("query", HOSTILE)
def test_it_survives_hostile_queries(corpus, alice, client, query):
    found = history(alice, query=query)
    assert all(job.owner_id == alice.id for job in found)
    client.force_login(alice)
    response = client.get(reverse("history"), {"q": query})
    assert response.status_code == 200
    assert "bob-offsite.wav" not in response.content.decode()
    assert Job.objects.count() == 5


def test_it_treats_like_wildcards_as_text(corpus, alice):
    make_job(alice, name="discount.wav", text="We offered 5% off.")
    assert names(alice, query="5%") == ["discount.wav"]
    assert names(alice, query="e_t") == []


def test_it_shows_a_snippet_around_the_match(corpus, alice, client):
    long_text = "filler words " * 40 + "the decisive budget vote happened " + "more filler " * 40
    make_job(alice, name="long.wav", text=long_text)
    row = next(r for r in selectors.job_history(user=alice, query="decisive").rows)
    assert row.snippet.match == "decisive"
    assert row.snippet.before.startswith("…") and row.snippet.after.endswith("…")
    client.force_login(alice)
    page = client.get(reverse("history"), {"q": "预算"}).content.decode()
    assert "<mark>预算</mark>" in page


def test_it_escapes_transcripts_in_snippets(alice, client):
    make_job(alice, name="x.wav", text="say <script>alert('budget')</script> now")
    client.force_login(alice)
    page = client.get(reverse("history"), {"q": "say"}).content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_it_filters_by_status_profile_batch_and_dates(alice, bob, default_profile):
    other = EngineProfile.objects.exclude(pk=default_profile.pk).first()
    make_job(alice, name="a.wav", text="budget", profile=default_profile, options={"batch": "week-12"})
    make_job(alice, name="b.wav", text="budget", profile=other, status=Job.Status.FAILED)
    old = make_job(alice, name="c.wav", text="budget", profile=default_profile)
    Job.objects.filter(pk=old.pk).update(queued_at=timezone.now() - timedelta(days=40))
    make_job(bob, name="bob.wav", text="budget", profile=default_profile, options={"batch": "week-12"})
    today = timezone.localdate()
    assert names(alice, status="failed") == ["b.wav"]
    assert sorted(names(alice, profile=default_profile.pk)) == ["a.wav", "c.wav"]
    assert names(alice, batch="week-12") == ["a.wav"]
    assert names(alice, batch="week-12", query="budget", status="done") == ["a.wav"]
    assert sorted(names(alice, date_from=today - timedelta(days=1))) == ["a.wav", "b.wav"]
    assert names(alice, date_to=today - timedelta(days=30)) == ["c.wav"]
    assert names(alice, date_from=today, date_to=today, status="failed") == ["b.wav"]
    assert names(alice, date_from=date(2000, 1, 1), date_to=date(2000, 1, 2)) == []


def test_it_ignores_malformed_filters_in_the_page(corpus, alice, client):
    client.force_login(alice)
    for params in [
        {"date_from": "yesterday"},
        {"date_to": "2026-13-45"},
        {"profile": "x"},
        {"profile": "99999"},
        {"status": "nope"},
        {"after": "garbage"},
        {"before": "1.zz"},
        {"after": "9" * 40 + "." + "0" * 32},
        {"after": "-99999999999999999.00000000000000000000000000000000"},
        {"date_from": "0001-01-01", "date_to": "9999-12-31"},
    ]:
        response = client.get(reverse("history"), params)
        assert response.status_code == 200, params
        assert "Quarterly review.wav" in response.content.decode()


def walk(user, *, limit: int, **kwargs) -> tuple[list[Job], list[list[Job]]]:
    """Every page from the newest following `older`, then back following `newer`."""
    pages, after = [], ""
    while True:
        page = selectors.job_history(user=user, after=after, limit=limit, **kwargs)
        pages.append([row.job for row in page.rows])
        if not page.older:
            break
        after = page.older
    back, before = [], page.newer
    while before:
        page = selectors.job_history(user=user, before=before, limit=limit, **kwargs)
        back.append([row.job for row in page.rows])
        before = page.newer
    return [job for p in pages for job in p], [pages[:-1][::-1], back]


@pytest.mark.parametrize("probe", [(500, 4), (3, 2), (1, 1)], ids=["probe", "probe-then-all", "all"])
def test_it_pages_every_job_exactly_once(alice, bob, monkeypatch, probe):
    monkeypatch.setattr(search, "SEARCH_PROBE_BATCH", probe[0])
    monkeypatch.setattr(search, "SEARCH_PROBE_BATCHES", probe[1])
    now = timezone.now()
    for i in range(23):
        job = make_job(alice, name=f"a{i}.wav", text="budget" if i % 2 else "other")
        Job.objects.filter(pk=job.pk).update(queued_at=now - timedelta(minutes=i))
    same_moment = now - timedelta(minutes=5, seconds=30)
    for i in range(6):  # ties on queued_at: the id decides
        job = make_job(alice, name=f"tie{i}.wav", text="budget")
        Job.objects.filter(pk=job.pk).update(queued_at=same_moment)
    make_job(bob, name="bob.wav", text="budget")
    expected = list(Job.objects.filter(owner=alice).order_by("-queued_at", "-id"))
    for limit in (1, 4, 7, 29, 50):
        seen, (forward, backward) = walk(alice, limit=limit)
        assert seen == expected
        assert forward == backward
    for limit in (1, 4, 30):
        searched, (forward, backward) = walk(alice, limit=limit, query="budget")
        assert searched == [job for job in expected if job.text == "budget"]
        assert forward == backward
    Job.objects.filter(owner=alice, original_name__startswith="tie").update(status=Job.Status.FAILED)
    searched, _ = walk(alice, limit=4, query="budget", status="failed")
    assert [job.original_name[:3] for job in searched] == ["tie"] * 6
    assert searched == [job for job in expected if job.original_name.startswith("tie")]


def test_it_pages_through_the_page_with_older_and_newer_links(alice, client):
    import re

    for i in range(60):
        job = make_job(alice, name=f"job-{i:02d}.wav", text="budget meeting")
        Job.objects.filter(pk=job.pk).update(queued_at=timezone.now() - timedelta(hours=i))
    client.force_login(alice)
    seen, url = [], reverse("history") + "?q=budget"
    while url:
        page = client.get(url).content.decode()
        seen += re.findall(r">(job-\d\d\.wav)</a>", page)
        older = re.search(r'rel="next" href="([^"]+)"', page)
        url = reverse("history") + older.group(1).replace("&amp;", "&") if older else ""
    assert seen == [f"job-{i:02d}.wav" for i in range(60)]
    assert 'rel="prev"' in page and "q=budget" in page


def search_follows_writes(alice, bob) -> Job:
    """Write a job's text, rename it, hand it to bob, searching after each write as the index
    (SQLite) or stored document (PostgreSQL) must follow. Returns the job, now bob's."""
    job = make_job(alice, name="first.wav", text="")
    assert names(alice, query="budget") == []
    Job.objects.filter(pk=job.pk).update(text="the budget is approved")  # as job_finish writes it
    assert names(alice, query="budget") == ["first.wav"]
    Job.objects.filter(pk=job.pk).update(original_name="renamed.wav", text="研发投入 something else")
    assert names(alice, query="budget") == [] and names(alice, query="renamed") == ["renamed.wav"]
    assert names(alice, query="研发") == ["renamed.wav"]
    Job.objects.filter(pk=job.pk).update(owner=bob)
    assert names(alice, query="something") == [] and names(bob, query="something") == ["renamed.wav"]
    return job


@SQLITE
def test_it_keeps_the_sqlite_index_in_step_with_the_jobs(alice, bob):
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'job_fts_%'")
        assert sorted(r[0] for r in cursor.fetchall()) == [
            "job_fts_delete",
            "job_fts_insert",
            "job_fts_update",
        ]
    job = search_follows_writes(alice, bob)
    job.delete()
    with connection.cursor() as cursor:
        cursor.execute("SELECT (SELECT count(*) FROM job_fts), (SELECT count(*) FROM job_fts_key)")
        assert cursor.fetchone() == (0, 0)


@SQLITE
def test_it_uses_the_trigram_tokenizer_where_sqlite_has_it():
    import sqlite3

    if sqlite3.sqlite_version_info >= (3, 34):
        assert search.sqlite_fts_tokenizer() == "trigram"
    else:
        assert search.sqlite_fts_tokenizer() == "unicode61"


@POSTGRES
def test_it_uses_the_gin_index_on_postgresql(corpus, alice):
    assert names(alice, query="budget") == ["Quarterly review.wav"]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    for terms in (["budget"], ["预算安排"], ["review.wav", "-money"]):
        jobs = search._pg_search(Job.objects.all(), terms)  # the owner's index aside
        assert "transcription_job_search_gin" in jobs.explain(), terms


@POSTGRES
def test_it_keeps_the_postgresql_document_in_step_with_the_jobs(alice, bob):
    job = search_follows_writes(alice, bob)
    Job.objects.filter(pk=job.pk).update(progress=0.5)  # no new name or text: the trigger skips it
    assert names(bob, query="研发") == ["renamed.wav"]

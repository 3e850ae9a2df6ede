"""The history pages: login, ownership, bulk delete, zip downloads and clearing old jobs."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.core.files.base import ContentFile
from django.test import AsyncRequestFactory
from django.urls import reverse
from django.utils import timezone

from transcription import selectors, upkeep
from transcription.models import Job
from transcription.views import history as history_views

pytestmark = pytest.mark.django_db

Status = Job.Status


def make_job(
    owner, name: str, *, status=Status.DONE, text: str = "", batch: str = "", days_ago: int = 0
) -> Job:
    text = text or f"Transcript of {name}."
    job = Job.objects.create(
        owner=owner,
        original_name=name,
        status=status,
        text=text if status == Status.DONE else "",
        segments=[{"start": 0.0, "end": 2.5, "text": text}] if status == Status.DONE else [],
        duration=2.5,
        options={"batch": batch} if batch else {},
    )
    job.audio.save(name, ContentFile(b"RIFF fake audio"), save=True)
    if days_ago:
        Job.objects.filter(pk=job.pk).update(queued_at=timezone.now() - timedelta(days=days_ago))
        job.refresh_from_db()
    return job


def audio_path(job: Job) -> Path:
    return Path(job.audio.path)


def unzip(response) -> dict[str, bytes]:
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture
def alice_jobs(alice):
    return {
        "done": make_job(alice, "alice-done.wav", text="Alice's budget meeting."),
        "other": make_job(alice, "alice-other.wav"),
        "queued": make_job(alice, "alice-queued.wav", status=Status.QUEUED),
    }


@pytest.fixture
def bob_job(bob):
    return make_job(bob, "bob-secret.wav", text="Bob's budget meeting.", batch="week-12")


def endpoints(job_id) -> list[tuple[str, str, dict]]:
    return [
        ("get", reverse("history"), {}),
        ("get", reverse("history"), {"q": "budget"}),
        ("post", reverse("history_delete"), {"job": [job_id]}),
        ("post", reverse("history_download"), {"job": [job_id], "fmt": "txt"}),
        ("get", reverse("history_clear"), {"days": 1}),
        ("post", reverse("history_clear"), {"days": 1}),
        ("get", reverse("history_batch_export", args=["week-12", "txt"]), {}),
    ]


def test_it_sends_anonymous_visitors_to_log_in(client, bob_job):
    for method, url, data in endpoints(bob_job.id):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url
    assert Job.objects.filter(pk=bob_job.pk).exists()


def test_it_gives_a_user_nothing_of_anothers(
    client, alice, alice_jobs, bob, bob_job, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    alices = alice_jobs["done"]
    for method, url, data in endpoints(bob_job.id):
        with django_capture_on_commit_callbacks(execute=True):
            response = getattr(client, method)(url, data)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"bob-secret" not in body and b"Bob's budget" not in body, url
        assert response.status_code in (200, 302, 404), url
    assert Job.objects.filter(pk=bob_job.pk).exists() and audio_path(bob_job).exists()
    assert Job.objects.filter(pk=alices.pk).exists()


def test_it_lists_the_users_jobs_with_their_details(client, alice, alice_jobs, bob_job):
    client.force_login(alice)
    response = client.get(reverse("history"))
    page = response.content.decode()
    assert response.status_code == 200
    for job in alice_jobs.values():
        assert reverse("job_detail", args=[job.id]) in page and f'value="{job.id}"' in page
    assert "bob-secret.wav" not in page
    assert "Alice&#x27;s budget meeting." in page and "2.5 s" in page
    assert f'href="{reverse("history")}">History</a>' in page


def test_it_offers_the_batch_export_when_filtering_by_batch(client, bob, bob_job):
    client.force_login(bob)
    page = client.get(reverse("history"), {"batch": "week-12"}).content.decode()
    assert reverse("history_batch_export", args=["week-12", "srt"]) in page


def test_it_deletes_only_the_users_own_selected_jobs_and_their_files(
    client, alice, alice_jobs, bob_job, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    chosen = [alice_jobs["done"], alice_jobs["queued"]]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("history_delete"),
            {"job": [str(j.id) for j in chosen] + [str(bob_job.id), "not-a-uuid"], "next": "/history/?q=x"},
        )
    assert response.status_code == 302 and response.url == "/history/?q=x"
    assert not Job.objects.filter(pk__in=[j.pk for j in chosen]).exists()
    assert not any(audio_path(j).exists() for j in chosen)
    assert Job.objects.filter(pk=alice_jobs["other"].pk).exists() and audio_path(alice_jobs["other"]).exists()
    assert Job.objects.filter(pk=bob_job.pk).exists() and audio_path(bob_job).exists()


def test_it_never_redirects_elsewhere_after_a_delete(client, alice, alice_jobs):
    client.force_login(alice)
    response = client.post(reverse("history_delete"), {"job": [], "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == reverse("history")


def test_it_deletes_in_bulk_through_the_service(alice, bob, django_capture_on_commit_callbacks):
    mine = [make_job(alice, f"a{i}.wav") for i in range(3)]
    theirs = make_job(bob, "b.wav")
    with django_capture_on_commit_callbacks(execute=True):
        assert upkeep.jobs_delete(user=alice, job_ids=[str(j.id) for j in [*mine, theirs]]) == 3
    assert list(Job.objects.all()) == [theirs]
    assert upkeep.jobs_delete(user=bob, job_ids=[]) == 0


def test_it_downloads_the_selected_finished_jobs_as_a_zip(client, alice, alice_jobs, bob_job):
    client.force_login(alice)
    ids = [str(alice_jobs[k].id) for k in ("done", "other", "queued")] + [str(bob_job.id)]
    response = client.post(reverse("history_download"), {"job": ids, "fmt": "srt"})
    assert "transcripts-srt.zip" in response["Content-Disposition"]
    files = unzip(response)
    assert sorted(files) == ["alice-done.srt", "alice-other.srt"]
    assert b"Alice's budget meeting." in files["alice-done.srt"] and b"-->" in files["alice-done.srt"]


@pytest.mark.parametrize("fmt", ["txt", "vtt", "json", "docx"])
def test_it_zips_every_format(client, alice, alice_jobs, fmt):
    client.force_login(alice)
    files = unzip(client.post(reverse("history_download"), {"job": [alice_jobs["done"].id], "fmt": fmt}))
    assert list(files) == [f"alice-done.{fmt}"]
    if fmt == "json":
        assert json.loads(files["alice-done.json"])["text"] == "Alice's budget meeting."


def test_it_refuses_an_unknown_format_or_an_empty_selection(client, alice, alice_jobs, bob_job):
    client.force_login(alice)
    assert (
        client.post(reverse("history_download"), {"job": [alice_jobs["done"].id], "fmt": "pdf"}).status_code
        == 404
    )
    for ids in ([], [bob_job.id], [alice_jobs["queued"].id]):
        response = client.post(reverse("history_download"), {"job": ids, "fmt": "txt"})
        assert response.status_code == 302 and not response.streaming


def test_it_exports_a_whole_batch_of_the_users_own_jobs(client, alice, bob, bob_job):
    make_job(alice, "one.wav", batch="week-12")
    make_job(alice, "two.wav", batch="week-12")
    make_job(alice, "failed.wav", batch="week-12", status=Status.FAILED)
    make_job(alice, "elsewhere.wav", batch="week-13")
    client.force_login(alice)
    response = client.get(reverse("history_batch_export", args=["week-12", "txt"]))
    assert "week-12-transcripts-txt.zip" in response["Content-Disposition"]
    assert sorted(unzip(response)) == ["one.txt", "two.txt"]
    client.force_login(bob)
    assert sorted(unzip(client.get(reverse("history_batch_export", args=["week-12", "vtt"])))) == [
        "bob-secret.vtt"
    ]


def test_it_exports_batches_with_awkward_names(client, alice):
    make_job(alice, "a.wav", batch="team/a b?#")
    client.force_login(alice)
    url = reverse("history_batch_export", args=["team/a b?#", "txt"])
    assert sorted(unzip(client.get(url))) == ["a.txt"]
    assert client.get(reverse("history_batch_export", args=["team", "txt"])).status_code == 404


def test_it_answers_404_for_a_batch_that_is_not_the_users(client, alice, bob_job):
    client.force_login(alice)
    assert client.get(reverse("history_batch_export", args=["week-12", "txt"])).status_code == 404
    assert client.get(reverse("history_batch_export", args=["nothing", "txt"])).status_code == 404
    make_job(alice, "a.wav", batch="mine")
    assert client.get(reverse("history_batch_export", args=["mine", "exe"])).status_code == 404


def test_it_streams_the_zip_under_asgi(alice, alice_jobs):
    request = AsyncRequestFactory().post(
        reverse("history_download"), {"job": [str(alice_jobs["done"].id)], "fmt": "txt"}
    )
    request.user = alice
    response = history_views.history_download(request)
    assert response.is_async

    async def body() -> bytes:
        return b"".join([chunk async for chunk in response])

    with zipfile.ZipFile(io.BytesIO(async_to_sync(body)())) as archive:
        assert archive.namelist() == ["alice-done.txt"]


def test_it_clears_only_the_users_old_finished_jobs(client, alice, bob, django_capture_on_commit_callbacks):
    old_done = make_job(alice, "old-done.wav", days_ago=100)
    old_failed = make_job(alice, "old-failed.wav", status=Status.FAILED, days_ago=100)
    old_running = make_job(alice, "old-running.wav", status=Status.RUNNING, days_ago=100)
    recent = make_job(alice, "recent.wav", days_ago=5)
    bobs_old = make_job(bob, "bob-old.wav", days_ago=100)
    client.force_login(alice)
    confirm = client.get(reverse("history_clear"), {"days": 30}).content.decode()
    assert "<strong>2</strong> finished jobs" in confirm and 'name="days" value="30"' in confirm
    assert Job.objects.count() == 5
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("history_clear"), {"days": 30})
    assert response.status_code == 302 and response.url == reverse("history")
    assert set(Job.objects.all()) == {old_running, recent, bobs_old}
    assert not audio_path(old_done).exists() and not audio_path(old_failed).exists()
    assert audio_path(bobs_old).exists() and audio_path(recent).exists()
    assert "Nothing to delete" in client.get(reverse("history_clear"), {"days": 30}).content.decode()


@pytest.mark.parametrize("days", ["", "0", "-3", "abc", "9999999999"])
def test_it_refuses_a_bad_number_of_days(client, alice, days):
    make_job(alice, "old.wav", days_ago=100)
    client.force_login(alice)
    for method in ("get", "post"):
        response = getattr(client, method)(reverse("history_clear"), {"days": days})
        assert response.status_code == 302 and response.url == reverse("history")
    assert Job.objects.count() == 1


def test_it_counts_what_clearing_would_delete(alice, bob):
    make_job(alice, "old.wav", days_ago=10)
    make_job(alice, "new.wav", days_ago=1)
    make_job(bob, "bob.wav", days_ago=10)
    assert selectors.jobs_older_than_count(user=alice, days=5) == 1
    assert selectors.jobs_older_than_count(user=bob, days=20) == 0
    with pytest.raises(ValueError):
        upkeep.jobs_clear_older_than(user=alice, days=-1)


def test_it_makes_a_streamed_zip_in_the_users_language(client, alice):
    """The zip is made while it is sent, after the view has returned: its speakers are still named in
    the language the page is in."""
    job = Job.objects.create(
        owner=alice,
        original_name="meeting.wav",
        status=Job.Status.DONE,
        text="我们开始吧。好的。",
        speakers={"S1": {"name": ""}, "S2": {"name": "", "role": "customer"}},
        segments=[
            {"start": 0.0, "end": 1.0, "text": "我们开始吧。", "speaker": "S1"},
            {"start": 1.5, "end": 2.0, "text": "好的。", "speaker": "S2"},
        ],
    )
    from django.test import RequestFactory
    from django.utils import translation

    request = RequestFactory().post(reverse("history_download"), {"job": [str(job.id)], "fmt": "txt"})
    request.user = alice
    with translation.override("zh-hans"):  # the page's language, while the view runs
        response = history_views.history_download(request)
    with translation.override("en"):  # another request's, by the time the body is made
        (text,) = unzip(response).values()
    assert "说话人 1: 我们开始吧。" in text.decode() and "客户: 好的。" in text.decode()

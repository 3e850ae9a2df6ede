"""Each surface that shows, plays, exports, edits or deletes a transcript records it in the audit
log, as the person who asked and through the surface they used; someone else's job answers 404
and records nothing."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api import services as token_services
from audit.models import AuditEvent
from audit.services import VIEW_WINDOW
from llm.models import Summary
from transcription.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]


def make_job(owner, name: str = "会议.wav", *, batch: str = "") -> Job:
    job = Job.objects.create(
        owner=owner,
        original_name=name,
        status=Job.Status.DONE,
        text="Hello there. Hi.",
        segments=[
            {"start": 0.0, "end": 1.0, "text": "Hello there.", "speaker": "S1"},
            {"start": 1.0, "end": 2.0, "text": "Hi.", "speaker": "S2"},
        ],
        speakers={"S1": {"name": ""}, "S2": {"name": ""}},
        duration=2.0,
        options={"batch": batch} if batch else {},
    )
    job.audio.save("a.wav", ContentFile(b"RIFF" + bytes(2000)), save=True)
    return job


def events() -> list[tuple[str, str, str, str]]:
    """(who, action, job name, via) of every event, oldest first."""
    rows = AuditEvent.objects.order_by("when", "pk").values_list(
        "actor_username", "action", "job_name", "via"
    )
    return list(rows)


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_services.token_create(user=user, name='t').plain}")
    return client


@pytest.fixture
def job(alice):
    return make_job(alice)


def test_it_records_a_view_of_the_job_page_once_and_shows_the_owner_its_activity(client, alice, bob, job):
    client.force_login(alice)
    url = reverse("job_detail", args=[job.pk])
    page = client.get(url).content.decode()
    client.get(url)
    assert events() == [("alice", "viewed", "会议.wav", "page")]
    assert 'id="activity"' in page and "<details>" in page and "viewed</td>" in page
    client.force_login(bob)
    assert client.get(url).status_code == 404
    assert len(events()) == 1


def test_it_records_a_play_once_and_not_the_players_seeks(client, alice, job):
    client.force_login(alice)
    url = reverse("job_audio", args=[job.pk])
    assert client.get(url).status_code == 200
    assert client.get(url, HTTP_RANGE="bytes=1000-").status_code == 206
    assert events() == [("alice", "played", "会议.wav", "page")]
    AuditEvent.objects.update(when=timezone.now() - VIEW_WINDOW)  # a play is news again later
    assert client.get(url, HTTP_RANGE="bytes=0-").status_code == 206
    assert client.get(url, HTTP_RANGE="bytes=0-").status_code == 206  # the player's preload, refreshed
    assert events() == [("alice", "played", "会议.wav", "page")] * 2


def test_it_records_an_export_with_its_format(client, alice, job):
    client.force_login(alice)
    assert client.get(reverse("job_export", args=[job.pk, "srt"])).status_code == 200
    assert client.get(reverse("job_export", args=[job.pk, "nope"])).status_code == 404
    assert list(AuditEvent.objects.values_list("action", "detail")) == [("exported", "srt")]


def test_it_records_edits_of_a_segment_and_of_the_speakers(client, alice, job):
    client.force_login(alice)
    client.post(reverse("segment_edit", args=[job.pk, 1]), {"text": "Hello."})
    client.post(reverse("segment_edit", args=[job.pk, 9]), {"text": "refused"})  # no such segment
    client.post(reverse("speaker_rename", args=[job.pk, "S1"]), {"name": "王经理"})
    client.post(reverse("speaker_merge", args=[job.pk, "S2"]), {"into": "S1"})
    details = list(AuditEvent.objects.order_by("pk").values_list("action", "detail"))
    assert details == [("edited", "segment 2"), ("edited", "speaker renamed"), ("edited", "speakers merged")]


def test_it_records_a_deletion_that_outlives_the_job(client, alice, job):
    client.force_login(alice)
    client.post(reverse("job_delete", args=[job.pk]))
    assert not Job.objects.exists()
    assert events() == [("alice", "deleted", "会议.wav", "page")]
    assert AuditEvent.objects.get().job_id == job.pk


def test_it_records_one_export_per_job_downloaded_from_the_history(client, alice, bob):
    jobs = [make_job(alice, "one.wav", batch="week-12"), make_job(alice, "two.wav", batch="week-12")]
    theirs = make_job(bob, "theirs.wav")
    client.force_login(alice)
    selected = {"job": [str(j.pk) for j in [*jobs, theirs]], "fmt": "txt"}
    b"".join(client.post(reverse("history_download"), selected).streaming_content)
    b"".join(client.get(reverse("history_batch_export", args=["week-12", "vtt"])).streaming_content)
    rows = set(AuditEvent.objects.values_list("job_name", "action", "detail"))
    assert rows == {
        ("one.wav", "exported", "txt (zip)"),
        ("two.wav", "exported", "txt (zip)"),
        ("one.wav", "exported", "vtt (zip of batch week-12)"),
        ("two.wav", "exported", "vtt (zip of batch week-12)"),
    }


def test_it_records_one_deletion_per_job_deleted_from_the_history(client, alice, bob):
    one, two, three = (make_job(alice, f"{n}.wav") for n in ("one", "two", "three"))
    theirs = make_job(bob, "theirs.wav")
    Job.objects.filter(pk=three.pk).update(queued_at=three.queued_at.replace(year=2000))
    client.force_login(alice)
    client.post(reverse("history_delete"), {"job": [str(one.pk), str(theirs.pk)]})
    client.post(reverse("history_clear"), {"days": 30})
    assert set(AuditEvent.objects.values_list("job_name", "action", "detail")) == {
        ("one.wav", "deleted", ""),
        ("three.wav", "deleted", "older than 30 day(s)"),
    }
    assert set(Job.objects.values_list("original_name", flat=True)) == {"two.wav", "theirs.wav"}


def test_it_records_the_download_of_a_summary(client, alice, job):
    Summary.objects.create(job=job, template_name="Meeting minutes", status="done", text="- agreed")
    client.force_login(alice)
    assert client.get(reverse("summary_download", args=[job.pk])).status_code == 200
    assert list(AuditEvent.objects.values_list("action", "detail")) == [("exported", "summary md")]


def test_it_records_what_the_api_shows_exports_edits_and_deletes(alice, job):
    api = api_for(alice)
    base = f"/api/v1/jobs/{job.pk}/"
    assert api.get(base).status_code == 200
    assert api.get(base).status_code == 200  # a client polling is one view
    assert api.get(f"{base}export/", {"format": "json"}).status_code == 200
    assert api.post(f"{base}speakers/S1/rename/", {"name": "Ann"}, format="json").status_code == 200
    assert api.delete(base).status_code == 204
    rows = list(AuditEvent.objects.order_by("pk").values_list("action", "detail", "via", "actor_username"))
    assert rows == [
        ("viewed", "", "api", "alice"),
        ("exported", "json", "api", "alice"),
        ("edited", "speaker rename", "api", "alice"),
        ("deleted", "", "api", "alice"),
    ]


PAGES = [
    ("get", "job_detail", []),
    ("get", "job_audio", []),
    ("get", "job_export", ["txt"]),
    ("post", "segment_edit", [0]),
    ("post", "speaker_rename", ["S1"]),
    ("post", "speaker_merge", ["S2"]),
    ("post", "job_delete", []),
    ("get", "summary_download", []),
]


@pytest.mark.parametrize(("method", "name", "args"), PAGES)
def test_it_answers_404_and_records_nothing_for_someone_elses_job(client, bob, job, method, name, args):
    Summary.objects.create(job=job, template_name="Meeting minutes", status="done", text="- agreed")
    client.force_login(bob)
    data = {"text": "mine now", "name": "Bob", "into": "S1"} if method == "post" else {}
    response = getattr(client, method)(reverse(name, args=[job.pk, *args]), data)
    assert response.status_code == 404
    assert not AuditEvent.objects.exists() and Job.objects.filter(pk=job.pk).exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", ""), ("get", "export/?format=txt"), ("delete", ""), ("post", "speakers/S1/rename/")],
)
def test_it_answers_404_and_records_nothing_for_someone_elses_job_in_the_api(bob, job, method, path):
    response = getattr(api_for(bob), method)(
        f"/api/v1/jobs/{job.pk}/{path}", {"name": "Bob"} if method == "post" else None
    )
    assert response.status_code == 404
    assert not AuditEvent.objects.exists() and Job.objects.filter(pk=job.pk).exists()

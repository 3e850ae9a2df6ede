"""The jobs API: upload, follow, list and search, cancel, retry, delete and export, through the
real worker; and nobody reaches another user's job (404), except staff reading."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from api import services as token_services
from hotwords.models import HotwordList
from tests.conftest import english_clips, run_worker, upload_of
from transcription import services
from transcription.models import EngineProfile, Job
from transcription.shipped_profiles import WHISPER_BASE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]

JOBS = "/api/v1/jobs/"
CLIPS = english_clips()
CLIP, REFERENCE = next(iter(CLIPS.items()))
CLIP = Path(CLIP)


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_services.token_create(user=user, name='t').plain}")
    return client


def job_url(job, action: str = "") -> str:
    return f"{JOBS}{job.id}/" + (f"{action}/" if action else "")


@pytest.fixture
def upload(django_capture_on_commit_callbacks):
    """POST a multipart upload; the jobs are enqueued as the request commits."""

    def post(client, data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(JOBS, data, format="multipart")

    return post


@pytest.fixture
def alices_job(alice, default_profile):
    return services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP, "alice.wav"))


def test_it_transcribes_an_upload_and_shows_the_transcript(alice, upload, default_profile):
    api = api_for(alice)
    response = upload(
        api,
        {"file": upload_of(CLIP), "name": "Board meeting", "batch": "march", "hotwords": "Dashwood, Norland",
         "itn": "false"},
    )  # fmt: skip
    assert response.status_code == 201
    (created,) = response.json()["jobs"]
    assert created["status"] == "queued" and created["name"] == "Board meeting"
    assert created["url"] == f"http://testserver{JOBS}{created['id']}/"
    run_worker()
    job = api.get(created["url"]).json()
    assert job["status"] == "done" and job["progress"] == 1.0 and job["error"] == ""
    assert {"dashwood", "leisure", "prudently"} <= set(job["text"].lower().replace(",", "").split())
    assert job["segments"] and all(s["start"] < s["end"] for s in job["segments"])
    assert job["duration"] > 5 and job["processing_seconds"] > 0 and job["real_time_factor"] > 0
    assert job["profile"] == default_profile.name and job["batch"] == "march"
    options = job["options"]
    assert options["itn"] is False and options["batch"] == "march"
    assert [h["phrase"] for h in options["hotwords"]] == ["Dashwood", "Norland"]
    assert job["raw_text"] and job["started_at"] and job["finished_at"] and job["owner"] == "alice"


def test_it_makes_one_job_per_file(alice, upload):
    files = [upload_of(Path(p)) for p in list(CLIPS)[:2]]
    response = upload(api_for(alice), {"files": files, "batch": "b1"})
    assert response.status_code == 201 and len(response.json()["jobs"]) == 2
    assert sorted(Job.objects.filter(owner=alice).values_list("original_name", flat=True)) == sorted(
        f.name for f in files
    )


def test_it_picks_the_profile_by_name_or_id_and_refuses_others(alice, upload, default_profile):
    api = api_for(alice)
    for ref in (default_profile.name, str(default_profile.pk)):
        response = upload(api, {"file": upload_of(CLIP), "profile": ref})
        assert response.json()["jobs"][0]["profile"] == default_profile.name
    hidden = EngineProfile.objects.filter(is_default=False).first()  # needs a model not installed
    for ref in ("no such model", hidden.name):
        response = upload(api, {"file": upload_of(CLIP), "profile": ref})
        assert response.status_code == 400
        assert response.json()["profile"] == [
            f"Unknown profile '{ref}'. Choose one of: {default_profile.name}, {WHISPER_BASE}."
        ]
    assert Job.objects.count() == 2


def test_it_applies_only_hotword_lists_the_user_may_use(alice, bob, upload):
    own = HotwordList.objects.create(owner=alice, name="mine")
    own.entries.create(phrase="Marianne")
    bobs = HotwordList.objects.create(owner=bob, name="bob's")
    response = upload(api_for(alice), {"file": upload_of(CLIP), "hotword_lists": [own.pk, bobs.pk]})
    assert response.status_code == 400
    assert response.json()["hotword_lists"] == [f"Hotword list {bobs.pk} is not available to you."]
    response = upload(api_for(alice), {"file": upload_of(CLIP), "hotword_lists": [own.pk]})
    job = response.json()["jobs"][0]
    assert job["hotword_lists"] == [own.pk] and job["options"]["hotwords"] == [
        {"phrase": "Marianne", "weight": 20}
    ]


def test_it_refuses_an_upload_over_the_size_limit(alice, upload, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    response = upload(api_for(alice), {"file": upload_of(CLIP, "long.wav")})
    assert response.status_code == 413
    assert (
        response.json()["detail"].startswith("long.wav is ")
        and "the limit is 1.0\xa0KB" in response.json()["detail"]
    )
    assert not Job.objects.exists()


def test_it_refuses_a_request_without_a_file_or_a_valid_callback(alice, upload):
    api = api_for(alice)
    response = upload(api, {"name": "nothing"})
    assert response.status_code == 400 and "file" in response.json()
    response = upload(api, {"file": upload_of(CLIP), "callback_url": "file:///etc/passwd"})
    assert response.status_code == 400 and "callback_url" in response.json()
    response = upload(api, {"file": upload_of(CLIP), "callback_url": "https://example.com/hook"})
    assert Job.objects.get(id=response.json()["jobs"][0]["id"]).callback_url == "https://example.com/hook"


def test_it_filters_and_searches_the_list(alice, default_profile):
    def make(name, batch="", status=Job.Status.QUEUED, text=""):
        job = services.job_create(
            owner=alice, profile=default_profile, upload=upload_of(CLIP, name), batch=batch
        )
        Job.objects.filter(id=job.id).update(status=status, text=text)
        return job

    make("monday.wav", batch="week1", status=Job.Status.DONE, text="the quarterly budget")
    make("tuesday.wav", batch="week1")
    old = make("archive.wav", batch="week0", status=Job.Status.FAILED)
    Job.objects.filter(id=old.id).update(queued_at=timezone.now() - timedelta(days=10))
    api = api_for(alice)

    def names(**query):
        response = api.get(JOBS, query)
        assert response.status_code == 200, response.json()
        return sorted(j["name"] for j in response.json()["results"])

    assert names() == ["archive.wav", "monday.wav", "tuesday.wav"]
    assert names(status="done") == ["monday.wav"]
    assert names(batch="week1") == ["monday.wav", "tuesday.wav"]
    assert names(profile=default_profile.name) == names(profile=str(default_profile.pk)) == names()
    assert names(profile="other") == []
    cutoff = (timezone.now() - timedelta(days=1)).isoformat()
    assert names(created_before=cutoff) == ["archive.wav"]
    assert names(created_after=cutoff) == ["monday.wav", "tuesday.wav"]
    # The history's full-text search: whole words, any case, name and transcript, all terms.
    assert names(search="TUESDAY") == ["tuesday.wav"]
    assert names(search="Budget") == ["monday.wav"]
    assert names(search="quarterly budget") == ["monday.wav"]
    assert names(search="budget tuesday") == []
    assert api.get(JOBS, {"status": "lost"}).status_code == 400
    assert api.get(JOBS, {"created_after": "yesterday"}).status_code == 400


def test_it_paginates_the_list(alice, default_profile):
    for i in range(3):
        services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP, f"{i}.wav"))
    api = api_for(alice)
    first = api.get(JOBS, {"page_size": 2}).json()
    assert first["count"] == 3 and [j["name"] for j in first["results"]] == ["2.wav", "1.wav"]
    second = api.get(first["next"]).json()
    assert [j["name"] for j in second["results"]] == ["0.wav"] and second["next"] is None


def test_it_cancels_a_queued_job_which_then_never_runs(alice, upload):
    api = api_for(alice)
    created = upload(api, {"file": upload_of(CLIP)}).json()["jobs"][0]
    response = api.post(f"{created['url']}cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "failed" and response.json()["error"] == "Cancelled by the user."
    run_worker()
    job = Job.objects.get(id=created["id"])
    assert job.status == Job.Status.FAILED and job.text == "" and job.started_at is None
    response = api.post(f"{created['url']}cancel/")
    assert response.status_code == 409 and "this one is failed" in response.json()["detail"]


def test_it_cancels_a_running_job_whose_finish_then_changes_nothing(alice, alices_job):
    from transcription.postprocess import Result

    running, _ = services.job_claim(job_id=str(alices_job.id))  # a worker has taken it
    response = api_for(alice).post(job_url(alices_job, "cancel"))
    assert response.status_code == 200 and response.json()["status"] == "failed"
    services.job_finish(
        job=running, result=Result("late words", "late words", "en"), duration=9, processing_seconds=1
    )
    alices_job.refresh_from_db()
    assert alices_job.status == Job.Status.FAILED and alices_job.text == ""


def test_it_retries_a_failed_job_through_the_worker(alice, upload, django_capture_on_commit_callbacks):
    api = api_for(alice)
    created = upload(api, {"file": upload_of(CLIP)}).json()["jobs"][0]
    api.post(f"{created['url']}cancel/")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{created['url']}retry/")
    assert response.status_code == 200
    assert response.json()["status"] == "queued" and response.json()["error"] == ""
    run_worker()
    job = api.get(created["url"]).json()
    assert job["status"] == "done" and "dashwood" in job["text"].lower()
    response = api.post(f"{created['url']}retry/")
    assert response.status_code == 409 and "this one is done" in response.json()["detail"]


def test_it_refuses_to_retry_with_a_model_since_restricted(alice, upload, default_profile):
    api = api_for(alice)
    created = upload(api, {"file": upload_of(CLIP)}).json()["jobs"][0]
    api.post(f"{created['url']}cancel/")
    EngineProfile.objects.update(user_selectable=False)  # the default and every other installed model
    assert upload(api, {"file": upload_of(CLIP)}).status_code == 400  # as a new upload would be
    response = api.post(f"{created['url']}retry/")
    assert response.status_code == 409 and "not available any more" in response.json()["detail"]
    assert api.get(created["url"]).json()["status"] == "failed"


def test_it_deletes_a_job_and_its_audio(alice, alices_job, django_capture_on_commit_callbacks):
    path = Path(alices_job.audio.path)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(alice).delete(job_url(alices_job))
    assert response.status_code == 204
    assert not Job.objects.filter(id=alices_job.id).exists() and not path.exists()


def test_it_exports_a_finished_job_in_every_format(alice, upload):
    api = api_for(alice)
    created = upload(api, {"file": upload_of(CLIP), "name": "Chapter 1.wav"}).json()["jobs"][0]
    run_worker()
    export = f"{created['url']}export/"
    expected = {
        "txt": "text/plain; charset=utf-8",
        "srt": "application/x-subrip; charset=utf-8",
        "vtt": "text/vtt; charset=utf-8",
        "json": "application/json",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
    files = {}
    for fmt, content_type in expected.items():
        response = api.get(export, {"format": fmt})
        assert response.status_code == 200 and response["Content-Type"] == content_type
        assert response["Content-Disposition"] == f'attachment; filename="Chapter 1.{fmt}"'
        files[fmt] = response.content
    assert b"dashwood" in files["txt"].lower()
    assert b" --> " in files["srt"] and files["vtt"].startswith(b"WEBVTT")
    assert json.loads(files["json"])["id"] == created["id"] and files["docx"].startswith(b"PK")
    assert api.get(export).content == files["txt"]  # txt by default
    assert api.get(export, {"format": "txt", "raw": "true"}).status_code == 200


def test_it_refuses_to_export_an_unfinished_job_or_an_unknown_format(alice, alices_job):
    api = api_for(alice)
    response = api.get(job_url(alices_job, "export"), {"format": "txt"})
    assert response.status_code == 409 and response.json()["detail"].startswith("The job is queued")
    response = api.get(job_url(alices_job, "export"), {"format": "pdf"})
    assert response.status_code == 400 and "format" in response.json()


@pytest.mark.parametrize(
    "method, action",
    [("get", ""), ("post", "cancel"), ("post", "retry"), ("delete", ""), ("get", "export")],
)
def test_it_answers_404_for_another_users_job(alice, bob, alices_job, method, action):
    Job.objects.filter(id=alices_job.id).update(
        status=Job.Status.DONE, text="secret"
    )  # every action possible
    response = getattr(api_for(bob), method)(job_url(alices_job, action))
    assert response.status_code == 404 and response.json() == {"detail": "No such job."}
    alices_job.refresh_from_db()
    assert alices_job.status == Job.Status.DONE


def test_it_lists_only_the_users_own_jobs(alice, bob, alices_job, default_profile):
    services.job_create(owner=bob, profile=default_profile, upload=upload_of(CLIP, "bob.wav"))
    assert [j["name"] for j in api_for(bob).get(JOBS).json()["results"]] == ["bob.wav"]
    assert [j["name"] for j in api_for(bob).get(JOBS, {"search": "alice"}).json()["results"]] == []


def test_it_shows_staff_every_users_jobs_but_lets_only_owners_change_them(alice, bob, alices_job):
    bob.is_staff = True
    bob.save()
    staff = api_for(bob)
    assert [j["owner"] for j in staff.get(JOBS).json()["results"]] == ["alice"]
    assert staff.get(job_url(alices_job)).json()["name"] == "alice.wav"
    assert staff.post(job_url(alices_job, "cancel")).status_code == 404
    assert staff.delete(job_url(alices_job)).status_code == 404


def test_it_requires_a_token(alices_job):
    for response in [APIClient().get(JOBS), APIClient().get(job_url(alices_job)), APIClient().post(JOBS, {})]:
        assert response.status_code == 401


def test_it_lists_the_profiles_the_user_may_pick(alice, default_profile):
    response = api_for(alice).get("/api/v1/profiles/")
    assert response.status_code == 200
    tiny, base = response.json()  # the two that ship with their models: nothing else is installed
    assert tiny == {
        "id": default_profile.pk,
        "name": default_profile.name,
        "description": default_profile.description,
        "engine": "faster-whisper",
        "language": default_profile.language,
        "languages": ["en"],
        "itn_default": default_profile.itn_default,
        "diarize_default": False,
        "is_default": True,
    }
    assert base["name"] == WHISPER_BASE and base["language"] == "" and base["itn_default"] is True
    assert base["languages"][:2] == ["en", "zh"] and len(base["languages"]) == 99


def test_it_uses_the_tokens_default_webhook_unless_the_job_names_one(alice, upload):
    api = APIClient()
    token = token_services.token_create(
        user=alice, name="crm", default_callback_url="https://hooks.example.com/a"
    )
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token.plain}")
    assert upload(api, {"file": upload_of(CLIP)}).status_code == 201
    explicit = {"file": upload_of(CLIP), "callback_url": "https://hooks.example.com/b"}
    assert upload(api, explicit).status_code == 201
    session = APIClient()
    session.force_login(alice)
    assert upload(session, {"file": upload_of(CLIP)}).status_code == 201
    assert [j.callback_url for j in Job.objects.order_by("queued_at")] == [
        "https://hooks.example.com/a",
        "https://hooks.example.com/b",
        "",
    ]

"""Pages and the audio download: login required, and nobody sees another user's jobs."""

from pathlib import Path

import pytest
from django.urls import reverse

from tests.conftest import english_clips, upload_of
from transcription import services
from transcription.models import EngineProfile, Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]

CLIP = Path(next(iter(english_clips())))


@pytest.fixture
def alices_job(alice, default_profile):
    return services.job_create(
        owner=alice, profile=default_profile, upload=upload_of(CLIP, "alice-meeting.wav")
    )


def test_it_requires_login_everywhere(client, alices_job):
    for url in [
        reverse("dashboard"),
        reverse("job_detail", args=[alices_job.id]),
        reverse("job_audio", args=[alices_job.id]),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
    response = client.post(reverse("job_upload"), {"files": [upload_of(CLIP)]})
    assert response.status_code == 302 and not Job.objects.exclude(id=alices_job.id).exists()


def test_it_logs_in_with_a_password(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "alice-pass"})
    assert response.status_code == 302 and response.url == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200


def test_it_lists_only_the_users_own_jobs(client, alices_job, bob, default_profile):
    services.job_create(owner=bob, profile=default_profile, upload=upload_of(CLIP, "bob-call.wav"))
    client.force_login(bob)
    page = client.get(reverse("dashboard")).content.decode()
    assert "bob-call.wav" in page and "alice-meeting.wav" not in page


def test_it_shows_the_owner_their_job(client, alice, alices_job):
    client.force_login(alice)
    response = client.get(reverse("job_detail", args=[alices_job.id]))
    assert response.status_code == 200
    assert "alice-meeting.wav" in response.content.decode()


@pytest.mark.parametrize("name", ["job_detail", "job_audio"])
def test_it_hides_a_job_from_other_users(client, alices_job, bob, name):
    client.force_login(bob)
    assert client.get(reverse(name, args=[alices_job.id])).status_code == 404


def test_it_refuses_to_delete_another_users_job(client, alices_job, bob):
    client.force_login(bob)
    assert client.post(reverse("job_delete", args=[alices_job.id])).status_code == 404
    assert Job.objects.filter(id=alices_job.id).exists()


def test_it_serves_audio_to_the_owner_inline(client, alice, alices_job):
    client.force_login(alice)
    response = client.get(reverse("job_audio", args=[alices_job.id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/x-wav"
    assert b"".join(response.streaming_content) == CLIP.read_bytes()


def test_it_never_serves_an_upload_as_a_web_page(client, alice, default_profile):
    from django.core.files.uploadedfile import SimpleUploadedFile

    job = services.job_create(
        owner=alice,
        profile=default_profile,
        upload=SimpleUploadedFile("evil.html", b"<script>alert(1)</script>"),
    )
    client.force_login(alice)
    response = client.get(reverse("job_audio", args=[job.id]))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")


def test_it_stores_uploads_under_our_own_name(client, alice):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(alice)
    client.post(reverse("job_upload"), {"files": [SimpleUploadedFile("../../etc/x\x07.wav", b"RIFF")]})
    job = Job.objects.get()
    assert job.audio.name == f"audio/{alice.id}/{job.id}.wav"
    assert Path(job.audio.path).is_relative_to(Path(job.audio.storage.location))


def test_it_uploads_several_files_and_answers_json(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("job_upload"),
        {
            "files": [upload_of(CLIP, "a.wav"), upload_of(CLIP, "b.wav")],
            "hotwords": "Dashwood, Norland\nElinor",
        },
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 201
    assert sorted(j["name"] for j in response.json()["jobs"]) == ["a.wav", "b.wav"]
    job = Job.objects.get(original_name="a.wav")
    assert job.status == Job.Status.QUEUED
    assert [h["phrase"] for h in job.options["hotwords"]] == ["Dashwood", "Norland", "Elinor"]
    assert job.duration == pytest.approx(7.1, abs=0.01)  # from the header, before decoding


def test_it_refuses_files_over_the_size_limit(client, alice, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    client.force_login(alice)
    response = client.post(
        reverse("job_upload"), {"files": [upload_of(CLIP)]}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 400
    assert "the limit is 1000" in response.json()["errors"][0]
    assert not Job.objects.exists()


def test_it_asks_for_a_file_when_none_is_sent(client, alice):
    client.force_login(alice)
    response = client.post(reverse("job_upload"), {}, headers={"Accept": "application/json"})
    assert response.status_code == 400 and "at least one" in response.json()["errors"][0]


def test_it_deletes_the_job_and_its_audio(client, alice, django_capture_on_commit_callbacks, default_profile):
    job = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
    path = Path(job.audio.path)
    assert path.exists()
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("job_delete", args=[job.id]))
    assert response.status_code == 302
    assert not Job.objects.exists() and not path.exists()


def test_it_serves_byte_ranges_so_the_player_can_seek(client, alice, alices_job):
    client.force_login(alice)
    url = reverse("job_audio", args=[alices_job.id])
    data, size = CLIP.read_bytes(), CLIP.stat().st_size
    response = client.get(url, headers={"Range": "bytes=100-199"})
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{size}"
    assert b"".join(response.streaming_content) == data[100:200]
    tail = client.get(url, headers={"Range": "bytes=-10"})
    assert b"".join(tail.streaming_content) == data[-10:]
    assert client.get(url, headers={"Range": f"bytes={size}-"}).status_code == 416
    assert client.get(url)["Accept-Ranges"] == "bytes"


def test_it_shows_raw_and_normalized_text_hotwords_and_corrections(client, alice, alices_job):
    Job.objects.filter(pk=alices_job.pk).update(
        status=Job.Status.DONE,
        text="我31岁了，在星火计划",
        raw_text="我三十一岁了，在星火计画",
        corrections=[{"from": "星火计画", "to": "星火计划"}],
        options={**alices_job.options, "hotwords": [{"phrase": "星火计划", "weight": 20}], "itn": True},
        segments=[
            {"start": 0.0, "end": 2.0, "text": "我31岁了，在星火计划", "raw": "我三十一岁了，在星火计画"}
        ],
    )
    client.force_login(alice)
    page = client.get(reverse("job_detail", args=[alices_job.id])).content.decode()
    assert "我31岁了，在星火计划" in page and 'data-raw="我三十一岁了，在星火计画"' in page
    assert "<del>星火计画</del> → <ins>星火计划</ins>" in page
    assert "show-raw" in page


@pytest.mark.parametrize("fmt", ["txt", "srt", "vtt", "json", "docx"])
def test_it_exports_a_finished_job_to_its_owner_only(client, alice, bob, alices_job, fmt):
    Job.objects.filter(pk=alices_job.pk).update(
        status=Job.Status.DONE,
        text="Hello there.",
        segments=[{"start": 0.0, "end": 1.5, "text": "Hello there."}],
    )
    url = reverse("job_export", args=[alices_job.id, fmt])
    client.force_login(bob)
    assert client.get(url).status_code == 404
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="alice-meeting.{fmt}"'
    if fmt != "docx":
        assert "Hello there." in response.content.decode()


def test_it_has_nothing_to_export_before_the_job_is_done(client, alice, alices_job):
    client.force_login(alice)
    assert client.get(reverse("job_export", args=[alices_job.id, "srt"])).status_code == 404
    Job.objects.filter(pk=alices_job.pk).update(status=Job.Status.DONE)
    assert client.get(reverse("job_export", args=[alices_job.id, "pdf"])).status_code == 404


@pytest.mark.parametrize("mode", ["nginx", "sendfile"])
def test_it_lets_the_front_server_send_audio_after_checking_the_owner(
    client, alice, bob, alices_job, settings, mode
):
    settings.MEDIA_SENDFILE = mode
    url = reverse("job_audio", args=[alices_job.id])
    client.force_login(bob)
    response = client.get(url)
    assert response.status_code == 404 and "X-Accel-Redirect" not in response and "X-Sendfile" not in response
    client.force_login(alice)
    response = client.get(url)
    assert response.status_code == 200 and response.content == b""
    if mode == "nginx":
        assert response["X-Accel-Redirect"] == f"/protected-media/{alices_job.audio.name}"
    else:
        assert response["X-Sendfile"] == alices_job.audio.path


def test_it_cancels_and_retries_only_the_owners_jobs(client, alice, bob, alices_job):
    cancel, retry = reverse("job_cancel", args=[alices_job.id]), reverse("job_retry", args=[alices_job.id])
    client.force_login(bob)
    assert client.post(cancel).status_code == 404 and client.post(retry).status_code == 404
    client.force_login(alice)
    assert client.post(retry, headers={"Accept": "application/json"}).status_code == 409  # not failed
    response = client.post(cancel, headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json()["job"]["status"] == "failed"
    assert client.post(retry, {"next": f"/jobs/{alices_job.id}/"}).url == f"/jobs/{alices_job.id}/"
    alices_job.refresh_from_db()
    assert alices_job.status == Job.Status.QUEUED and alices_job.error == ""


@pytest.mark.parametrize("target", ["https://evil.example/phish", "//evil.example/", "https:/\\evil.example"])
@pytest.mark.parametrize("action", ["job_cancel", "job_retry"])
def test_it_never_redirects_to_another_site_after_an_action(client, alice, alices_job, action, target):
    client.force_login(alice)
    Job.objects.filter(id=alices_job.id).update(status=Job.Status.FAILED)  # retry-able; cancel refuses
    response = client.post(reverse(action, args=[alices_job.id]), {"next": target})
    assert response.status_code == 302 and response.url == reverse("dashboard")


def test_it_refuses_to_retry_with_a_model_since_restricted(client, alice, alices_job, default_profile):
    Job.objects.filter(id=alices_job.id).update(status=Job.Status.FAILED)
    EngineProfile.objects.update(user_selectable=False)  # the default and every other installed model
    client.force_login(alice)
    retry = reverse("job_retry", args=[alices_job.id])
    response = client.post(retry, headers={"Accept": "application/json"})
    assert response.status_code == 409 and "not available any more" in response.json()["error"]
    assert Job.objects.get(id=alices_job.id).status == Job.Status.FAILED
    assert client.post(reverse("job_upload"), {"files": [upload_of(CLIP)]}).status_code == 302  # refused too
    assert Job.objects.count() == 1


def test_it_lets_only_the_owner_correct_a_segment_keeping_the_machines_words(client, alice, bob, alices_job):
    Job.objects.filter(pk=alices_job.pk).update(
        status=Job.Status.DONE,
        text="hello their friend",
        segments=[
            {"start": 0.0, "end": 1.0, "text": "hello their"},
            {"start": 1.0, "end": 2.0, "text": "friend"},
        ],
    )
    url = reverse("segment_edit", args=[alices_job.id, 0])
    client.force_login(bob)
    assert client.post(url, {"text": "mine now"}).status_code == 404
    client.force_login(alice)
    assert client.post(url, {"text": "   "}).status_code == 400
    assert client.post(reverse("segment_edit", args=[alices_job.id, 5]), {"text": "x"}).status_code == 409
    assert client.post(url, {"text": "hello  there"}).json()["segment"]["machine"] == "hello their"
    client.post(url, {"text": "hello there,"})  # a second edit keeps the first original
    alices_job.refresh_from_db()
    assert alices_job.segments[0] == {
        "start": 0.0, "end": 1.0, "text": "hello there,", "machine": "hello their", "edited": True
    }  # fmt: skip
    assert alices_job.text == "hello there, friend"

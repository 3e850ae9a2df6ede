"""An upload past a quota is refused before anything is stored, with the quota's sentence, on each
path: the page (form post and the drop zone's JSON), the REST API and the OpenAI-compatible
endpoint (429 in OpenAI's error shape). One user at their limit does not hold back another; a
team's limit holds back every member."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from api import services as token_services
from quotas.models import Quota, UsageRecord
from teams import services as team_services
from tests.conftest import AUDIO, upload_of
from transcription.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]

CLIP = AUDIO / "cmu_numbers.wav"  # 4.02 s
TWO_HOURS_PER_DAY_BUT_TINY = 0.002  # 7.2 s: room for one clip, not two
WAITING_SENTENCE = "1 of your jobs is waiting, the most allowed; upload more when one starts."


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_services.token_create(user=user, name='t').plain}")
    return client


def stored_files(media_root) -> list:
    return [p for p in media_root.rglob("*") if p.is_file()] if media_root.exists() else []


def page_upload(client, name: str, json: bool = False):
    headers = {"Accept": "application/json"} if json else {}
    return client.post(reverse("job_upload"), {"files": [upload_of(CLIP, name)]}, headers=headers)


def test_it_refuses_a_page_upload_past_the_hours_of_the_day(client, alice, media_root):
    Quota.objects.create(user=alice, hours_per_day=TWO_HOURS_PER_DAY_BUT_TINY)
    client.force_login(alice)
    assert page_upload(client, "first.wav", json=True).status_code == 201
    response = page_upload(client, "second.wav", json=True)
    assert response.status_code == 400
    (message,) = response.json()["errors"]
    assert message.startswith(
        "These recordings last 0.0011 hours. You have used 0.0011 of your 0.002 hours of audio today; "
        "more is available from 00:00 (in "
    )
    assert list(Job.objects.values_list("original_name", flat=True)) == ["first.wav"]
    assert len(stored_files(media_root)) == 1 and UsageRecord.objects.count() == 1


def test_it_shows_the_sentence_after_a_plain_form_post(client, alice, media_root):
    Quota.objects.create(jobs_waiting=1)  # the default row
    client.force_login(alice)
    page_upload(client, "first.wav")
    response = page_upload(client, "second.wav")
    assert response.status_code == 302
    assert WAITING_SENTENCE in client.get(response.url).content.decode()
    assert Job.objects.count() == 1 and len(stored_files(media_root)) == 1


def test_it_refuses_a_rest_api_upload_with_429(alice, media_root, django_capture_on_commit_callbacks):
    Quota.objects.create(user=alice, jobs_waiting=1)
    api = api_for(alice)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/jobs/", {"file": upload_of(CLIP)}, format="multipart").status_code == 201
    files = [upload_of(CLIP, "a.wav"), upload_of(CLIP, "b.wav")]
    response = api.post("/api/v1/jobs/", {"files": files}, format="multipart")
    assert response.status_code == 429
    assert response.json()["detail"] == WAITING_SENTENCE
    assert Job.objects.count() == 1 and len(stored_files(media_root)) == 1


def test_it_refuses_an_openai_upload_with_429_in_openais_shape(alice, settings, media_root):
    settings.API_WAIT_SECONDS = 0
    Quota.objects.create(user=alice, stored_audio_mb=0)
    with open(CLIP, "rb") as recording:
        response = api_for(alice).post("/v1/audio/transcriptions", {"file": recording, "model": "whisper-1"})
    assert response.status_code == 429
    assert response.json() == {
        "error": {
            "message": "Stored recordings: 0\xa0bytes of 0\xa0bytes; delete old jobs to free space.",
            "type": "rate_limit_error",
            "param": None,
            "code": "quota",
        }
    }
    assert not Job.objects.exists() and not stored_files(media_root) and not UsageRecord.objects.exists()


def test_it_holds_back_only_the_user_at_their_limit(client, alice, bob):
    Quota.objects.create(user=alice, jobs_waiting=1)
    client.force_login(alice)
    assert page_upload(client, "first.wav", json=True).status_code == 201
    assert page_upload(client, "second.wav", json=True).json()["errors"] == [WAITING_SENTENCE]
    client.force_login(bob)
    assert page_upload(client, "bobs.wav", json=True).status_code == 201
    assert page_upload(client, "bobs-too.wav", json=True).status_code == 201
    assert Job.objects.filter(owner=bob).count() == 2


def test_it_holds_back_every_member_at_their_teams_limit(client, alice, bob, django_user_model):
    sales = team_services.team_create(name="Sales")
    team_services.membership_set(team=sales, user=alice)
    team_services.membership_set(team=sales, user=bob)
    Quota.objects.create(team=sales, hours_per_day=TWO_HOURS_PER_DAY_BUT_TINY)
    client.force_login(alice)
    assert page_upload(client, "alices.wav", json=True).status_code == 201
    for member in (alice, bob):
        client.force_login(member)
        (message,) = page_upload(client, "more.wav", json=True).json()["errors"]
        assert "Your team Sales has used 0.0011 of its 0.002 hours of audio today" in message
    client.force_login(django_user_model.objects.create_user("carol"))  # not in Sales
    assert page_upload(client, "carols.wav", json=True).status_code == 201
    assert sorted(Job.objects.values_list("original_name", flat=True)) == ["alices.wav", "carols.wav"]

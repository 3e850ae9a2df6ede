"""The job page's speakers: shown with their names, colours and talk time, and edited by their
owner only (rename, merge, move a segment)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.test_speakers import diarized
from transcription.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_job(alice) -> Job:
    return diarized(alice)


def test_it_shows_each_segments_speaker_and_the_talk_time(client, alice, alices_job):
    client.force_login(alice)
    page = client.get(reverse("job_detail", args=[alices_job.id])).content.decode()
    assert page.count('class="speaker speaker-1">Speaker 1<') == 3  # the table, and two segments
    assert 'class="speaker speaker-2">Ana<' in page
    assert "0:08 · 70 %" in page
    assert 'data-speaker="S3"' in page


def test_it_shows_no_speakers_for_a_job_that_did_not_ask(client, alice):
    job = diarized(alice, speakers={}, options={}, segments=[{"start": 0.0, "end": 1.0, "text": "Hi."}])
    client.force_login(alice)
    page = client.get(reverse("job_detail", args=[job.id])).content.decode()
    assert 'id="speakers"' not in page and "speaker-1" not in page and "could not be told apart" not in page


def test_it_says_when_the_speakers_could_not_be_told_apart(client, alice):
    job = diarized(alice, speakers={}, segments=[{"start": 0.0, "end": 1.0, "text": "Hi."}])
    client.force_login(alice)
    assert "could not be told apart" in client.get(reverse("job_detail", args=[job.id])).content.decode()


def test_it_renames_a_speaker_and_goes_back_to_the_job(client, alice, alices_job):
    client.force_login(alice)
    response = client.post(
        reverse("speaker_rename", args=[alices_job.id, "S1"]), {"name": "Elinor"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("job_detail", args=[alices_job.id])
    assert response.content.decode().count('class="speaker speaker-1">Elinor<') == 3
    alices_job.refresh_from_db()
    assert alices_job.speakers["S1"]["name"] == "Elinor"


def test_it_answers_a_script_with_the_names(client, alice, alices_job):
    client.force_login(alice)
    url = reverse("speaker_rename", args=[alices_job.id, "S3"])
    response = client.post(url, {"name": "Marianne"}, HTTP_ACCEPT="application/json")
    assert response.json() == {"speakers": {"S1": "Speaker 1", "S2": "Ana", "S3": "Marianne"}}
    response = client.post(url, {"name": ""}, HTTP_ACCEPT="application/json")
    assert response.status_code == 409 and "empty" in response.json()["error"]


def test_it_merges_and_moves(client, alice, alices_job):
    client.force_login(alice)
    client.post(reverse("speaker_merge", args=[alices_job.id, "S3"]), {"into": "S2"})
    client.post(reverse("segment_speaker", args=[alices_job.id, 0]), {"speaker": "S2"})
    alices_job.refresh_from_db()
    assert list(alices_job.speakers) == ["S1", "S2"]
    assert [s["speaker"] for s in alices_job.segments] == ["S2", "S2", "S1", "S2"]


def test_it_shows_a_refusal_as_a_message(client, alice, alices_job):
    client.force_login(alice)
    response = client.post(reverse("speaker_merge", args=[alices_job.id, "S1"]), {"into": "S7"}, follow=True)
    assert "There is no such speaker in this transcript." in response.content.decode()


@pytest.mark.parametrize(
    ("name", "args", "data"),
    [
        ("speaker_rename", ["S1"], {"name": "Bob was here"}),
        ("speaker_merge", ["S3"], {"into": "S1"}),
        ("segment_speaker", [0], {"speaker": "S2"}),
    ],
)
def test_it_lets_nobody_else_edit_them(client, bob, alices_job, name, args, data):
    client.force_login(bob)
    assert client.post(reverse(name, args=[alices_job.id, *args]), data).status_code == 404
    client.logout()
    response = client.post(reverse(name, args=[alices_job.id, *args]), data)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    alices_job.refresh_from_db()
    assert alices_job.speakers == {"S1": {"name": ""}, "S2": {"name": "Ana"}, "S3": {"name": ""}}
    assert [s["speaker"] for s in alices_job.segments] == ["S1", "S2", "S1", "S3"]


def test_it_only_accepts_posts(client, alice, alices_job):
    client.force_login(alice)
    assert client.get(reverse("speaker_rename", args=[alices_job.id, "S1"])).status_code == 405

"""Sharing a job or a batch with a team or a colleague: who may read, who may correct, on every
surface (pages, history and its search, exports, audio, the API), and revoking at once."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from teams import services as team_services
from teams.models import Membership
from tests.conftest import english_clips, upload_of
from tests.test_history import make_job
from transcription import selectors, services, sharing
from transcription.models import Share

pytestmark = pytest.mark.django_db


@pytest.fixture
def carol(django_user_model):
    return django_user_model.objects.create_user("carol", password="pw-carol-123")


@pytest.fixture
def carols_team(carol):
    team = team_services.team_create(name="Team B")
    team_services.membership_set(team=team, user=carol)
    return team


def login(client, user):
    client.force_login(user)
    return client


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def reads(client, job) -> dict[str, int]:
    """Every read surface of one job, by status code."""
    return {
        "page": client.get(reverse("job_detail", args=[job.id])).status_code,
        "audio": client.get(reverse("job_audio", args=[job.id])).status_code,
        "export": client.get(reverse("job_export", args=[job.id, "txt"])).status_code,
    }


def history_names(client, **params) -> list[str]:
    page = client.get(reverse("history"), params).context["page"]
    return [row.job.original_name for row in page.rows]


def test_it_shows_a_job_shared_with_a_team_to_its_members_on_every_surface(
    client, alice, bob, carol, colleagues, carols_team
):
    job = make_job(alice, "minutes.wav", text="Quarterly figures for the board")
    make_job(alice, "private.wav")
    sharing.share_create(job=job, team=colleagues, actor=alice)

    assert reads(login(client, bob), job) == {"page": 200, "audio": 200, "export": 200}
    page = client.get(reverse("job_detail", args=[job.id])).content.decode()
    assert 'id="shared-by"' in page and "alice" in page and 'id="sharing"' not in page
    assert history_names(client) == ["minutes.wav"]
    assert history_names(client, q="quarterly") == ["minutes.wav"]
    assert history_names(client, scope="mine") == []
    assert api(bob).get(f"/api/v1/jobs/{job.id}/").json()["owner"] == "alice"
    assert [j["id"] for j in api(bob).get("/api/v1/jobs/", {"search": "board"}).json()["results"]] == [
        str(job.id)
    ]

    # carol is in team B only: nothing of alice's exists for her
    assert reads(login(client, carol), job) == {"page": 404, "audio": 404, "export": 404}
    assert history_names(client) == [] and history_names(client, q="quarterly") == []
    assert api(carol).get(f"/api/v1/jobs/{job.id}/").status_code == 404
    assert api(carol).get("/api/v1/jobs/").json()["results"] == []


def test_it_shares_with_a_named_colleague_only(client, alice, bob, carol):
    job = make_job(alice, "call.wav")
    sharing.share_create(job=job, user=carol, actor=alice)
    assert reads(login(client, carol), job)["page"] == 200
    assert reads(login(client, bob), job)["page"] == 404


def test_it_lets_a_reader_read_but_not_correct_delete_or_share(client, alice, bob, colleagues):
    job = make_job(alice, "minutes.wav")
    sharing.share_create(job=job, team=colleagues, actor=alice)
    login(client, bob)
    page = client.get(reverse("job_detail", args=[job.id])).content.decode()
    assert "segment_edit" not in page and reverse("segment_edit", args=[job.id, 0]) not in page
    assert reverse("job_delete", args=[job.id]) not in page
    assert client.post(reverse("segment_edit", args=[job.id, 0]), {"text": "changed"}).status_code == 404
    assert client.post(reverse("job_delete", args=[job.id])).status_code == 404
    assert client.post(reverse("job_cancel", args=[job.id])).status_code == 404
    assert client.post(reverse("share_create", args=[job.id]), {"colleague": "bob"}).status_code == 404
    assert api(bob).delete(f"/api/v1/jobs/{job.id}/").status_code == 404
    client.post(reverse("history_delete"), {"job": [str(job.id)]})  # a shared row among his own
    job.refresh_from_db()
    assert job.segments[0]["text"] == "Transcript of minutes.wav."


def test_it_lets_an_editor_correct_the_transcript(client, alice, bob, colleagues):
    job = make_job(alice, "minutes.wav")
    sharing.share_create(job=job, team=colleagues, can_edit=True, actor=alice)
    login(client, bob)
    assert (
        reverse("segment_edit", args=[job.id, 0])
        in client.get(reverse("job_detail", args=[job.id])).content.decode()
    )
    assert (
        client.post(reverse("segment_edit", args=[job.id, 0]), {"text": "Corrected by Bob."}).status_code
        == 200
    )
    job.refresh_from_db()
    assert job.text == "Corrected by Bob."
    assert client.post(reverse("job_delete", args=[job.id])).status_code == 404  # editing is not owning


def test_it_revokes_at_once_on_every_surface(client, alice, bob, colleagues):
    job = make_job(alice, "minutes.wav")
    (share,) = sharing.share_create(job=job, team=colleagues, actor=alice)
    assert reads(login(client, bob), job)["page"] == 200
    login(client, alice).post(reverse("share_revoke", args=[share.pk]))
    assert not Share.objects.exists()
    assert reads(login(client, bob), job) == {"page": 404, "audio": 404, "export": 404}
    assert history_names(client) == []
    assert api(bob).get(f"/api/v1/jobs/{job.id}/").status_code == 404


def test_it_takes_a_job_away_from_a_member_who_leaves_the_team(client, alice, bob, colleagues):
    job = make_job(alice, "minutes.wav")
    sharing.share_create(job=job, team=colleagues, actor=alice)
    team_services.membership_remove(team=colleagues, user=bob)
    assert reads(login(client, bob), job)["page"] == 404


def test_it_shares_a_whole_batch_and_the_jobs_added_to_it_later(
    client, alice, bob, colleagues, default_profile
):
    first = make_job(alice, "one.wav", batch="Q3 calls")
    second = make_job(alice, "two.wav", batch="Q3 calls")
    other = make_job(alice, "three.wav", batch="Q4 calls")
    login(client, alice).post(
        reverse("share_create", args=[first.id]),
        {"team": colleagues.pk, "access": "read", "whole_batch": "on"},
    )
    later = services.job_create(
        owner=alice,
        profile=default_profile,
        upload=upload_of(Path(next(iter(english_clips())))),
        batch="Q3 calls",
    )
    assert {s.job_id for s in Share.objects.all()} == {first.id, second.id, later.id}
    login(client, bob)
    assert sorted(history_names(client, batch="Q3 calls")) == sorted(
        ["one.wav", "two.wav", later.original_name]
    )
    assert reads(client, other)["page"] == 404
    archive = client.get(reverse("history_batch_export", args=["Q3 calls", "txt"]))
    names = zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))).namelist()
    assert len(names) == 2  # the finished two; the new upload is still queued

    share = Share.objects.get(job=second)
    login(client, alice).post(reverse("share_revoke", args=[share.pk]))  # one row revokes the batch
    assert not Share.objects.exists()


def test_it_shows_the_sharing_panel_to_the_owner_only_and_refuses_others_revoking(
    client, alice, bob, colleagues
):
    job = make_job(alice, "minutes.wav")
    (share,) = sharing.share_create(job=job, team=colleagues, actor=alice)
    page = login(client, alice).get(reverse("job_detail", args=[job.id])).content.decode()
    assert 'id="sharing"' in page and "Team A" in page
    assert login(client, bob).post(reverse("share_revoke", args=[share.pk])).status_code == 404
    assert Share.objects.filter(pk=share.pk).exists()
    assert list(selectors.share_list(user=bob, job=job)) == []


def test_it_offers_only_the_owners_teams_and_refuses_sharing_with_oneself(client, alice, bob, carols_team):
    job = make_job(alice, "minutes.wav")
    login(client, alice)
    response = client.post(
        reverse("share_create", args=[job.id]), {"team": carols_team.pk, "access": "read"}, follow=True
    )
    assert not Share.objects.exists() and "Select a valid choice" in response.content.decode()
    response = client.post(reverse("share_create", args=[job.id]), {"colleague": "alice"}, follow=True)
    assert not Share.objects.exists() and "Nobody else here has the user name" in response.content.decode()
    client.post(reverse("share_create", args=[job.id]), {"colleague": "Bob", "access": "edit"})
    assert Share.objects.get().user == bob and Share.objects.get().can_edit


def test_it_lets_an_api_editor_name_speakers_but_not_a_reader(alice, bob, carol, colleagues):
    job = make_job(alice, "minutes.wav")
    job.segments = [{"start": 0, "end": 1, "text": "hi", "speaker": "S1"}]
    job.speakers = {"S1": {"name": ""}}
    job.save()
    sharing.share_create(job=job, team=colleagues, actor=alice)
    sharing.share_create(job=job, user=carol, can_edit=True, actor=alice)
    url = f"/api/v1/jobs/{job.id}/speakers/S1/rename/"
    assert api(bob).post(url, {"name": "Ann"}, format="json").status_code == 404
    assert api(carol).post(url, {"name": "Ann"}, format="json").status_code == 200
    job.refresh_from_db()
    assert job.speakers["S1"]["name"] == "Ann"
    assert Membership.objects.filter(user=carol).count() == 0  # by name, not through a team

"""Sharing through the API: the owner lists, shares (a job or its batch) and revokes; nobody else
can, and what a share gives is visible through the API at once and gone once revoked."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from teams import services as team_services
from tests.test_history import make_job
from transcription.models import Share

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_it_shares_a_job_with_a_team_and_revokes_it(alice, bob, colleagues):
    job = make_job(alice, "minutes.wav")
    assert api(bob).get(f"/api/v1/jobs/{job.id}/").status_code == 404
    response = api(alice).post(f"/api/v1/jobs/{job.id}/shares/", {"team": "Team A"}, format="json")
    assert response.status_code == 201, response.content
    (share,) = response.json()
    assert share["team"] == "Team A" and share["user"] is None and share["can_edit"] is False
    assert api(alice).get(f"/api/v1/jobs/{job.id}/shares/").json() == [share]
    assert api(bob).get(f"/api/v1/jobs/{job.id}/export/", {"format": "txt"}).status_code == 200

    assert api(alice).delete(f"/api/v1/shares/{share['id']}/").status_code == 204
    assert api(bob).get(f"/api/v1/jobs/{job.id}/").status_code == 404
    sharing_events = AuditEvent.objects.filter(action__in=["shared", "unshared"]).order_by("when", "pk")
    assert list(sharing_events.values_list("action", "via", "detail")) == [
        ("shared", "api", "team Team A (read)"),
        ("unshared", "api", "team Team A (read)"),
    ]


def test_it_shares_a_batch_with_a_colleague_who_may_edit(alice, bob):
    first, second = make_job(alice, "a.wav", batch="Q3"), make_job(alice, "b.wav", batch="Q3")
    body = {"user": "bob", "can_edit": True, "whole_batch": True}
    shares = api(alice).post(f"/api/v1/jobs/{first.id}/shares/", body, format="json").json()
    assert {s["user"] for s in shares} == {"bob"} and all(
        s["batch"] == "Q3" and s["can_edit"] for s in shares
    )
    listed = api(bob).get("/api/v1/jobs/", {"batch": "Q3"}).json()["results"]
    assert {j["id"] for j in listed} == {str(first.id), str(second.id)}


def test_it_refuses_teams_one_is_not_in_and_unknown_people(alice, bob, django_user_model):
    carol = django_user_model.objects.create_user("carol")
    team_b = team_services.team_create(name="Team B")
    team_services.membership_set(team=team_b, user=carol)
    job = make_job(alice, "minutes.wav")
    for body in (
        {"team": "Team B"},
        {"user": "nobody"},
        {"user": "alice"},
        {},
        {"team": "Team B", "user": "bob"},
    ):
        assert api(alice).post(f"/api/v1/jobs/{job.id}/shares/", body, format="json").status_code == 400, body
    assert not Share.objects.exists()


def test_it_lets_nobody_but_the_owner_list_share_or_revoke(alice, bob, colleagues):
    job = make_job(alice, "minutes.wav")
    share = api(alice).post(f"/api/v1/jobs/{job.id}/shares/", {"team": "Team A"}, format="json").json()[0]
    # bob can read the job now, but sharing it on, or taking it back, is the owner's alone
    assert api(bob).get(f"/api/v1/jobs/{job.id}/").status_code == 200
    assert api(bob).get(f"/api/v1/jobs/{job.id}/shares/").status_code == 404
    assert (
        api(bob).post(f"/api/v1/jobs/{job.id}/shares/", {"user": "alice"}, format="json").status_code == 404
    )
    assert api(bob).delete(f"/api/v1/shares/{share['id']}/").status_code == 404
    assert Share.objects.count() == 1

"""A team's summary templates: offered to its members only, on the upload form, the summary page and
the API, and refused to anyone else (and to a member who left) however it is asked for."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from api import services as token_services
from llm import selectors, services
from llm.models import LlmConnection, Summary, SummaryTemplate
from teams import services as team_services
from tests.conftest import AUDIO, upload_of
from transcription.forms import UploadForm
from transcription.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("summary_templates", "default_profile")]

CLIP = AUDIO / "sense_and_sensibility_01_austen_64kb-0870.wav"
PROMPT = "Minutes for the Austen team, in its own words:\n{transcript}"


@pytest.fixture(autouse=True)
def connection() -> LlmConnection:
    # Nothing is sent to it here: summaries are only asked for, never run.
    return LlmConnection.objects.create(name="ollama", base_url="http://10.0.0.5:11434/v1", model="m")


@pytest.fixture
def team_minutes(team_a) -> SummaryTemplate:
    return SummaryTemplate.objects.create(name="Austen minutes", prompt=PROMPT, team=team_a, ordering=1)


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_services.token_create(user=user, name='t').plain}")
    return client


def done_job(owner) -> Job:
    return Job.objects.create(
        owner=owner,
        original_name="standup.wav",
        status=Job.Status.DONE,
        duration=8.0,
        text="We ship on Monday.",
        segments=[{"start": 0.0, "end": 2.0, "text": "We ship on Monday."}],
    )


def offered(user) -> list[str]:
    return [str(label) for _, label in UploadForm(user=user).fields["summarise"].choices]


def test_it_offers_a_teams_template_to_its_members_only(alice, bob, team_b, team_minutes):
    assert "Austen minutes" in offered(alice) and "Meeting minutes" in offered(alice)
    assert "Austen minutes" not in offered(bob) and "Meeting minutes" in offered(bob)
    assert team_minutes in selectors.template_list(user=alice)
    assert team_minutes not in selectors.template_list(user=bob)
    assert selectors.template_get(user=bob, template_id="Austen minutes") is None
    assert selectors.template_get(user=bob, template_id=team_minutes.pk) is None


def test_it_refuses_a_teams_template_to_others_at_upload(client, alice, bob, team_b, team_minutes):
    client.force_login(bob)
    page = client.post(
        reverse("job_upload"),
        {"files": [upload_of(CLIP)], "summarise": str(team_minutes.pk)},
        HTTP_ACCEPT="application/json",
    )
    assert page.status_code == 400
    for value in ["Austen minutes", str(team_minutes.pk)]:
        refused = api_for(bob).post("/api/v1/jobs/", {"file": upload_of(CLIP), "summarise": value})
        assert refused.status_code == 400 and "no such summary template" in str(refused.json()["summarise"])
    assert not Job.objects.exists()

    created = api_for(alice).post("/api/v1/jobs/", {"file": upload_of(CLIP), "summarise": "Austen minutes"})
    assert created.status_code == 201
    assert Job.objects.get().options["extras"] == {"summarise": str(team_minutes.pk)}


def test_it_refuses_a_teams_template_to_others_on_the_summary_page_and_api(
    client, alice, bob, team_b, team_minutes
):
    bobs_job = done_job(bob)
    client.force_login(bob)
    page = client.get(reverse("summary_page", args=[bobs_job.id])).content.decode()
    assert "Meeting minutes" in page and "Austen minutes" not in page
    client.post(reverse("summary_request", args=[bobs_job.id]), {"template": team_minutes.pk})
    refused = api_for(bob).post(
        f"/api/v1/jobs/{bobs_job.id}/summary/", {"template": "Austen minutes"}, format="json"
    )
    assert refused.status_code == 400 and "no such summary template" in str(refused.json()["template"])
    assert not Summary.objects.exists()

    alices_job = done_job(alice)
    client.force_login(alice)
    assert "Austen minutes" in client.get(reverse("summary_page", args=[alices_job.id])).content.decode()
    asked = api_for(alice).post(
        f"/api/v1/jobs/{alices_job.id}/summary/", {"template": "Austen minutes"}, format="json"
    )
    assert asked.status_code == 202 and asked.json()["template"] == "Austen minutes"


def test_it_starts_no_summary_by_a_teams_template_once_its_owner_left(alice, team_a, team_minutes, caplog):
    job = done_job(alice)
    team_services.membership_remove(team=team_a, user=alice)
    assert "Austen minutes" not in offered(alice)
    assert services.summary_when_done(job=job, template_id=str(team_minutes.pk)) is None
    assert not Summary.objects.exists() and "was not started" in caplog.text


def test_it_lets_staff_give_a_template_to_a_team_in_admin(client, admin_user, team_a, team_minutes):
    client.force_login(admin_user)
    changelist = reverse("admin:llm_summarytemplate_changelist")
    body = client.get(changelist, {"team__id__exact": team_a.pk}).content.decode()
    assert "Austen minutes" in body and "Meeting minutes" not in body
    change = client.get(reverse("admin:llm_summarytemplate_change", args=[team_minutes.pk]))
    assert change.status_code == 200 and 'name="team"' in change.content.decode()

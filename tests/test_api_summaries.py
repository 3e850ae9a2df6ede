"""A job's summary through the API (api/summaries.py): ask, read, and nobody else's."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from api import services as token_services
from llm.models import LlmConnection
from transcription.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("summary_templates")]


@pytest.fixture
def llm(llm):
    llm.reply = lambda body: "## Decisions\n- Ship on Monday [0:04], notes by Friday [12:34] [0:04]"
    LlmConnection.objects.create(name="ollama", base_url=llm.url, model="m", timeout_seconds=5)
    return llm


@pytest.fixture
def meeting(alice):
    return Job.objects.create(
        owner=alice,
        original_name="roadmap.wav",
        status=Job.Status.DONE,
        duration=800.0,
        text="We ship on Monday.",
        segments=[{"start": 4.0, "end": 6.0, "text": "We ship on Monday."}],
    )


def api_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_services.token_create(user=user, name='t').plain}")
    return client


def url(job) -> str:
    return f"/api/v1/jobs/{job.id}/summary/"


def test_it_asks_for_a_summary_and_reads_it(alice, meeting, llm, django_capture_on_commit_callbacks):
    api = api_for(alice)
    assert api.get(url(meeting)).status_code == 404  # none yet
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url(meeting), {"template": "Meeting minutes"}, format="json")
    assert response.status_code == 202
    assert response.json()["status"] == "queued" and response.json()["template"] == "Meeting minutes"
    call_command("llmworker", burst=True)
    body = api.get(url(meeting)).json()
    assert body["status"] == "done" and body["text"].startswith("## Decisions") and body["progress"] == 1.0
    assert body["citations"] == [4.0, 754.0] and body["error"] == "" and body["edited"] is False


@pytest.mark.parametrize(
    "change, template, code, message",
    [
        ({}, "No such template", 400, "There is no such summary template."),
        (
            {"status": Job.Status.RUNNING},
            "Meeting minutes",
            409,
            "Only a finished transcript can be summarised.",
        ),
    ],
)
def test_it_refuses_what_it_cannot_summarise(alice, meeting, llm, change, template, code, message):
    Job.objects.filter(pk=meeting.pk).update(**change)
    response = api_for(alice).post(url(meeting), {"template": template}, format="json")
    assert response.status_code == code and message in str(response.json())


def test_it_says_when_no_model_is_configured(alice, meeting):
    response = api_for(alice).post(url(meeting), {"template": "Call summary"}, format="json")
    assert response.status_code == 409 and "No language model is configured" in response.json()["detail"]


def test_it_shows_and_asks_nobody_elses(alice, bob, meeting, llm, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api_for(alice).post(url(meeting), {"template": "Meeting minutes"}, format="json")
    bobs = api_for(bob)
    assert bobs.get(url(meeting)).status_code == 404
    assert bobs.post(url(meeting), {"template": "Meeting minutes"}, format="json").status_code == 404
    assert APIClient().get(url(meeting)).status_code in (401, 403)

"""Summarise when done (llm/upload.py, receivers.py): an upload's choice, on the page or in the API,
asks for each job's summary when it ends; offered only while a language model is configured."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from api import services as token_services
from llm import services
from llm.models import LlmConnection, Summary, SummaryTemplate
from tests.conftest import AUDIO, run_worker, upload_of
from transcription.forms import UploadForm
from transcription.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("summary_templates", "default_profile")]

CLIP = AUDIO / "sense_and_sensibility_01_austen_64kb-0870.wav"


@pytest.fixture
def llm(llm):
    llm.reply = lambda body: "## Decisions\n- Mr. John Dashwood considers [0:03]"
    LlmConnection.objects.create(name="ollama", base_url=llm.url, model="m", timeout_seconds=5)
    return llm


def minutes() -> SummaryTemplate:
    return SummaryTemplate.objects.get(name="Meeting minutes")


def test_it_offers_the_choice_only_with_a_model(client, alice):
    assert "summarise" not in UploadForm(user=alice).fields
    LlmConnection.objects.create(name="ollama", base_url="http://10.0.0.5:11434/v1", model="m")
    field = UploadForm(user=alice).fields["summarise"]
    assert [label for _, label in field.choices] == [
        "No",
        "会议纪要",
        "通话摘要",
        "Meeting minutes",
        "Call summary",
    ]
    client.force_login(alice)
    assert 'name="summarise"' in client.get(reverse("dashboard")).content.decode()


def test_it_summarises_each_uploaded_file_when_it_is_done(
    client, alice, llm, django_capture_on_commit_callbacks
):
    client.force_login(alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("job_upload"),
            {
                "files": [upload_of(CLIP), upload_of(CLIP, "second.wav")],
                "summarise": str(minutes().pk),
                "batch": "w12",
            },
        )
    assert response.status_code == 302
    assert all(job.options["extras"] == {"summarise": str(minutes().pk)} for job in Job.objects.all())
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    assert Job.objects.filter(status=Job.Status.DONE).count() == 2
    assert Summary.objects.filter(status=Summary.Status.QUEUED).count() == 2  # asked as each one ended
    call_command("llmworker", burst=True)
    assert Summary.objects.filter(status=Summary.Status.DONE, template_name="Meeting minutes").count() == 2


def test_it_takes_the_choice_through_the_api(alice, llm, django_capture_on_commit_callbacks):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_services.token_create(user=alice, name='t').plain}")
    refused = api.post(
        "/api/v1/jobs/", {"file": upload_of(CLIP), "summarise": "Minutes of nothing"}, format="multipart"
    )
    assert refused.status_code == 400 and "no such summary template" in str(refused.json()["summarise"])
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(
            "/api/v1/jobs/", {"file": upload_of(CLIP), "summarise": "Call summary"}, format="multipart"
        )
    assert created.status_code == 201
    job = Job.objects.get()
    assert job.options["extras"] == {"summarise": str(SummaryTemplate.objects.get(name="Call summary").pk)}
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    call_command("llmworker", burst=True)
    assert api.get(f"/api/v1/jobs/{job.id}/summary/").json()["status"] == "done"


def test_it_refuses_the_choice_in_the_api_without_a_model(alice):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_services.token_create(user=alice, name='t').plain}")
    response = api.post(
        "/api/v1/jobs/", {"file": upload_of(CLIP), "summarise": "Call summary"}, format="multipart"
    )
    assert response.status_code == 400 and "No language model is configured" in str(response.json())


def test_it_starts_nothing_for_a_failed_job_or_a_template_gone(alice, llm, caplog):
    job = Job.objects.create(
        owner=alice, original_name="a.wav", status=Job.Status.FAILED, options={"extras": {"summarise": "1"}}
    )
    from llm.receivers import on_job_ended

    on_job_ended(Job, job=job)
    assert not Summary.objects.exists()
    job.status = Job.Status.DONE
    gone = minutes().pk
    SummaryTemplate.objects.filter(pk=gone).delete()
    assert services.summary_when_done(job=job, template_id=str(gone)) is None
    assert "Its summary template was deleted" in caplog.text and not Summary.objects.exists()

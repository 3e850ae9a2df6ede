"""Calls recorded one speaker per channel, through the real worker and Whisper tiny.en: each side
recognised on its own and labelled by channel (no clustering), shown as Agent and Customer, and a
voice remembered from one call names that agent in the next."""

from __future__ import annotations

import io

import pytest
import soundfile as sf
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from api import services as token_services
from tests.conftest import run_worker
from tests.conversations import CALL, call_recording, conversation
from transcription import speakers
from transcription.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]

# Another call with the same two people, in another order and with other sentences.
SECOND_CALL = [("cmu", 1), ("reader", 3), ("cmu", 2), ("reader", 4)]


def call_file(order, *, left: str, name: str = "call.wav") -> tuple[SimpleUploadedFile, object]:
    conv = conversation(order, pause=0.6)
    buffer = io.BytesIO()
    sf.write(buffer, call_recording(conv, left=left), 16_000, format="WAV", subtype="PCM_16")
    return SimpleUploadedFile(name, buffer.getvalue()), conv


def upload(client, capture, file, **fields) -> Job:
    with capture(execute=True):
        response = client.post(reverse("job_upload"), {"files": [file], **fields})
    assert response.status_code == 302
    run_worker()
    return Job.objects.latest("queued_at")


def side_at(conv, time: float) -> str:
    """The voice speaking at `time` (the nearest turn)."""
    return min(conv.turns, key=lambda t: max(t.start - time, time - t.end, 0)).voice


def test_it_labels_each_side_of_a_call_by_its_channel(client, alice, django_capture_on_commit_callbacks):
    file, conv = call_file(CALL, left="reader")
    client.force_login(alice)
    job = upload(client, django_capture_on_commit_callbacks, file, speakers="call-agent-left")
    assert job.status == Job.Status.DONE, job.error
    assert job.options["diarize"] == {"channels": ["agent", "customer"]}
    assert {key: entry["role"] for key, entry in job.speakers.items()} == {"S1": "agent", "S2": "customer"}
    truth = {"reader": "S1", "cmu": "S2"}  # the reader on the left: the agent
    assert len(job.segments) >= len(conv.turns)
    assert job.options["words"] is True  # word timings split a segment where the other side spoke
    assert all(s["speaker"] == truth[side_at(conv, (s["start"] + s["end"]) / 2)] for s in job.segments)
    heard = [((s["start"] + s["end"]) / 2, s["speaker"]) for s in job.segments]  # no turn lost:
    assert all(any(t.start <= at <= t.end and key == truth[t.voice] for at, key in heard) for t in conv.turns)
    assert [s["start"] for s in job.segments] == sorted(s["start"] for s in job.segments)
    assert "Go forward" in job.text  # the customer's first words, from the right channel
    assert speakers.names(job) == {"S1": "Agent", "S2": "Customer"}
    page = client.get(reverse("job_detail", args=[job.id])).content.decode()
    assert "Agent" in page and "Customer" in page
    txt = client.get(reverse("job_export", args=[job.id, "txt"])).content.decode()
    assert "Agent:" in txt and "Customer: Go forward" in txt.replace("\n", " ")


def test_it_follows_the_agent_to_the_right_channel(alice, django_capture_on_commit_callbacks):
    """Through the API: the agent on the right; the detail says each speaker's role."""
    file, conv = call_file(CALL[:4], left="cmu")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_services.token_create(user=alice, name='t').plain}")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/jobs/", {"file": file, "speakers": "call-agent-right"}, format="multipart"
        )
    assert response.status_code == 201, response.content
    run_worker()
    (created,) = response.json()["jobs"]
    detail = api.get(f"/api/v1/jobs/{created['id']}/").json()
    assert detail["status"] == "done"
    assert [(s["key"], s["name"], s["role"]) for s in detail["speakers"]] == [
        ("S1", "Customer", "customer"),
        ("S2", "Agent", "agent"),
    ]
    agent = {"reader": "S2", "cmu": "S1"}  # the CMU speaker on the left: the customer
    job = Job.objects.get()
    assert all(s["speaker"] == agent[side_at(conv, (s["start"] + s["end"]) / 2)] for s in job.segments)


def test_it_fails_a_mono_recording_marked_as_a_call_with_a_reason(
    client, alice, django_capture_on_commit_callbacks
):
    conv = conversation(CALL[:2])
    buffer = io.BytesIO()
    sf.write(buffer, conv.samples, 16_000, format="WAV", subtype="PCM_16")
    client.force_login(alice)
    file = SimpleUploadedFile("mono.wav", buffer.getvalue())
    job = upload(client, django_capture_on_commit_callbacks, file, speakers="call-agent-left")
    assert job.status == Job.Status.FAILED
    assert "one channel" in job.error and "without the call option" in job.error


def test_it_names_a_remembered_agent_in_the_next_call(client, alice, django_capture_on_commit_callbacks):
    client.force_login(alice)
    file, _ = call_file(CALL, left="reader")
    first = upload(client, django_capture_on_commit_callbacks, file, speakers="call-agent-left")
    response = client.post(reverse("voice_remember", args=[first.id, "S1"]), {"name": "Elinor"})
    assert response.status_code == 302
    file, _ = call_file(SECOND_CALL, left="reader", name="next.wav")
    second = upload(client, django_capture_on_commit_callbacks, file, speakers="call-agent-left")
    agent = second.speakers["S1"]
    print(f"agent recognised with confidence {agent.get('confidence')}")
    assert agent["name"] == "Elinor" and agent["role"] == "agent" and agent["confidence"] >= 0.75
    assert second.speakers["S2"]["name"] == ""  # the customer is nobody the profiles know
    assert speakers.names(second) == {"S1": "Elinor", "S2": "Customer"}

"""Who spoke when, through the real worker: an upload that asks for speakers (or a profile that
diarizes by default) comes back with each segment labelled, on real voices (tests/conversations.py)
and Whisper tiny.en."""

from __future__ import annotations

import itertools

import pytest
import soundfile as sf
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from api import services as token_services
from tests.conftest import run_worker
from tests.conversations import CALL, MEETING, Conversation, conversation
from transcription import embedders
from transcription.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]


def as_upload(conv: Conversation, name: str) -> SimpleUploadedFile:
    import io

    buffer = io.BytesIO()
    sf.write(buffer, conv.samples, 16_000, format="WAV", subtype="PCM_16")
    return SimpleUploadedFile(name, buffer.getvalue())


def upload(client, capture, conv: Conversation, **fields) -> Job:
    with capture(execute=True):
        response = client.post(reverse("job_upload"), {"files": [as_upload(conv, "meeting.wav")], **fields})
    assert response.status_code == 302
    run_worker()
    return Job.objects.get()


def segment_accuracy(conv: Conversation, job: Job) -> float:
    """Share of the job's segments whose speaker is the voice speaking at their middle, under the
    best matching of speaker keys to voices."""

    def voice_at(time: float) -> str:
        return min(
            conv.turns,
            key=lambda t: 0 if t.start <= time <= t.end else min(abs(time - t.start), abs(time - t.end)),
        ).voice

    truth = [voice_at((s["start"] + s["end"]) / 2) for s in job.segments]
    keys = sorted({s["speaker"] for s in job.segments})
    voices = sorted(set(truth)) + [None] * len(keys)
    best = 0
    for matching in itertools.permutations(voices, len(keys)):
        to_voice = dict(zip(keys, matching, strict=True))
        best = max(best, sum(to_voice[s["speaker"]] == t for s, t in zip(job.segments, truth, strict=True)))
    return best / len(job.segments)


def test_it_labels_who_spoke_in_an_uploaded_meeting(client, alice, django_capture_on_commit_callbacks):
    conv = conversation(MEETING, pause=1.0)
    client.force_login(alice)
    job = upload(client, django_capture_on_commit_callbacks, conv, speakers="auto")
    assert job.status == Job.Status.DONE, job.error
    assert job.options["diarize"] == {"speakers": 0}
    assert list(job.speakers) == ["S1", "S2", "S3"]
    assert all(segment["speaker"] in job.speakers for segment in job.segments)
    accuracy = segment_accuracy(conv, job)
    print(f"speaker accuracy over {len(job.segments)} segments: {accuracy:.3f}")
    assert accuracy >= 0.95


def test_it_uses_the_number_of_people_given_at_upload(client, alice, django_capture_on_commit_callbacks):
    conv = conversation(CALL, pause=1.0)
    client.force_login(alice)
    job = upload(client, django_capture_on_commit_callbacks, conv, speakers="2")
    assert job.options["diarize"] == {"speakers": 2}
    assert list(job.speakers) == ["S1", "S2"] and segment_accuracy(conv, job) >= 0.95


def test_it_diarizes_by_the_profile_default_unless_the_upload_says_off(
    client, alice, default_profile, django_capture_on_commit_callbacks
):
    default_profile.diarize_default = True
    default_profile.save()
    conv = conversation(CALL[:2], pause=1.0)
    client.force_login(alice)
    job = upload(client, django_capture_on_commit_callbacks, conv)
    assert job.options["diarize"] == {"speakers": 0} and len(job.speakers) == 2
    job.delete()
    job = upload(client, django_capture_on_commit_callbacks, conv, speakers="off")
    assert "diarize" not in job.options and job.speakers == {}
    assert not any("speaker" in segment for segment in job.segments)


def test_it_leaves_a_job_that_did_not_ask_without_speakers(client, alice, django_capture_on_commit_callbacks):
    client.force_login(alice)
    job = upload(client, django_capture_on_commit_callbacks, conversation(CALL[:2], pause=1.0))
    assert job.status == Job.Status.DONE and job.speakers == {} and "diarize" not in job.options


def test_it_keeps_the_transcript_when_diarization_fails(
    client, alice, monkeypatch, django_capture_on_commit_callbacks
):
    """The speaker model missing (a broken install): the transcript is kept, without speakers."""
    embedders.forget()
    monkeypatch.setattr(embedders, "VOICEFILTER_PACKAGE", "no_such_package_here")
    client.force_login(alice)
    try:
        job = upload(
            client, django_capture_on_commit_callbacks, conversation(CALL[:2], pause=1.0), speakers="auto"
        )
    finally:
        embedders.forget()
    assert job.status == Job.Status.DONE and "Go forward" in job.text
    assert job.speakers == {} and job.options["diarize"] == {"speakers": 0}


@pytest.mark.parametrize("value", ["lots", "0", "17", "-1"])
def test_it_refuses_a_speakers_value_it_cannot_use_in_the_api(alice, value):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_services.token_create(user=alice, name='t').plain}")
    conv = conversation(CALL[:1])
    response = api.post(
        "/api/v1/jobs/", {"file": as_upload(conv, "a.wav"), "speakers": value}, format="multipart"
    )
    assert response.status_code == 400 and "speakers" in response.json()
    assert not Job.objects.exists()


def test_it_accepts_speakers_through_the_api(alice, django_capture_on_commit_callbacks):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token_services.token_create(user=alice, name='t').plain}")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/jobs/",
            {"file": as_upload(conversation(CALL[:2], pause=1.0), "a.wav"), "speakers": "2"},
            format="multipart",
        )
    assert response.status_code == 201
    run_worker()
    job = Job.objects.get()
    assert job.options["diarize"] == {"speakers": 2} and list(job.speakers) == ["S1", "S2"]


def test_it_diarizes_with_campplus_when_the_setting_names_it(
    client, alice, settings, tmp_path, django_capture_on_commit_callbacks
):
    """ASR_SPEAKER_MODEL=cam++ (as `fetch_models cam++` installs it in MODELS_DIR): the worker
    embeds with it (a tiny random-weight CAM++ here: the path, not the accuracy), and a voice
    profile kept with the bundled model is not compared with its voices."""
    from tests.tiny_models import build_tiny_campplus
    from transcription.models import VoiceProfile

    build_tiny_campplus(tmp_path / "cam++")
    settings.MODELS_DIR, settings.ASR_SPEAKER_MODEL = tmp_path, "cam++"
    VoiceProfile.objects.create(owner=alice, name="Elinor", embedding=[1.0] + [0.0] * 255, recordings=1)
    client.force_login(alice)
    job = upload(client, django_capture_on_commit_callbacks, conversation(CALL, pause=1.0), speakers="2")
    assert job.status == Job.Status.DONE, job.error
    assert list(job.speakers) == ["S1", "S2"]
    assert all(len(entry["voice"]) == 16 and entry["name"] == "" for entry in job.speakers.values())


def test_it_keeps_the_transcript_when_the_campplus_named_is_not_installed(
    client, alice, settings, tmp_path, django_capture_on_commit_callbacks, caplog
):
    settings.MODELS_DIR, settings.ASR_SPEAKER_MODEL = tmp_path, "cam++"
    client.force_login(alice)
    job = upload(
        client, django_capture_on_commit_callbacks, conversation(CALL[:2], pause=1.0), speakers="auto"
    )
    assert job.status == Job.Status.DONE and "Go forward" in job.text and job.speakers == {}
    assert "fetch_models cam++" in caplog.text

"""A job's recording goes with its row, however the row goes (transcription/receivers.py): the
user's delete, Django admin (one job, or an action on many), a user deleted with their jobs. A
rolled-back delete keeps the file."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import transaction
from django.urls import reverse

from tests.conftest import AUDIO, upload_of
from transcription import services
from transcription.models import Job

pytestmark = pytest.mark.django_db

CLIP = AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav"


def stored_job(owner, profile) -> tuple[Job, Path]:
    job = services.job_create(owner=owner, profile=profile, upload=upload_of(CLIP))
    path = Path(job.audio.path)
    assert path.exists()
    return job, path


def test_it_deletes_the_recording_when_an_admin_deletes_the_job(
    admin_client, alice, default_profile, django_capture_on_commit_callbacks
):
    job, path = stored_job(alice, default_profile)
    url = reverse("admin:transcription_job_delete", args=[job.pk])
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not Job.objects.exists() and not path.exists()


def test_it_deletes_the_recordings_of_an_admin_action(
    admin_client, alice, bob, default_profile, django_capture_on_commit_callbacks
):
    (first, first_path), (second, second_path) = (
        stored_job(alice, default_profile),
        stored_job(bob, default_profile),
    )
    kept, kept_path = stored_job(bob, default_profile)
    data = {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"}
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_client.post(reverse("admin:transcription_job_changelist"), data).status_code == 302
    assert list(Job.objects.all()) == [kept]
    assert not first_path.exists() and not second_path.exists() and kept_path.exists()


def test_it_deletes_the_recordings_of_a_deleted_user(
    alice, bob, default_profile, django_capture_on_commit_callbacks
):
    (_, alices), (_, bobs) = stored_job(alice, default_profile), stored_job(bob, default_profile)
    with django_capture_on_commit_callbacks(execute=True):
        alice.delete()
    assert not alices.exists() and bobs.exists()


def test_it_keeps_the_recording_when_the_delete_is_rolled_back(
    alice, default_profile, django_capture_on_commit_callbacks
):
    job, path = stored_job(alice, default_profile)
    job_id = job.pk
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            services.job_delete(job=job)
            raise RuntimeError("rolled back")
    assert Job.objects.filter(pk=job_id).exists() and path.exists()

"""Retention: files and rows go together, the dry run changes nothing, orphans are swept."""

import io
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tests.conftest import AUDIO, upload_of
from transcription import services
from transcription.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]

CLIP = AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav"


def finished_job(owner, profile, days_ago: int) -> Job:
    job = services.job_create(owner=owner, profile=profile, upload=upload_of(CLIP))
    ended = timezone.now() - timedelta(days=days_ago)
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.DONE, text="he was not an ill disposed", finished_at=ended
    )
    job.refresh_from_db()
    return job


def purge(*args) -> str:
    out = io.StringIO()
    call_command("purge", *args, stdout=out)
    return out.getvalue()


def test_it_deletes_old_recordings_and_keeps_their_transcripts(
    settings, alice, default_profile, django_capture_on_commit_callbacks, client
):
    settings.RETAIN_AUDIO_DAYS = 30
    old, recent = finished_job(alice, default_profile, 31), finished_job(alice, default_profile, 1)
    old_file, recent_file = Path(old.audio.path), Path(recent.audio.path)
    assert "Would delete 1 recording(s), 0 job(s)" in purge("--dry-run")
    assert old_file.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert "Deleted 1 recording(s), 0 job(s)" in purge()
    old.refresh_from_db()
    assert not old.audio and not old_file.exists() and old.text
    assert recent_file.exists()
    client.force_login(alice)
    page = client.get(reverse("job_detail", args=[old.id])).content.decode()
    assert "deleted under the retention policy" in page
    assert client.get(reverse("job_audio", args=[old.id])).status_code == 404


def test_it_deletes_old_jobs_with_their_files(
    settings, alice, default_profile, django_capture_on_commit_callbacks, client
):
    settings.RETAIN_TRANSCRIPTS_DAYS = 90
    old, kept = finished_job(alice, default_profile, 91), finished_job(alice, default_profile, 89)
    old_file = Path(old.audio.path)
    with django_capture_on_commit_callbacks(execute=True):
        assert "0 recording(s), 1 job(s)" in purge()
    assert list(Job.objects.all()) == [kept] and not old_file.exists()
    client.force_login(alice)
    assert "transcripts are deleted after 90 days" in client.get(reverse("dashboard")).content.decode()


def test_it_never_touches_jobs_in_progress(settings, alice, default_profile):
    settings.RETAIN_AUDIO_DAYS = settings.RETAIN_TRANSCRIPTS_DAYS = 1
    job = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
    Job.objects.filter(pk=job.pk).update(queued_at=timezone.now() - timedelta(days=10))
    assert "0 recording(s), 0 job(s)" in purge()
    assert Path(job.audio.path).exists()


def test_it_sweeps_stored_audio_that_no_job_refers_to(settings, alice, default_profile):
    kept = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
    orphan = Path(settings.MEDIA_ROOT) / "audio" / str(alice.id) / "lost.wav"
    fresh = orphan.with_name("uploading.wav")
    orphan.write_bytes(b"x"), fresh.write_bytes(b"x")
    two_days_ago = time.time() - 2 * 86400
    os.utime(orphan, (two_days_ago, two_days_ago))
    assert f"orphan file audio/{alice.id}/lost.wav" in purge()
    assert not orphan.exists() and fresh.exists() and Path(kept.audio.path).exists()

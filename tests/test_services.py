from pathlib import Path

import django_rq
import pytest
from django.conf import settings

from tests.conftest import english_clips, upload_of
from transcription import services
from transcription.engine import Segment, Transcript
from transcription.models import Job

pytestmark = pytest.mark.django_db

CLIP = Path(next(iter(english_clips())))


def test_it_enqueues_only_after_commit(alice, django_capture_on_commit_callbacks):
    queue = django_rq.get_queue(settings.ASR_QUEUE)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.job_create(owner=alice, upload=upload_of(CLIP))
        assert queue.count == 0
    assert len(callbacks) == 1
    callbacks[0]()
    assert queue.job_ids == [f"transcribe-{job.id}"]
    rq_job = queue.fetch_job(f"transcribe-{job.id}")
    assert rq_job.timeout == settings.ASR_JOB_TIMEOUT_BASE + 3 * round(job.duration)


def test_it_records_the_engine_configuration_on_the_job(alice):
    job = services.job_create(owner=alice, upload=upload_of(CLIP), hotwords=["Dashwood"])
    assert job.engine == "faster-whisper"
    assert job.options["engine"]["kind"] == "faster-whisper"
    assert Path(job.options["engine"]["model"], "model.bin").is_file()
    assert job.options["hotwords"] == ["Dashwood"]


def test_it_claims_a_job_only_once(alice):
    job = services.job_create(owner=alice, upload=upload_of(CLIP))
    first = services.job_claim(job_id=str(job.id))
    assert first is not None and first.status == Job.Status.RUNNING and first.started_at
    assert services.job_claim(job_id=str(job.id)) is None


def test_it_finishes_a_running_job(alice):
    job = services.job_claim(job_id=str(services.job_create(owner=alice, upload=upload_of(CLIP)).id))
    transcript = Transcript(text="hello there", segments=[Segment(0.0, 1.5, "hello there")], language="en")
    services.job_finish(job=job, transcript=transcript, duration=7.1, processing_seconds=0.71)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.text == "hello there"
    assert job.segments == [{"start": 0.0, "end": 1.5, "text": "hello there"}]
    assert job.real_time_factor == pytest.approx(0.1)


def test_it_does_not_revive_a_deleted_job(alice):
    job = services.job_claim(job_id=str(services.job_create(owner=alice, upload=upload_of(CLIP)).id))
    Job.objects.filter(id=job.id).delete()
    services.job_fail(job=job, message="late")
    services.job_progress(job=job, seconds_done=1, seconds_total=2)
    assert not Job.objects.exists()


def test_it_records_progress_as_a_fraction_of_audio(alice):
    job = services.job_claim(job_id=str(services.job_create(owner=alice, upload=upload_of(CLIP)).id))
    services.job_progress(job=job, seconds_done=2.5, seconds_total=10.0)
    job.refresh_from_db()
    assert job.progress == 0.25 and job.duration == 10.0

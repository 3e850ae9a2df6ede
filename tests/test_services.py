from pathlib import Path

import django_rq
import pytest
from django.conf import settings
from django.db import transaction

from tests.conftest import english_clips, upload_of
from transcription import services, signals
from transcription.engine import Segment, Transcript
from transcription.models import EngineProfile, Job
from transcription.postprocess import polish

pytestmark = pytest.mark.django_db

CLIP = Path(next(iter(english_clips())))


def started_job(owner, profile) -> Job:
    job, _ = services.job_claim(
        job_id=str(services.job_create(owner=owner, profile=profile, upload=upload_of(CLIP)).id)
    )
    return job


def test_it_enqueues_only_after_commit(alice, django_capture_on_commit_callbacks, default_profile):
    queue = django_rq.get_queue(settings.ASR_QUEUE)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
        assert queue.count == 0
    assert len(callbacks) == 1
    callbacks[0]()
    assert queue.job_ids == [f"transcribe-{job.id}-0"]
    rq_job = queue.fetch_job(f"transcribe-{job.id}-0")
    assert rq_job.timeout == settings.ASR_JOB_TIMEOUT_BASE + 3 * round(job.duration)


def test_it_records_the_profile_and_options_on_the_job(alice, default_profile):
    job = services.job_create(
        owner=alice, profile=default_profile, upload=upload_of(CLIP), hotwords=["Dashwood"], itn=True
    )
    assert job.profile == default_profile and job.engine == "faster-whisper"
    assert job.options == {
        "profile": default_profile.name,
        "queue": "asr",
        "hotwords": [{"phrase": "Dashwood", "weight": 20}],
        "itn": True,
        "language": "",
    }
    assert (
        services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP)).options["itn"]
        is False
    )


def test_it_records_the_engine_configuration_when_the_job_starts(alice, default_profile):
    job = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
    default_profile.language = "fr"  # an admin edits the profile while the job waits
    services.profile_save(profile=default_profile)
    started, problem = services.job_claim(job_id=str(job.id))
    assert problem == ""
    assert started.options["engine"]["kind"] == "faster-whisper"
    assert started.options["engine"]["language"] == "fr"
    assert Path(started.options["engine"]["model"], "model.bin").is_file()
    job.refresh_from_db()
    assert job.options["engine"] == started.options["engine"]


def test_it_claims_a_job_only_once(alice, default_profile):
    job = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
    first, _ = services.job_claim(job_id=str(job.id))
    assert first.status == Job.Status.RUNNING and first.started_at
    assert services.job_claim(job_id=str(job.id)) is None


def test_it_reports_a_deleted_profile_at_claim(alice, default_profile):
    job = services.job_create(owner=alice, profile=default_profile, upload=upload_of(CLIP))
    EngineProfile.objects.filter(pk=default_profile.pk).delete()
    _, problem = services.job_claim(job_id=str(job.id))
    assert "was deleted" in problem


def test_it_keeps_a_single_default_profile(default_profile):
    other = EngineProfile.objects.exclude(pk=default_profile.pk).first()
    other.is_default = True
    services.profile_save(profile=other)
    assert list(EngineProfile.objects.filter(is_default=True)) == [other]


def test_it_finishes_a_running_job(alice, default_profile):
    job = started_job(alice, default_profile)
    transcript = Transcript(
        text="hello Dashwud", segments=[Segment(0.0, 1.5, "hello Dashwud")], language="en"
    )
    result = polish(transcript, itn=False, hotwords=["Dashwood"])
    services.job_finish(job=job, result=result, duration=7.1, processing_seconds=0.71)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.text == "hello Dashwood" and job.raw_text == "hello Dashwud"
    assert job.segments == [{"start": 0.0, "end": 1.5, "text": "hello Dashwood", "raw": "hello Dashwud"}]
    assert job.corrections == [{"from": "Dashwud", "to": "Dashwood"}]
    assert job.real_time_factor == pytest.approx(0.1)


def test_it_does_not_revive_a_deleted_job(alice, default_profile):
    job = started_job(alice, default_profile)
    Job.objects.filter(id=job.id).delete()
    services.job_fail(job=job, message="late")
    services.job_progress(job=job, seconds_done=1, seconds_total=2)
    assert not Job.objects.exists()


def test_it_records_progress_as_a_fraction_of_audio(alice, default_profile):
    job = started_job(alice, default_profile)
    services.job_progress(job=job, seconds_done=2.5, seconds_total=10.0)
    job.refresh_from_db()
    assert job.progress == 0.25 and job.duration == 10.0


def test_it_ignores_a_stale_worker_after_the_job_was_retried(alice, default_profile):
    stale = started_job(alice, default_profile)
    services.job_cancel(job=stale)
    services.job_retry(job=Job.objects.get(pk=stale.pk))
    fresh, _ = services.job_claim(job_id=str(stale.id))
    assert fresh.attempt == stale.attempt + 1
    services.job_fail(job=stale, message="the old run's late failure")  # must not land
    services.job_progress(job=stale, seconds_done=5, seconds_total=10)
    fresh.refresh_from_db()
    assert fresh.status == Job.Status.RUNNING and fresh.error == "" and fresh.progress == 0.0


def test_it_announces_a_jobs_end_once_committed_and_never_when_rolled_back(
    alice, default_profile, django_capture_on_commit_callbacks
):
    heard = []

    def listener(sender, *, job, **kwargs):
        heard.append((job.id, job.status, job.error))

    signals.job_ended.connect(listener)
    try:
        job = started_job(alice, default_profile)
        with pytest.raises(RuntimeError), transaction.atomic():
            services.job_fail(job=job, message="first")
            raise RuntimeError("rolled back")
        assert heard == []
        job.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            services.job_fail(job=job, message="second")
            assert heard == []  # not before the commit
        services.job_fail(job=job, message="third")  # its run has ended: nothing to announce
    finally:
        signals.job_ended.disconnect(listener)
    assert heard == [(job.id, Job.Status.FAILED, "second")]


def test_it_finishes_a_job_whose_listener_fails(alice, default_profile, django_capture_on_commit_callbacks):
    def broken(sender, **kwargs):
        raise RuntimeError("a listener's bug")

    signals.job_ended.connect(broken)
    try:
        job = started_job(alice, default_profile)
        with django_capture_on_commit_callbacks(execute=True):
            services.job_fail(job=job, message="not audio")
    finally:
        signals.job_ended.disconnect(broken)
    assert Job.objects.get(pk=job.pk).status == Job.Status.FAILED

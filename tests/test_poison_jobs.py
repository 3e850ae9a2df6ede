"""A file that kills its worker (a native crash, for real: ASR_TEST_CRASH_MARKER makes a worker
process SIGSEGV itself on a marked file) cannot take other users' jobs down with it: every job of
the batch it was in runs again, alone; the others finish; it fails, set aside, after its attempts.
The same test runs on PostgreSQL in CI."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import english_clips, run_worker
from tests.test_reliability import start_worker
from transcription import services, upkeep
from transcription.models import Job

pytestmark = pytest.mark.django_db(transaction=True)

MARKER = "crash-me"


def test_it_sets_aside_a_file_that_kills_its_worker_and_finishes_the_rest(
    settings, alice, bob, default_profile
):
    settings.ASR_MAX_ATTEMPTS = 2
    clip = Path(next(iter(english_clips()))).read_bytes()

    def upload(owner, name: str) -> Job:
        return services.job_create(
            owner=owner, profile=default_profile, upload=SimpleUploadedFile(name, clip)
        )

    first, poison, others = upload(alice, "a.wav"), upload(alice, f"{MARKER}.wav"), upload(bob, "b.wav")
    crash = {"ASR_TEST_CRASH_MARKER": MARKER, "ASR_BATCH_MAX_JOBS": "3"}

    # One batch of all three: the worker dies in it, taking every job of the batch with it.
    worker = start_worker(settings, **crash)
    assert worker.wait(timeout=120) == -signal.SIGSEGV
    assert sorted(Job.objects.values_list("status", "options__batched")) == [("running", 3)] * 3
    report = upkeep.jobs_reconcile(live_workers=set())
    assert sorted(report.requeued) == sorted(str(job.id) for job in (first, poison, others))
    assert all(job.options.get("alone") for job in Job.objects.all())

    # Each alone now: the marked file kills this worker too (after the others, or before them)...
    worker = start_worker(settings, **crash)
    assert worker.wait(timeout=120) == -signal.SIGSEGV
    assert not Job.objects.filter(status=Job.Status.RUNNING).exclude(id=poison.id).exists()

    # ...and, out of attempts, it is set aside with a sentence that says why.
    report = upkeep.jobs_reconcile(live_workers=set())
    assert report.failed == [str(poison.id)] and report.requeued == []
    poison.refresh_from_db()
    assert poison.status == Job.Status.FAILED and poison.attempt == 2
    assert poison.error == upkeep.SET_ASIDE.format(attempts=2)

    # The other two finish, each in a run of its own.
    run_worker()
    done = Job.objects.filter(status=Job.Status.DONE)
    assert {job.id for job in done} == {first.id, others.id}
    assert all("batched" not in job.options and job.attempt == 2 for job in done)

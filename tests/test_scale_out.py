"""Two worker processes on one queue share the work and never run a job twice (the claim is a
conditional update in the database). The same test runs on PostgreSQL in CI."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import english_clips
from tests.test_reliability import start_worker, wait_for
from transcription import services
from transcription.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_shares_one_queue_between_two_workers_without_doing_a_job_twice(settings, alice, default_profile):
    clips = list(english_clips()) * 2  # ten jobs
    jobs = [
        services.job_create(
            owner=alice,
            profile=default_profile,
            upload=SimpleUploadedFile(f"{i}.wav", Path(path).read_bytes()),
        )
        for i, path in enumerate(clips)
    ]
    workers = [start_worker(settings), start_worker(settings)]
    try:
        wait_for(lambda: Job.objects.filter(status=Job.Status.DONE).count() == len(jobs), timeout=120)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(timeout=30)
    done = list(Job.objects.all())
    assert all(job.attempt == 1 for job in done)  # claimed exactly once each
    assert len({job.worker for job in done}) == 2  # both workers took jobs

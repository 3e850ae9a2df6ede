"""Two worker processes on one queue share the work and never run a job twice (the claim is a
conditional update in the database). The same test runs on PostgreSQL in CI."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal import queues
from tests.conftest import english_clips
from tests.test_reliability import start_worker, wait_for
from transcription import services, worker_registry
from transcription.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_shares_one_queue_between_two_workers_without_doing_a_job_twice(settings, alice, default_profile):
    # Both workers wait for work before any job exists, and each claims at most two jobs at a time
    # (batching on): neither can take the whole queue before the other is up.
    workers = [start_worker(settings, ASR_BATCH_MAX_JOBS="2") for _ in range(2)]
    try:
        wait_for(lambda: len(worker_registry.list_all(queues.connection())) == 2, timeout=120)
        clips = list(english_clips()) * 2  # ten jobs
        for i, path in enumerate(clips):
            upload = SimpleUploadedFile(f"{i}.wav", Path(path).read_bytes())
            services.job_create(owner=alice, profile=default_profile, upload=upload)
        wait_for(lambda: Job.objects.filter(status=Job.Status.DONE).count() == len(clips), timeout=120)
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(timeout=30)
    done = list(Job.objects.all())
    assert all(job.attempt == 1 for job in done)  # claimed exactly once each
    assert len({job.worker for job in done}) == 2  # both workers took jobs

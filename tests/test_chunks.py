"""A long job's chunks (transcription/chunks.py): claimed once, counted into the job's progress,
stitched by exactly one worker, ignored once their run is over, and repaired when their worker
is lost (upkeep.reconcile)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal import queues
from tests.conftest import AUDIO
from transcription import chunked, chunks, services, upkeep
from transcription.models import Job, JobChunk

pytestmark = pytest.mark.django_db

SPANS = [(0.0, 3.0), (3.0, 7.1)]


@pytest.fixture
def running(alice, default_profile) -> Job:
    """Alice's job, claimed by the worker "cutter" and cut into two chunks."""
    data = (AUDIO / "sense_and_sensibility_01_austen_64kb-0870.wav").read_bytes()
    job = services.job_create(owner=alice, profile=default_profile, upload=SimpleUploadedFile("a.wav", data))
    job, problem = services.job_claim(job_id=job.id, worker_name="cutter")
    assert not problem
    with django_capture_on_commit():
        created = chunks.chunks_create(job=job, spans=SPANS, decode_seconds=0.1)
    assert len(created) == 2
    return job


def django_capture_on_commit():
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def test_it_puts_each_chunk_at_the_front_of_the_jobs_queue(running):
    queue = queues.get_queue(running.options["queue"])
    ids = [f"chunk-{pk}" for pk in JobChunk.objects.filter(job=running).values_list("pk", flat=True)]
    assert set(queue.job_ids[:2]) == set(ids)
    assert running.options["chunked"] == {"parts": 2, "decode_seconds": 0.1}


def test_it_lets_only_one_worker_claim_a_chunk(running):
    first = chunks.chunk_claim_next(job=running, worker_name="cutter")
    assert first.index == 0 and first.status == JobChunk.Status.RUNNING
    assert chunks.chunk_claim(chunk_id=first.pk, worker_name="helper") is None
    second = chunks.chunk_claim_next(job=running, worker_name="helper")
    assert second.index == 1 and second.worker == "helper"
    assert chunks.chunk_claim_next(job=running, worker_name="cutter") is None


def test_it_gives_no_chunk_of_a_job_that_was_cancelled(running):
    services.job_cancel(job=running)
    assert chunks.chunk_claim_next(job=running, worker_name="helper") is None


def test_it_reports_the_jobs_progress_as_the_sum_of_its_chunks(running):
    first = chunks.chunk_claim_next(job=running, worker_name="cutter")
    second = chunks.chunk_claim_next(job=running, worker_name="helper")
    chunks.chunk_progress(chunk=first, seconds_done=1.5)
    chunks.chunk_progress(chunk=second, seconds_done=2.0)
    running.refresh_from_db()
    assert running.progress == pytest.approx(3.5 / 7.1) and running.duration == pytest.approx(7.1)


def test_it_has_exactly_one_worker_stitch_the_job(running):
    first = chunks.chunk_claim_next(job=running, worker_name="cutter")
    second = chunks.chunk_claim_next(job=running, worker_name="helper")
    said = {"text": "x", "language": "en", "segments": []}
    assert chunks.chunk_finish(chunk=second, transcript=said, processing_seconds=1) is False  # one to go
    assert chunks.chunk_finish(chunk=first, transcript=said, processing_seconds=1) is True  # the last
    assert chunks.chunk_finish(chunk=first, transcript=said, processing_seconds=1) is False  # and once
    running.refresh_from_db()
    assert running.worker == "cutter"  # reconcile now watches the stitching worker
    assert [c.index for c in chunks.chunks_done(job=running)] == [0, 1]


def test_it_ignores_a_stale_chunk_once_the_job_runs_again(running):
    stale = chunks.chunk_claim_next(job=running, worker_name="helper")
    assert services.job_requeue(job=running)
    services.job_claim(job_id=running.id, worker_name="another")  # the job's second run
    said = {"text": "old", "language": "en", "segments": []}
    assert chunks.chunk_finish(chunk=stale, transcript=said, processing_seconds=1) is False
    chunks.chunk_progress(chunk=stale, seconds_done=3.0)
    stale.refresh_from_db()
    assert stale.status == JobChunk.Status.RUNNING and stale.transcript is None
    assert Job.objects.get(pk=running.pk).progress == 0


def test_it_requeues_the_chunk_of_a_lost_worker_and_keeps_the_job_on_the_live_one(running):
    lost = chunks.chunk_claim_next(job=running, worker_name="gone")
    chunks.chunk_claim_next(job=running, worker_name="helper")
    queues.get_queue(running.options["queue"]).empty()
    # The cutter is gone too, but "helper" still works on the job: only the lost chunk goes back.
    with django_capture_on_commit():
        report = upkeep.jobs_reconcile(live_workers={"helper"})
    assert report.chunks == [lost.pk] and report.requeued == [] and report.failed == []
    lost.refresh_from_db()
    assert lost.status == JobChunk.Status.QUEUED and lost.worker == ""
    assert queues.get_queue(running.options["queue"]).job_ids == [f"chunk-{lost.pk}"]
    assert Job.objects.get(pk=running.pk).status == Job.Status.RUNNING


def test_it_requeues_the_job_when_no_worker_is_left_on_it(running):
    chunks.chunk_claim_next(job=running, worker_name="gone")
    report = upkeep.jobs_reconcile(live_workers=set())
    assert report.requeued == [str(running.pk)]
    assert chunks.chunk_claim_next(job=running, worker_name="helper") is None  # the old run's


def test_it_deletes_the_decoded_samples_with_the_job(running, alice):
    path = chunked.samples_path(running)
    path.write_bytes(b"\0" * 16)
    with django_capture_on_commit():
        services.job_delete(job=running)
    assert not path.exists() and not JobChunk.objects.exists()

"""Faults, for real: a worker killed with SIGKILL mid-job, a queue entry Redis lost, a job that
runs out of time. Nothing is left "running" forever and the worker carries on."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from portal import queues
from tests.conftest import AUDIO, run_worker
from tests.hostile import CLIP, wav_bytes
from tests.test_browser import database_url
from transcription import audio, scheduler, services, upkeep
from transcription.engine import whisper_engine, whisper_layout
from transcription.models import Job

ROOT = Path(__file__).resolve().parent.parent


def long_recording(seconds: float = 90) -> bytes:
    """Real speech repeated to `seconds`: long enough to kill a worker in the middle."""
    clip = audio.decode(AUDIO / "sense_and_sensibility_01_austen_64kb-0870.wav", max_seconds=60)
    return wav_bytes(np.tile(clip, int(seconds * 16_000 / clip.size) + 1))


def start_worker(settings, log: Path | None = None, **env) -> subprocess.Popen:
    """A real `asrworker` process on the test database and Redis; its log goes to `log` if given."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "VAR_DIR": str(settings.VAR_DIR),
        "ASR_HEARTBEAT_SECONDS": "1",
        "ASR_WORKER_TTL": "2",
        **env,
    }
    output = log.open("w") if log else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "manage.py", "asrworker", "--no-preload"],
        cwd=ROOT,
        env=environment,
        stdout=output,
        stderr=output,
    )


def wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("max_attempts, outcome", [(2, Job.Status.DONE), (1, Job.Status.FAILED)])
def test_it_recovers_a_job_whose_worker_was_killed(settings, alice, default_profile, max_attempts, outcome):
    settings.ASR_MAX_ATTEMPTS = max_attempts
    settings.ASR_HEARTBEAT_SECONDS = 1  # the grace period reconcile allows a fresh claim
    job = services.job_create(
        owner=alice, profile=default_profile, upload=SimpleUploadedFile("long.wav", long_recording())
    )
    worker = start_worker(settings)
    try:
        wait_for(lambda: Job.objects.get(pk=job.pk).status == Job.Status.RUNNING)
        time.sleep(0.5)  # into the recognition
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        worker.kill()
    killed = Job.objects.get(pk=job.pk)
    assert killed.status == Job.Status.RUNNING and killed.worker  # what a crash leaves behind

    time.sleep(2.5)  # the dead worker's heartbeat expires (ASR_WORKER_TTL=2)
    out = io.StringIO()
    call_command("reconcile", stdout=out)
    killed.refresh_from_db()
    if outcome == Job.Status.DONE:
        assert "1 re-queued" in out.getvalue() and killed.status == Job.Status.QUEUED
        run_worker()  # another worker completes it
        killed.refresh_from_db()
        assert killed.status == Job.Status.DONE and killed.attempt == 2 and killed.text
    else:
        assert "1 failed as lost" in out.getvalue()
        assert killed.status == Job.Status.FAILED and "stopped unexpectedly" in killed.error


@pytest.mark.django_db(transaction=True)
def test_it_leaves_a_job_alone_while_its_worker_lives(settings, alice, default_profile):
    settings.ASR_HEARTBEAT_SECONDS = 1
    job = services.job_create(
        owner=alice, profile=default_profile, upload=SimpleUploadedFile("long.wav", long_recording(180))
    )
    worker = start_worker(settings, ASR_WORKER_TTL="10")  # alive for sure, even on a loaded machine
    try:
        wait_for(lambda: Job.objects.get(pk=job.pk).progress > 0, timeout=120)  # running, well underway
        time.sleep(1.5)  # past reconcile's grace period of one heartbeat
        before = Job.objects.get(pk=job.pk)
        out = io.StringIO()
        call_command("reconcile", stdout=out)
        after = Job.objects.get(pk=job.pk)
        assert "0 re-queued, 0 failed" in out.getvalue()
        # Reconcile ran while the job ran, and left it to its worker.
        assert before.status == after.status == Job.Status.RUNNING and after.progress < 1
        assert (after.attempt, after.worker, after.started_at) == (1, before.worker, before.started_at)
        # 180 s of Whisper tiny.en: give a loaded 2-core machine time
        wait_for(lambda: Job.objects.get(pk=job.pk).status == Job.Status.DONE, timeout=300)
    finally:
        worker.kill()  # never leave a worker behind to eat the next test's jobs
        worker.wait(timeout=30)


@pytest.mark.django_db
def test_it_enqueues_again_a_queued_job_that_redis_lost(
    alice, default_profile, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_create(owner=alice, profile=default_profile, upload=SimpleUploadedFile(
            "a.wav", (AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav").read_bytes()))  # fmt: skip
    queues.get_queue("asr").connection.flushdb()  # Redis restarted without its data
    with django_capture_on_commit_callbacks(execute=True):
        report = upkeep.jobs_reconcile(live_workers=set())
    assert report.reenqueued == [str(job.id)]
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE


@pytest.mark.django_db
def test_it_fails_a_job_that_runs_past_its_time_limit_and_carries_on(
    settings, alice, default_profile, django_capture_on_commit_callbacks
):
    settings.ASR_JOB_TIMEOUT_BASE = 1  # with 3 x 90 s of audio: far too little for the first
    settings.ASR_BATCH_MAX_JOBS = 1  # each job under its own time limit, not in one batch
    long = services.job_create(
        owner=alice, profile=default_profile, upload=SimpleUploadedFile("long.wav", long_recording())
    )
    from transcription.models import Job as JobModel

    JobModel.objects.filter(pk=long.pk).update(duration=0)  # so the timeout is 1 s
    with django_capture_on_commit_callbacks(execute=True):
        scheduler._enqueue(JobModel.objects.get(pk=long.pk))
        short = services.job_create(owner=alice, profile=default_profile, upload=SimpleUploadedFile(
            "short.wav", (AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav").read_bytes()))  # fmt: skip
    run_worker()
    long.refresh_from_db(), short.refresh_from_db()
    assert long.status == Job.Status.FAILED and "time limit" in long.error
    assert short.status == Job.Status.DONE


@pytest.mark.django_db(transaction=True)
def test_it_stops_a_running_job_when_cancelled_and_takes_the_next(settings, alice, default_profile, tmp_path):
    """Ten minutes of speech keep Whisper tiny.en busy for half a minute or more here. Cancelled a
    moment into the recognition, the worker stops at its next segment (Whisper hands them over a
    batch of 30 s clips at a time: 4 on a CPU), stays up, and transcribes the next job."""
    log = tmp_path / "worker.log"
    long = services.job_create(
        owner=alice, profile=default_profile, upload=SimpleUploadedFile("long.wav", long_recording(600))
    )
    worker = start_worker(settings, log=log, ASR_WORKER_TTL="30")
    try:
        wait_for(lambda: Job.objects.get(pk=long.pk).progress > 0, timeout=120)  # recognising now
        running = Job.objects.get(pk=long.pk)
        cancelled_at, done_at_cancel = time.monotonic(), running.progress * running.duration
        assert services.job_cancel(job=running)
        wait_for(lambda: "cancelled while running" in log.read_text(), timeout=60)
        stopped_after = time.monotonic() - cancelled_at
        done, total = map(float, re.search(r"stopped at ([\d.]+) of ([\d.]+) s", log.read_text()).groups())
        print(f"stopped {stopped_after:.1f} s after the cancel, at {done:.0f} s of {total:.0f} s of audio")
        batch = whisper_engine.BATCH_SIZE["cpu"] * whisper_layout.WINDOW_S
        # The progress seen may be a batch behind the decoding: a batch's segments come at once,
        # and progress is reported at most ASR_PROGRESS_PER_SECOND. So: within the batch after it.
        assert done - done_at_cancel <= 2 * batch and done < total / 2  # far from the end

        short = services.job_create(
            owner=alice, profile=default_profile, upload=SimpleUploadedFile("short.wav", CLIP.read_bytes())
        )
        wait_for(lambda: Job.objects.get(pk=short.pk).status == Job.Status.DONE, timeout=60)
        assert worker.poll() is None  # the same worker, still running
        long.refresh_from_db(), short.refresh_from_db()
        assert short.worker == long.worker and "young man" in short.text.lower()
        assert long.status == Job.Status.FAILED and long.error == services.CANCELLED and not long.text
    finally:
        worker.kill()  # never leave a worker behind to eat the next test's jobs
        worker.wait(timeout=30)


@pytest.mark.django_db
def test_it_does_not_queue_again_a_job_that_finished_while_reconcile_ran(
    alice, default_profile, django_capture_on_commit_callbacks, monkeypatch
):
    # Reconcile lists the queued jobs, then asks Redis about each one; a job a worker finishes in
    # between has no RQ entry either (result_ttl=0). bench/batches.py saw 3 of 500 jobs run twice.
    clip = (AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav").read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        jobs = [
            services.job_create(
                owner=alice, profile=default_profile, upload=SimpleUploadedFile(f"{i}.wav", clip)
            )
            for i in range(2)
        ]
    queue, drained = queues.get_queue("asr"), []
    fetch_job = type(queue).fetch_job

    def worker_drains_the_queue_first(self, job_id):
        if not drained:
            drained.append(job_id)
            run_worker()
        return fetch_job(self, job_id)

    monkeypatch.setattr(type(queue), "fetch_job", worker_drains_the_queue_first)
    with django_capture_on_commit_callbacks(execute=True):
        upkeep.jobs_reconcile(live_workers=set())
    assert drained, "reconcile never asked Redis"
    assert queue.count == 0
    assert [(j.status, j.attempt) for j in Job.objects.filter(pk__in=[j.pk for j in jobs])] == [
        ("done", 1)
    ] * 2

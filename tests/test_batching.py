"""Batching across jobs, through the real worker command: short queued jobs go through the
engine together, and each still gets its own result, progress events and failure."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from tests.conftest import english_clips
from tests.spies import Spy
from transcription import services
from transcription.engine import EngineOutOfMemory
from transcription.engine.whisper_engine import WhisperEngine
from transcription.models import Job

pytestmark = pytest.mark.django_db


def queue_clips(owner, profile, capture, paths) -> list[Job]:
    with capture(execute=True):
        return [
            services.job_create(
                owner=owner, profile=profile, upload=SimpleUploadedFile(f"{i}.wav", path.read_bytes())
            )
            for i, path in enumerate(paths)
        ]


def run_worker(batch_max_jobs: int) -> str:
    out = io.StringIO()
    call_command("asrworker", burst=True, no_preload=True, batch_max_jobs=batch_max_jobs, stdout=out)
    return out.getvalue()


def test_it_recognises_short_jobs_together_and_fails_a_bad_file_alone(
    alice, default_profile, django_capture_on_commit_callbacks, monkeypatch, tmp_path
):
    clips = english_clips()
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 200)  # a damaged header
    paths = [Path(p) for p in clips]
    jobs = queue_clips(
        alice, default_profile, django_capture_on_commit_callbacks, [paths[0], bad, *paths[1:]]
    )
    broken = jobs.pop(1)
    Job.objects.filter(pk=broken.pk).update(duration=3.0)  # as if its header had claimed 3 s
    engine_calls = Spy(monkeypatch, WhisperEngine, "transcribe_many")
    progress = Spy(monkeypatch, services, "job_progress")

    run_worker(batch_max_jobs=4)

    for job, reference in zip(jobs, clips.values(), strict=True):
        job.refresh_from_db()
        assert job.status == Job.Status.DONE and reference.split()[-1] in job.text.lower()
        assert job.attempt == 1 and job.processing_seconds > 0
    broken.refresh_from_db()
    assert broken.status == Job.Status.FAILED and "can be read" in broken.error
    # Four jobs claimed together, the bad one failing at decoding; then the last two.
    assert [len(args[1]) for args, _ in engine_calls.calls] == [3, 2]
    assert [Job.objects.get(pk=job.pk).options["batched"] for job in jobs] == [3, 3, 3, 2, 2]
    finals = [kw["job"].id for _, kw in progress.calls if kw["seconds_done"] >= kw["seconds_total"]]
    assert set(finals) == {job.id for job in jobs}  # each job reached its own end


def test_it_runs_each_job_alone_when_the_batched_call_fails(
    alice, default_profile, django_capture_on_commit_callbacks, monkeypatch
):
    whole = WhisperEngine.transcribe_many

    def out_of_memory_together(self, audios, **kwargs):  # the device is the boundary we stand in for
        if len(audios) > 1:
            raise EngineOutOfMemory("The device ran out of memory on these recordings.")
        return whole(self, audios, **kwargs)  # each one alone fits

    monkeypatch.setattr(WhisperEngine, "transcribe_many", out_of_memory_together)
    paths = [Path(p) for p in english_clips()][:3]
    jobs = queue_clips(alice, default_profile, django_capture_on_commit_callbacks, paths)
    run_worker(batch_max_jobs=3)
    assert [Job.objects.get(pk=job.pk).status for job in jobs] == [Job.Status.DONE] * 3


def test_it_leaves_long_jobs_and_other_options_out_of_a_batch(
    alice, default_profile, django_capture_on_commit_callbacks, monkeypatch
):
    paths = [Path(p) for p in english_clips()][:3]
    jobs = queue_clips(alice, default_profile, django_capture_on_commit_callbacks, paths)
    Job.objects.filter(pk=jobs[1].pk).update(duration=600.0)  # too long to batch
    with django_capture_on_commit_callbacks(execute=True):
        other = services.job_create(
            owner=alice, profile=default_profile, upload=SimpleUploadedFile("h.wav", paths[0].read_bytes()),
            hotwords=["Dashwood"],
        )  # fmt: skip
    engine_calls = Spy(monkeypatch, WhisperEngine, "transcribe_many")
    run_worker(batch_max_jobs=8)
    # Jobs 1 and 3 together; the long one and the one with other hotwords each alone.
    assert sorted(len(args[1]) for args, _ in engine_calls.calls) == [1, 1, 2]
    assert Job.objects.filter(status=Job.Status.DONE).count() == 4
    assert Job.objects.get(pk=other.pk).options.get("batched") is None


def test_it_lets_a_job_be_cancelled_in_a_batch_while_the_others_finish(
    alice, default_profile, django_capture_on_commit_callbacks, monkeypatch
):
    paths = [Path(p) for p in english_clips()][:3]
    first, second, third = queue_clips(alice, default_profile, django_capture_on_commit_callbacks, paths)
    mark = services.jobs_mark_batched

    def cancel_the_second_as_the_batch_starts(*, jobs):  # the user's click, at that moment
        mark(jobs=jobs)
        services.job_cancel(job=Job.objects.get(pk=second.pk))

    monkeypatch.setattr(services, "jobs_mark_batched", cancel_the_second_as_the_batch_starts)
    run_worker(batch_max_jobs=3)
    statuses = {job.pk: (job.status, job.error) for job in Job.objects.all()}
    assert statuses[first.pk] == (Job.Status.DONE, "") and statuses[third.pk] == (Job.Status.DONE, "")
    assert statuses[second.pk] == (Job.Status.FAILED, services.CANCELLED)
    assert not Job.objects.get(pk=second.pk).text

"""One long recording across many workers (transcription/chunked.py), with the real engine
(Whisper tiny.en) on real speech: cut in pauses, the chunks taken by whichever worker is free,
stitched back in order into one job with one progress and one cancel; a chunk whose worker dies
goes back to the queue."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal import queues
from tests.conftest import english_clips, run_worker
from tests.conversations import MEETING, conversation
from tests.hostile import wav_bytes
from tests.test_reliability import start_worker, wait_for
from transcription import audio, chunked, services, upkeep, worker_registry
from transcription.evaluation import word_error_rate
from transcription.models import Job, JobChunk

pytestmark = pytest.mark.django_db(transaction=True)

GAP = np.zeros(8_000, dtype=np.float32)  # half a second between sentences


def reading(rounds: int) -> tuple[bytes, str]:
    """The five LibriVox clips, half a second apart, `rounds` times (27 s a round), and what is said."""
    clips = english_clips()
    pieces = [np.concatenate([audio.decode(Path(path), max_seconds=60), GAP]) for path in clips]
    return wav_bytes(np.concatenate(pieces * rounds)), " ".join(list(clips.values()) * rounds)


def another_worker_on(queue: str, name: str = "helper") -> None:
    """A second live worker on the queue, as the registry sees it: what makes a long job worth cutting."""
    worker_registry.announce(
        queues.connection(), worker_registry.WorkerStatus(name=name, queue=queue, device="cpu"), ttl=600
    )


def upload(alice, profile, data: bytes, name: str = "meeting.wav", **options) -> Job:
    return services.job_create(owner=alice, profile=profile, upload=SimpleUploadedFile(name, data), **options)


def test_it_cuts_a_long_job_in_pauses_and_stitches_the_same_transcript(settings, alice, default_profile):
    data, said = reading(3)  # 82 s
    settings.ASR_CHUNK_SECONDS = 0
    whole = upload(alice, default_profile, data, "whole.wav")
    run_worker()
    settings.ASR_CHUNK_SECONDS = 20
    another_worker_on(default_profile.queue)
    cut = upload(alice, default_profile, data, "cut.wav")
    run_worker()  # this worker cuts the job, then takes every chunk: the helper never comes

    whole.refresh_from_db()
    cut.refresh_from_db()
    assert whole.status == cut.status == Job.Status.DONE
    assert "chunked" not in whole.options and cut.options["chunked"]["parts"] == 4
    chunks = list(JobChunk.objects.filter(job=cut).order_by("index"))
    assert [c.status for c in chunks] == [JobChunk.Status.DONE] * 4
    assert chunks[0].start == 0 and chunks[-1].end == pytest.approx(cut.duration, abs=0.01)
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert before.end == after.start  # nothing lost, nothing heard twice
        at = int(after.start * 16_000)  # in a pause: the gap between two sentences is silent
        assert np.abs(audio.decode(Path(cut.audio.path), max_seconds=600)[at - 800 : at + 800]).max() < 0.01
    # The same words, but for a few Whisper tiny.en hears otherwise with other audio around them
    # ("ill-disposed" / "old-sposed", see docs/benchmarks.md): chunks of 20 s here, 300 s by default.
    assert word_error_rate([(whole.text, cut.text)]) < 0.06
    assert word_error_rate([(said, cut.text)]) <= word_error_rate([(said, whole.text)]) + 0.05
    starts = [s["start"] for s in cut.segments]
    assert starts == sorted(starts) and cut.segments[-1]["end"] > cut.duration - 10
    assert cut.progress == 1.0 and cut.worker == chunks[0].stitched_by
    assert not list(Path(cut.audio.path).parent.glob("*.samples-*"))  # the decoded copy is gone


def test_it_leaves_a_long_job_whole_when_no_other_worker_could_help(settings, alice, default_profile):
    settings.ASR_CHUNK_SECONDS = 20
    job = upload(alice, default_profile, reading(3)[0])
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and "chunked" not in job.options
    assert not JobChunk.objects.exists()


def test_it_never_cuts_a_call_recorded_one_side_per_channel_nor_a_job_set_to_run_alone(
    settings, alice, default_profile
):
    settings.ASR_CHUNK_SECONDS = 20
    for name in ("one", "two"):
        another_worker_on(default_profile.queue, name)
    job = upload(alice, default_profile, reading(3)[0])
    assert chunked.parts_for(job) == 4
    original = job.options
    for options in ({"diarize": {"channels": ["agent", "customer"]}}, {"alone": True}):
        job.options = {**original, **options}
        assert chunked.parts_for(job) == 0


@pytest.fixture
def two_workers(settings, tmp_path):
    """Two real `asrworker` processes on the queue, chunks of about 20 s; killed at the end."""
    env = {"ASR_CHUNK_SECONDS": "20"}
    workers = [start_worker(settings, tmp_path / f"worker-{i}.log", **env) for i in range(2)]
    try:
        wait_for(lambda: len(worker_registry.list_all(queues.connection())) == 2, timeout=120)
        yield workers
    finally:
        for worker in workers:
            worker.kill()
            worker.wait(timeout=30)


def test_it_shares_one_recording_between_two_worker_processes(alice, default_profile, two_workers):
    data, said = reading(4)  # 109 s
    job = upload(alice, default_profile, data)
    wait_for(lambda: Job.objects.get(pk=job.pk).status == Job.Status.DONE, timeout=240)
    job.refresh_from_db()
    chunks = list(JobChunk.objects.filter(job=job))
    assert len(chunks) == job.options["chunked"]["parts"] == 6  # 2 workers x round(109 / 40)
    assert len({c.worker for c in chunks}) == 2  # both workers recognised chunks
    assert job.attempt == 1 and word_error_rate([(said, job.text)]) < 0.10  # 0.03 whole, see above


def test_it_stops_every_chunk_when_the_job_is_cancelled(alice, default_profile, two_workers):
    job = upload(alice, default_profile, reading(8)[0])  # 218 s: 10 chunks
    running = JobChunk.objects.filter(job=job, status=JobChunk.Status.RUNNING)
    wait_for(lambda: running.count() == 2, timeout=120)  # both workers are on it
    services.job_cancel(job=Job.objects.get(pk=job.pk))
    idle = lambda: all(not w["current_job"] for w in worker_registry.list_all(queues.connection()))  # noqa: E731
    wait_for(idle, timeout=30)  # both stopped within a progress check, and took no other chunk
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error == services.CANCELLED
    assert JobChunk.objects.filter(job=job, status=JobChunk.Status.QUEUED).count() >= 4
    assert not list(Path(job.audio.path).parent.glob("*.samples-*"))


def test_it_gives_the_chunk_of_a_killed_worker_to_another(settings, alice, default_profile, two_workers):
    settings.ASR_HEARTBEAT_SECONDS = 1  # the grace period reconcile allows a fresh claim
    job = upload(alice, default_profile, reading(4)[0])
    running = JobChunk.objects.filter(job=job, status=JobChunk.Status.RUNNING)
    wait_for(lambda: running.count() == 2, timeout=120)
    chunk = running.exclude(worker=Job.objects.get(pk=job.pk).worker).first()  # not the cutter's
    victim = next(w for w in worker_registry.list_all(queues.connection()) if w["name"] == chunk.worker)
    {w.pid: w for w in two_workers}[int(victim["pid"])].send_signal(signal.SIGKILL)
    time.sleep(2.5)  # its heartbeat expires (ASR_WORKER_TTL=2)
    report = upkeep.reconcile()
    assert report.chunks == [chunk.pk] and not report.requeued  # the job goes on, on the other
    wait_for(lambda: Job.objects.get(pk=job.pk).status == Job.Status.DONE, timeout=240)
    chunk.refresh_from_db()
    assert chunk.status == JobChunk.Status.DONE and chunk.worker != victim["name"]
    assert Job.objects.get(pk=job.pk).attempt == 1


def test_it_tells_the_same_speakers_apart_across_chunks(
    client, settings, alice, default_profile, django_capture_on_commit_callbacks
):
    from tests.test_jobs_speakers import segment_accuracy
    from tests.test_jobs_speakers import upload as upload_page

    conv = conversation(MEETING, pause=1.0)  # 55 s, three people
    settings.ASR_CHUNK_SECONDS = 28  # two chunks
    another_worker_on(default_profile.queue)
    client.force_login(alice)
    job = upload_page(client, django_capture_on_commit_callbacks, conv, speakers="auto")
    assert job.status == Job.Status.DONE and job.options["chunked"]["parts"] == 2
    cut = JobChunk.objects.get(job=job, index=1).start
    # Speakers are found over the whole recording once the chunks are stitched: the same three
    # people on both sides of the cut, not S1-S3 in each chunk.
    assert list(job.speakers) == ["S1", "S2", "S3"]
    before = {s["speaker"] for s in job.segments if s["end"] <= cut}
    after = {s["speaker"] for s in job.segments if s["start"] >= cut}
    assert len(before) >= 2 and len(after) >= 2 and before & after
    assert segment_accuracy(conv, job) >= 0.95

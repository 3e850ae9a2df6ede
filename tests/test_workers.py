"""The worker process around the jobs: live registry, unloading, memory, running out of memory."""

import io
import time

import django_rq
import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from tests.conftest import AUDIO, upload_of
from transcription import engine, services, worker_registry
from transcription.engine import EngineOutOfMemory
from transcription.engine.whisper_engine import WhisperEngine
from transcription.models import Job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]

CLIP = AUDIO / "sense_and_sensibility_01_austen_64kb-0880.wav"


@pytest.fixture
def redis():
    return django_rq.get_connection(settings.ASR_QUEUE)


def queue_jobs(owner, profile, capture, count: int = 1) -> list[Job]:
    with capture(execute=True):
        return [
            services.job_create(owner=owner, profile=profile, upload=upload_of(CLIP)) for _ in range(count)
        ]


def test_it_publishes_a_worker_and_forgets_it_after_its_ttl(redis):
    status = worker_registry.WorkerStatus(name="w1", queue="asr", device="cpu")
    worker_registry.announce(redis, status, ttl=1)
    [listed] = worker_registry.list_all(redis)
    assert listed["name"] == "w1" and listed["queue"] == "asr" and float(listed["rss_mb"]) > 0
    time.sleep(1.2)
    assert worker_registry.list_all(redis) == []


def test_it_unloads_the_model_when_an_admin_asks(redis, default_profile):
    from transcription.profiles import engine_config

    engine.get_engine(engine_config(default_profile))
    status = worker_registry.WorkerStatus(name="w2", queue="asr", device="cpu")
    worker_registry.heartbeat(redis, status)
    assert "faster-whisper" in worker_registry.list_all(redis)[0]["model"]
    assert worker_registry.request_unload(redis, "w2")
    worker_registry.heartbeat(redis, status)
    assert engine.resident_config() is None
    assert worker_registry.list_all(redis)[0]["model"] == ""
    assert not worker_registry.request_unload(redis, "no-such-worker")


def test_it_retires_a_worker_above_its_memory_ceiling(
    alice, default_profile, django_capture_on_commit_callbacks
):
    queue_jobs(alice, default_profile, django_capture_on_commit_callbacks, count=2)
    # One job per run: a batch would take both jobs at once.
    call_command(
        "asrworker", burst=True, no_preload=True, max_memory_mb=1, batch_max_jobs=1, stdout=io.StringIO()
    )
    assert sorted(Job.objects.values_list("status", flat=True)) == ["done", "queued"]


def test_it_retries_with_a_smaller_batch_after_running_out_of_memory(
    alice, default_profile, django_capture_on_commit_callbacks, monkeypatch
):
    batches = []
    real = WhisperEngine.transcribe_many

    def first_call_runs_out(self, audios, **kwargs):  # the device is the boundary we stand in for
        batches.append(self.config.batch_size_s)
        if len(batches) == 1:
            raise EngineOutOfMemory("The device ran out of memory on this recording.")
        return real(self, audios, **kwargs)

    monkeypatch.setattr(WhisperEngine, "transcribe_many", first_call_runs_out)
    [job] = queue_jobs(alice, default_profile, django_capture_on_commit_callbacks)
    call_command("asrworker", burst=True, no_preload=True, stdout=io.StringIO())
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and "young man" in job.text.lower()
    assert batches == [300, 75]


def test_it_fails_a_job_that_runs_out_of_memory_twice_and_carries_on(
    alice, default_profile, django_capture_on_commit_callbacks, monkeypatch
):
    real, calls = WhisperEngine.transcribe_many, []

    def out_of_memory_for_the_first_job(self, audios, **kwargs):
        calls.append(1)
        if len(calls) <= 2:
            raise EngineOutOfMemory("The device ran out of memory on this recording.")
        return real(self, audios, **kwargs)

    monkeypatch.setattr(WhisperEngine, "transcribe_many", out_of_memory_for_the_first_job)
    first, second = queue_jobs(alice, default_profile, django_capture_on_commit_callbacks, count=2)
    # Each job on its own (batches: see tests/test_batching.py).
    call_command("asrworker", burst=True, no_preload=True, batch_max_jobs=1, stdout=io.StringIO())
    first.refresh_from_db(), second.refresh_from_db()
    assert first.status == Job.Status.FAILED and "ran out of memory" in first.error
    assert second.status == Job.Status.DONE


def test_it_shows_live_workers_to_staff_only(client, alice, admin_user, redis):
    worker_registry.announce(
        redis, worker_registry.WorkerStatus(name="gpu-box-0", queue="gpu", device="cuda:0")
    )
    client.force_login(alice)
    assert client.get(reverse("workers")).status_code in (302, 403)
    assert client.post(reverse("worker_unload", args=["gpu-box-0"])).status_code in (302, 403)
    assert not redis.exists(worker_registry.KEY_PREFIX + "gpu-box-0" + worker_registry.UNLOAD_SUFFIX)
    client.force_login(admin_user)
    page = client.get(reverse("workers")).content.decode()
    assert "gpu-box-0" in page and "cuda:0" in page and "0 s ago" in page
    client.post(reverse("worker_unload", args=["gpu-box-0"]))
    assert redis.exists(worker_registry.KEY_PREFIX + "gpu-box-0" + worker_registry.UNLOAD_SUFFIX)


def test_it_gives_freed_heap_memory_back_to_the_system_after_a_job():
    # Native libraries (CTranslate2, torch) and Python's larger objects allocate with malloc;
    # glibc keeps freed heap pages unless asked, so a worker held tens of MB it no longer used.
    blocks = [bytes(1024) for _ in range(150_000)]  # ~150 MB in malloc's heap, not in mmaps
    pinned = bytes(1024)  # allocated last: the heap's top stays in use, so free alone cannot shrink it
    del blocks
    before, _ = worker_registry.memory_mb()
    engine.release_memory()
    after, _ = worker_registry.memory_mb()
    assert before - after > 100, (before, after)
    assert pinned

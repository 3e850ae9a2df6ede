"""Waiting for a transcript in the request (api/waiting.py), against a live daphne with no worker:
the answer comes when the job's end is announced, not on a timer; waiting requests hold no
thread; and waits are capped per user (429 with Retry-After, nothing stored)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from api import services as token_services
from tests.conftest import english_clips
from tests.test_api_openai import start_daphne, stop, subprocess_env
from transcription import services
from transcription.models import Job
from transcription.postprocess import Result

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("default_profile")]

CLIP = Path(next(iter(english_clips())))


@pytest.fixture
def portal(tmp_path, settings):
    """daphne alone (no worker: the jobs wait until the test ends them), with short waits."""

    def start(**env: str) -> tuple[str, object]:
        daphne, url = start_daphne(subprocess_env(settings.MEDIA_ROOT, **env), tmp_path / "daphne.log")
        started.append(daphne)
        return url, daphne

    started: list = []
    yield start
    for daphne in started:
        stop(daphne)


def transcribe(url: str, token: str, results: list, name: str = "clip.wav") -> None:
    """POST /v1/audio/transcriptions as a client does; (status, headers, body, seconds) into results."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: audio/wav\r\n\r\n"
        ).encode()
        + CLIP.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{url}/v1/audio/transcriptions",
        data=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            results.append(
                (response.status, dict(response.headers), response.read(), time.monotonic() - started)
            )
    except urllib.error.HTTPError as error:
        results.append((error.code, dict(error.headers), error.read(), time.monotonic() - started))


def in_background(url: str, token: str, count: int) -> tuple[list, list[threading.Thread]]:
    results: list = []
    threads = [
        threading.Thread(target=transcribe, args=(url, token, results, f"{i}.wav")) for i in range(count)
    ]
    for thread in threads:
        thread.start()
    return results, threads


def wait_until(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def threads_of(process) -> int:
    status = Path(f"/proc/{process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Threads:")))


def finish(job: Job) -> None:
    """What a worker does at the end of a job, from here: the claim, then the result."""
    claimed, _ = services.job_claim(job_id=str(job.id), worker_name="test")
    services.job_finish(job=claimed, result=Result("he was not an ill disposed young man", "", "en"),
                        duration=3.0, processing_seconds=0.5)  # fmt: skip


def test_it_answers_as_soon_as_the_job_ends_not_on_a_timer(portal, alice):
    url, _ = portal(API_WAIT_SECONDS="60")
    token = token_services.token_create(user=alice, name="t").plain
    results, [thread] = in_background(url, token, 1)
    wait_until(lambda: Job.objects.filter(status=Job.Status.QUEUED).exists())
    time.sleep(1.0)  # the request is waiting now (it asked the database once, found it queued)
    ended_at = time.monotonic()
    finish(Job.objects.get())
    thread.join(timeout=30)
    [(status, _headers, body, seconds)] = results
    assert status == 200 and json.loads(body) == {"text": "he was not an ill disposed young man"}
    # Woken by the job's end event: well under the 5 s between the waiter's database checks.
    assert time.monotonic() - ended_at < 2.0


def test_it_holds_no_thread_per_waiting_request(portal, alice):
    url, daphne = portal(API_WAIT_SECONDS="30", API_MAX_WAITS_PER_USER="100")
    token = token_services.token_create(user=alice, name="t").plain
    _, warming = in_background(url, token, 8)  # first, the server's thread pools grow to their size
    wait_until(lambda: Job.objects.filter(status=Job.Status.QUEUED).count() == 8)
    for job in Job.objects.filter(status=Job.Status.QUEUED):
        finish(job)
    for thread in warming:
        thread.join(timeout=60)
    before = threads_of(daphne)
    results, threads = in_background(url, token, 40)
    wait_until(lambda: Job.objects.filter(status=Job.Status.QUEUED).count() == 40)
    time.sleep(1.0)
    assert results == []  # all 40 are waiting
    during = threads_of(daphne)
    assert during - before < 12, f"{before} threads before, {during} with 40 requests waiting"
    for job in Job.objects.filter(status=Job.Status.QUEUED):
        finish(job)
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(status for status, *_ in results) == [200] * 40


def test_it_refuses_a_user_past_the_cap_before_storing_anything(portal, alice, bob):
    url, _ = portal(API_WAIT_SECONDS="60", API_MAX_WAITS_PER_USER="3")
    alices, bobs = (token_services.token_create(user=u, name="t").plain for u in (alice, bob))
    results, threads = in_background(url, alices, 3)
    wait_until(lambda: Job.objects.filter(owner=alice).count() == 3)
    time.sleep(0.5)
    refused: list = []
    transcribe(url, alices, refused)
    [(status, headers, body, _)] = refused
    assert status == 429 and headers["Retry-After"] == "5"
    assert json.loads(body)["error"]["type"] == "rate_limit_error"
    assert "API_MAX_WAITS_PER_USER" in json.loads(body)["error"]["message"]
    assert Job.objects.filter(owner=alice).count() == 3  # the refused one stored nothing
    bobs_results, [bobs_thread] = in_background(url, bobs, 1)  # another user is not held back
    wait_until(lambda: Job.objects.filter(owner=bob).count() == 1)
    for job in Job.objects.filter(status=Job.Status.QUEUED):
        finish(job)
    for thread in [*threads, bobs_thread]:
        thread.join(timeout=60)
    assert [r[0] for r in results + bobs_results] == [200] * 4

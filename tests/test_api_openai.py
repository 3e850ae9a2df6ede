"""The OpenAI-compatible endpoints, used by the official `openai` client against a live portal:
daphne and an ASR worker run as subprocesses on the test database, as in production."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import openai
import pytest

from api import services as token_services
from tests.conftest import english_clips
from tests.test_browser import database_url, free_port
from transcription.models import Job
from transcription.shipped_profiles import WHISPER_BASE

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("default_profile")]

ROOT = Path(__file__).resolve().parent.parent
CLIP, REFERENCE = next(iter(english_clips().items()))
WORDS = {"dashwood", "leisure", "prudently"}  # from the reference transcript
assert WORDS <= set(REFERENCE.split())


def subprocess_env(media: Path, **extra: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(media),
        "VAR_DIR": os.environ["VAR_DIR"],  # tests.settings set it: the same models and test database
        **extra,
    }


def start_daphne(env: dict, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    daphne = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "portal.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return daphne, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    daphne.kill()
    pytest.fail(f"daphne did not start: {log.read_text()[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def live(django_db_setup, tmp_path_factory):
    """A portal (daphne) and a worker for the whole module; each test makes its own user."""
    logs, media = tmp_path_factory.mktemp("logs"), tmp_path_factory.mktemp("live-media")
    # A short wait: a broken worker fails the tests in a minute, not in API_WAIT_SECONDS' five.
    env = subprocess_env(media, API_WAIT_SECONDS="60")
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "asrworker", "--no-preload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(logs / "worker.log").open("wb"),
    )
    daphne, url = start_daphne(env, logs / "daphne.log")
    if worker.poll() is not None:
        stop(daphne)
        pytest.fail(f"the worker did not start: {(logs / 'worker.log').read_text()[-2000:]}")
    yield {"url": url, "env": env, "logs": logs}
    stop(daphne)
    stop(worker)


@pytest.fixture
def token(alice) -> str:
    return token_services.token_create(user=alice, name="openai client").plain


def client_for(base: str, token: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key=token, max_retries=0, timeout=120)


def transcribe(client: openai.OpenAI, model: str, response_format: str, path: str = CLIP, **kwargs):
    with open(path, "rb") as audio:
        return client.audio.transcriptions.create(
            model=model, file=audio, response_format=response_format, **kwargs
        )


def words(text: str) -> set[str]:
    return set(text.lower().replace(",", " ").replace(".", " ").split())


def test_it_transcribes_with_the_openai_client_as_json(live, token):
    result = transcribe(client_for(live["url"], token), "whisper-1", "json")  # OpenAI's name: the default
    assert WORDS <= words(result.text)


def test_it_transcribes_with_the_openai_client_as_text(live, token, default_profile):
    result = transcribe(
        client_for(live["url"], token), default_profile.name, "text", prompt="Dashwood, Norland"
    )
    assert isinstance(result, str) and WORDS <= words(result)
    job = Job.objects.get()
    assert [h["phrase"] for h in job.options["hotwords"]] == ["Dashwood", "Norland"]  # the prompt


def test_it_transcribes_with_the_openai_client_as_srt(live, token, default_profile):
    result = transcribe(client_for(live["url"], token), default_profile.name, "srt")
    assert result.startswith("1\n00:00:00,") and " --> " in result
    assert WORDS <= words(result)


def test_it_transcribes_with_the_openai_client_as_verbose_json(live, token, default_profile):
    result = transcribe(client_for(live["url"], token), default_profile.name, "verbose_json", language="en")
    assert WORDS <= words(result.text)
    assert result.language == "en" and 5 < result.duration < 30
    assert [s.id for s in result.segments] == list(range(len(result.segments)))
    assert all(s.start < s.end and s.text for s in result.segments)


def test_it_lists_the_profiles_as_models(live, token, default_profile):
    models = client_for(live["url"], token).models.list()
    assert [(m.id, m.object, m.owned_by) for m in models.data] == [
        (default_profile.name, "model", "funasr-portal"),
        (WHISPER_BASE, "model", "funasr-portal"),  # the two whose models ship with the portal
    ]
    assert models.data[0].created > 0


def test_it_answers_202_with_the_job_when_the_transcript_is_not_ready(live, token, tmp_path):
    env = {**live["env"], "API_WAIT_SECONDS": "0"}
    daphne, url = start_daphne(env, tmp_path / "daphne.log")
    try:
        with open(CLIP, "rb") as audio:
            raw = client_for(url, token).audio.transcriptions.with_raw_response.create(
                model="whisper-1", file=audio
            )
    finally:
        stop(daphne)
    assert raw.status_code == 202
    pending = json.loads(raw.content)
    assert (
        pending["status"] in ("queued", "running") and pending["url"] == f"{url}/api/v1/jobs/{pending['id']}/"
    )
    job = poll(pending["url"].replace(url, live["url"]), token)
    assert job["status"] == "done" and WORDS <= words(job["text"])


def poll(url: str, token: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request) as response:
            job = json.load(response)
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def test_it_answers_errors_in_the_openai_shape(live, token, default_profile, tmp_path):
    client = client_for(live["url"], token)
    with pytest.raises(openai.BadRequestError) as refused:
        transcribe(client, "gpt-4o-transcribe", "json")
    error = refused.value.body
    assert error["type"] == "invalid_request_error" and error["param"] == "model"
    assert error["message"] == (
        f"The model 'gpt-4o-transcribe' does not exist. Available models: {default_profile.name}, "
        f"{WHISPER_BASE}, whisper-1."
    )
    noise = tmp_path / "noise.wav"
    noise.write_bytes(b"this is not audio" * 100)
    with pytest.raises(openai.UnprocessableEntityError) as failed:
        transcribe(client, "whisper-1", "json", path=str(noise))
    assert failed.value.body["code"] == "transcription_failed" and failed.value.body["message"]
    with pytest.raises(openai.AuthenticationError) as unauthenticated:
        client_for(live["url"], "fap_00000000_wrong").models.list()
    assert unauthenticated.value.body["message"] == "Invalid API token."


def test_it_refuses_a_recording_over_the_size_limit(alice, token, settings):
    from rest_framework.test import APIClient

    settings.UPLOAD_MAX_BYTES = 1024
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    with open(CLIP, "rb") as audio:
        response = client.post("/v1/audio/transcriptions", {"file": audio, "model": "whisper-1"})
    assert response.status_code == 413
    assert response.json()["error"]["message"].endswith("the limit is 1.0\xa0KB.")
    assert not Job.objects.exists()

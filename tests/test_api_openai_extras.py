"""What users of the OpenAI speech API expect beyond a transcript, through the real worker: word
timings in verbose_json (`timestamp_granularities[]=word`) and in the JSON export, translation into
English (`/v1/audio/translations`, multilingual Whisper only), and `prompt` reaching the model as
its initial prompt as well as hotwords."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from api import services as token_services
from tests.conftest import AUDIO, english_clips, run_worker
from transcription import exports, profiles
from transcription.engine import EngineConfig, Recognition, get_engine
from transcription.engine.whisper_engine import bundled_model_dir
from transcription.models import EngineProfile, Job
from transcription.shipped_profiles import WHISPER_BASE

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("default_profile")]

CLIP, REFERENCE = next(iter(english_clips().items()))


@pytest.fixture
def api(alice, settings) -> APIClient:
    settings.API_WAIT_SECONDS = 0  # no wait in the request: the worker runs after it, here
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_services.token_create(user=alice, name='t').plain}")
    return client


def post(api: APIClient, path: str, audio, **fields) -> dict:
    with open(audio, "rb") as recording:
        response = api.post(path, {"file": recording, **fields})
    assert response.status_code in (200, 202), response.content
    return response.json()


def test_it_gives_word_timings_when_asked(api, default_profile, django_capture_on_commit_callbacks):
    fields = {"model": "whisper-1", "response_format": "verbose_json", "timestamp_granularities[]": ["word"]}
    with django_capture_on_commit_callbacks(execute=True):
        post(api, "/v1/audio/transcriptions", CLIP, **fields)
        post(api, "/v1/audio/transcriptions", CLIP, model="whisper-1", response_format="verbose_json")
    run_worker()
    asked, plain = Job.objects.order_by("queued_at")
    assert asked.options["words"] is True and "words" not in plain.options  # not batched together
    words = [w for segment in asked.segments for w in segment["words"]]
    # The clip opens "And Mr. John Dashwood"; the model may drop the "And" (it does on AMD EPYC CPUs
    # without AVX-512, where CTranslate2's kernels round differently).
    heard = [w["word"].lower().strip(".,") for w in words][:5]
    assert heard[heard.index("mr") :][:3] == ["mr", "john", "dashwood"]
    assert [w["start"] for w in words] == sorted(w["start"] for w in words)
    assert all(0 <= w["start"] <= w["end"] <= asked.duration for w in words)
    assert all(s["start"] - 0.5 <= w["start"] for s in asked.segments for w in s["words"])
    assert all("words" not in segment for segment in plain.segments)  # never asked: none computed
    from api.openai_compat import verbose

    assert verbose(asked, "")["words"] == words and "words" not in verbose(plain, "")
    exported = json.loads(exports.render(asked, "json").content)
    assert exported["segments"][0]["words"][0]["word"] == words[0]["word"]


def test_it_translates_mandarin_into_english_with_a_multilingual_model(
    api, django_capture_on_commit_callbacks
):
    profile = EngineProfile.objects.get(name=WHISPER_BASE)
    with django_capture_on_commit_callbacks(execute=True):
        body = post(api, "/v1/audio/translations", AUDIO / "zh_tts_01.wav", model=profile.name)
    run_worker()
    job = Job.objects.get(id=body["id"])
    assert job.status == Job.Status.DONE and job.options["task"] == "translate"
    print(f"translated: {job.text!r}")
    assert "31" in job.text and not any("\u4e00" <= c <= "\u9fff" for c in job.text)  # English words
    from api.openai_compat import verbose

    assert verbose(job, "")["task"] == "translate"


def test_it_refuses_to_translate_with_an_english_only_model(api):
    with open(CLIP, "rb") as recording:
        response = api.post("/v1/audio/translations", {"file": recording, "model": "whisper-1"})
    assert response.status_code == 400 and "cannot translate" in response.json()["error"]["message"]
    assert not Job.objects.exists()


def test_it_primes_whisper_with_the_prompt_besides_the_hotwords(api):
    post(api, "/v1/audio/transcriptions", CLIP, model="whisper-1", prompt="Dashwood, Norland Park")
    job = Job.objects.get()
    assert job.options["prompt"] == "Dashwood, Norland Park"
    assert [h["phrase"] for h in job.options["hotwords"]] == ["Dashwood", "Norland Park"]
    assert profiles.recognition(job.options) == Recognition(prompt="Dashwood, Norland Park")


def test_it_hands_whisper_what_the_job_asks(monkeypatch):
    engine = get_engine(EngineConfig(kind="faster-whisper", model=bundled_model_dir(), language="en"))
    received = []
    from faster_whisper import BatchedInferencePipeline

    real = BatchedInferencePipeline.transcribe

    def spy(self, audio, **kwargs):
        received.append(kwargs)
        return real(self, audio, **kwargs)

    monkeypatch.setattr(BatchedInferencePipeline, "transcribe", spy)
    from transcription import audio

    samples = audio.decode(CLIP, max_seconds=60)
    asked = Recognition(prompt="Mr. Dashwood.", word_timestamps=True)
    [transcript] = engine.transcribe_many([samples], hotwords=["Norland"], recognition=asked)
    assert received[-1]["initial_prompt"] == "Mr. Dashwood." and received[-1]["hotwords"] == "Norland"
    assert received[-1]["task"] == "transcribe" and received[-1]["word_timestamps"] is True
    assert transcript.segments[0].words

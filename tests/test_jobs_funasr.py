"""A job through the worker on the funasr engine: tiny SeACo-Paraformer, genuine fsmn-vad."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from funasr.models.seaco_paraformer.model import SeacoParaformer

from tests.conftest import AUDIO, run_worker
from tests.spies import Spy, network
from transcription import services
from transcription.models import Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def funasr_settings(settings, funasr_models):
    settings.ASR_ENGINE = "funasr"
    settings.ASR_MODEL = str(funasr_models["asr"])
    settings.ASR_VAD_MODEL = ""  # the bundled fsmn-vad
    return settings


def queue_clip(owner, capture, *, hotwords=()) -> Job:
    clip = AUDIO / "zh_04.wav"
    with capture(execute=True):
        return services.job_create(
            owner=owner, upload=SimpleUploadedFile(clip.name, clip.read_bytes()), hotwords=hotwords
        )


def test_it_transcribes_with_timestamps_and_hotwords_offline(
    funasr_settings, alice, django_capture_on_commit_callbacks, monkeypatch
):
    parsing = Spy(monkeypatch, SeacoParaformer, "generate_hotwords_list")
    job = queue_clip(alice, django_capture_on_commit_callbacks, hotwords=["星火计划"])
    with network.recording(ignore_loopback=True) as attempts:
        run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    assert job.engine == "funasr" and job.options["engine"]["vad_model"].endswith("fsmn-vad")
    assert job.segments and all(0 <= s["start"] < s["end"] <= job.duration for s in job.segments)
    assert job.text
    assert [call[0][1] for call in parsing.calls] == ["星火计划"]  # (self, hotword string)
    assert attempts == []


def test_it_fails_a_job_whose_model_directory_is_missing(
    funasr_settings, alice, django_capture_on_commit_callbacks, tmp_path
):
    funasr_settings.ASR_MODEL = str(tmp_path / "paraformer-zh")
    job = queue_clip(alice, django_capture_on_commit_callbacks)
    with network.recording(ignore_loopback=True) as attempts:
        run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert str(tmp_path / "paraformer-zh") in job.error and "not found" in job.error
    assert attempts == []

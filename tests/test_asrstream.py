"""`manage.py asrstream`: a clear sentence, never a traceback or a download, when what it needs
is not there."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from transcription.models import EngineProfile

pytestmark = pytest.mark.django_db


def test_it_names_the_command_that_fetches_a_missing_streaming_model(funasr_models, settings, tmp_path):
    settings.MODELS_DIR = tmp_path / "models"
    EngineProfile.objects.create(
        name="Paraformer",
        engine="funasr",
        model=str(funasr_models["asr"]),
        vad_model=str(funasr_models["vad"]),
    )
    with pytest.raises(CommandError, match=r"fetch_models paraformer-zh-streaming"):
        call_command("asrstream", profile="Paraformer", device="cpu")


def test_it_refuses_a_profile_that_does_not_exist(default_profile):
    with pytest.raises(CommandError, match="no engine profile named 'Nope'"):
        call_command("asrstream", profile="Nope")


@pytest.mark.parametrize(
    ("device", "cores", "sessions", "lanes"),
    [
        ("cpu", 2, 4, 2),
        ("", 16, 4, 4),
        ("cpu", 16, 8, 4),
        ("cpu", 8, 1, 1),
        ("cpu", 1, 4, 1),
        ("cuda:0", 16, 8, 1),
    ],
)
def test_it_decodes_one_session_a_core_at_once_on_cpu_and_batches_on_a_gpu(
    monkeypatch, device, cores, sessions, lanes
):
    from transcription.management.commands import asrstream

    monkeypatch.setattr(asrstream.os, "cpu_count", lambda: cores)

    assert asrstream.lanes(device, sessions) == lanes

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

from __future__ import annotations

from pathlib import Path

import django_rq
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

FIXTURES = Path(__file__).parent / "fixtures"
AUDIO = FIXTURES / "audio"


@pytest.fixture(autouse=True)
def clean_redis():
    """Each test starts with an empty queue and channel layer on the test Redis database."""
    connection = django_rq.get_connection(settings.ASR_QUEUE)
    connection.flushdb()
    yield
    connection.flushdb()


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def default_profile():
    """The shipped profiles, as a fresh installation has them; returns the default one
    (Whisper tiny.en). Transactional tests flush the data migration's rows, so recreate them."""
    from transcription.models import EngineProfile
    from transcription.shipped_profiles import ensure_shipped_profiles

    ensure_shipped_profiles(EngineProfile)
    return EngineProfile.objects.get(is_default=True)


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice", password="alice-pass")


@pytest.fixture
def bob(django_user_model):
    return django_user_model.objects.create_user("bob", password="bob-pass")


def upload_of(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def run_worker() -> None:
    """Drain the queue through the real worker command, in this process (SimpleWorker)."""
    call_command("asrworker", burst=True, no_preload=True)


def english_clips() -> dict[str, str]:
    """LibriVox clip path -> reference transcript."""
    lines = (AUDIO / "en_transcripts.tsv").read_text().strip().splitlines()
    return {str(AUDIO / f"{key}.wav"): text for key, text in (line.split("\t") for line in lines)}


@pytest.fixture(scope="session")
def funasr_models(tmp_path_factory) -> dict[str, Path]:
    """Tiny random-weight FunASR models built from funasr's own classes, and the real fsmn-vad."""
    from tests.tiny_models import build_tiny_ct_punc, build_tiny_seaco_paraformer, bundled_fsmn_vad_dir

    root = tmp_path_factory.mktemp("funasr-models")
    return {
        "asr": build_tiny_seaco_paraformer(root / "seaco-paraformer"),
        "punc": build_tiny_ct_punc(root / "ct-punc"),
        "vad": bundled_fsmn_vad_dir(),
    }

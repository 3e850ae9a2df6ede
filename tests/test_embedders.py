"""The speaker models behind diarization (embedders.py): the bundled d-vector encoder, and FunASR's
CAM++ through AutoModel (a tiny random-weight instance of funasr's own class, laid out as
ModelScope publishes it, loaded exactly as `fetch_models cam++` leaves it)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conversations import CALL, conversation
from tests.tiny_models import build_tiny_campplus
from transcription import diarize, embedders


@pytest.fixture(scope="module")
def campplus_dir(tmp_path_factory):
    return build_tiny_campplus(tmp_path_factory.mktemp("models") / "cam++")


def test_it_names_the_command_when_the_bundled_model_is_missing(monkeypatch):
    monkeypatch.setattr(embedders, "VOICEFILTER_PACKAGE", "no_such_package_here")
    with pytest.raises(embedders.DiarizationError, match="requirements-nodeps.txt"):
        embedders.voicefilter_path()


def test_it_loads_the_packaged_embedder_once_per_process():
    assert embedders.get_embedder() is embedders.get_embedder("")
    assert embedders.voicefilter_path().stat().st_size > 10 * 2**20  # the genuine 12 MB model, not a stub


def test_it_names_fetch_models_when_campplus_is_not_installed(tmp_path):
    with pytest.raises(embedders.DiarizationError, match=r"fetch_models cam\+\+"):
        embedders.get_embedder(str(tmp_path / "cam++"))


def test_it_embeds_windows_with_the_bundled_model():
    samples = conversation(CALL[:2]).samples
    vectors = embedders.get_embedder().embed(samples, [0, 80, 990])  # the last one runs past the end
    assert vectors.shape == (3, 256)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert embedders.get_embedder().embed(samples, []).shape == (0, 256)


def test_it_loads_campplus_through_automodel_and_embeds_windows(campplus_dir):
    embedder = embedders.get_embedder(str(campplus_dir))
    assert isinstance(embedder, embedders.CamppEmbedder) and embedder.dimension == 16
    assert embedders.get_embedder(str(campplus_dir)) is embedder  # resident
    samples = conversation(CALL[:2]).samples
    starts = [*range(0, 900, 80), 990]  # within the speech; the last window runs past its end
    vectors = embedder.embed(samples, starts)
    assert vectors.shape == (len(starts), 16)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert np.array_equal(vectors[:3], embedder.embed(samples, starts[:3]))  # a batch changes nothing
    assert not np.allclose(vectors[0], vectors[len(starts) // 2])  # windows differ


def test_it_diarizes_with_campplus_as_with_the_bundled_model(campplus_dir):
    """Random weights tell no voices apart: what runs is the whole path, to a number of speakers
    given, with 16-d voices."""
    conv = conversation(CALL, pause=1.0)
    found = diarize.diarize(
        conv.samples, conv.speech(), speakers=2, embedder=embedders.get_embedder(str(campplus_dir))
    )
    assert found.speakers == 2 and found.centroids.shape == (2, 16)
    assert found.turns[0].start == 0.0
    assert found.turns[-1].end == pytest.approx(conv.turns[-1].end, abs=0.02)

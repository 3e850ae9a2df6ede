"""The engine configuration new jobs get, from settings (admin-managed profiles come later)."""

from __future__ import annotations

from django.conf import settings

from transcription.engine import EngineConfig
from transcription.engine.funasr_engine import bundled_fsmn_vad_dir


def engine_config() -> EngineConfig:
    if settings.ASR_ENGINE == "faster-whisper":
        from transcription.engine.whisper_engine import bundled_model_dir

        return EngineConfig(
            kind="faster-whisper",
            model=settings.ASR_MODEL or bundled_model_dir(),
            device=settings.ASR_DEVICE,
            language=settings.ASR_LANGUAGE,
        )
    return EngineConfig(
        kind="funasr",
        model=settings.ASR_MODEL,
        vad_model=settings.ASR_VAD_MODEL or bundled_fsmn_vad_dir(),
        punc_model=settings.ASR_PUNC_MODEL,
        device=settings.ASR_DEVICE,
        language=settings.ASR_LANGUAGE,
    )

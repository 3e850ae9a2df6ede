"""The engine's interface: what goes in (16 kHz mono float32 samples and an EngineConfig), what
comes out (a Transcript of timestamped Segments), progress callbacks and typed errors. No Django,
no torch: the concrete engines import this, and `transcription.engine` re-exports it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Protocol

import numpy as np

SAMPLE_RATE = 16_000

# (seconds of audio done, seconds of audio in total)
ProgressCallback = Callable[[float, float], None]


class EngineError(Exception):
    """A failure a person can read; the job ends with this message."""


class ModelMissing(EngineError):
    """A configured model directory is absent; the message names how to get it."""


class EngineOutOfMemory(EngineError):
    """The device ran out of memory on this audio."""


class JobCancelled(Exception):
    """Raised by an `on_progress` callback to stop the recognition in progress: its job was
    cancelled (or deleted) meanwhile. Not an EngineError, and engines never catch it: it leaves
    `transcribe` as raised, and the memory of the run goes with the unwound frames."""


@dataclass(frozen=True)
class EngineConfig:
    """Everything that decides which model is loaded. Hashable: it keys the resident cache."""

    kind: str  # "funasr" or "faster-whisper"
    model: str  # a local model directory
    vad_model: str = ""  # funasr: a local directory or "silero-vad"; whisper: unused
    punc_model: str = ""
    device: str = "cpu"  # cpu, cuda:N, or auto
    precision: str = "fp32"  # fp32, fp16 or bf16; reduced precision applies on GPU only
    language: str = ""  # "" lets the model decide
    batch_size_s: int = 300  # funasr: seconds of audio per recognition batch
    max_segment_ms: int = 30_000  # VAD never hands the recogniser more than this
    # faster-whisper: decodings that may run at once, each on its share of the CPU cores (a live
    # captioning worker's lanes; one for a job, which batches instead).
    parallel: int = 1

    def as_dict(self) -> dict:
        return asdict(self)

    def load_key(self) -> tuple:
        """What decides the loaded weights. Batch size is read at each call, so changing it
        (a retry after running out of memory) needs no reload."""
        return (self.kind, self.model, self.vad_model, self.punc_model, self.device, self.precision,
                self.max_segment_ms, self.parallel)  # fmt: skip


@dataclass(frozen=True)
class Word:
    """One word's timing, as the model gives it (one Chinese character, one English word)."""

    start: float  # seconds from the start of the audio
    end: float
    word: str


# What a model may say about a stretch of speech besides its words (SenseVoice's tags), and the keys
# it is stored under beside the segment's text: a language code ("zh"), an emotion ("NEUTRAL",
# "HAPPY"...), an audio event ("Speech", "BGM", "Laughter"...); and, added by diarization, the
# speaker ("S1", a key of Job.speakers).
SEGMENT_METADATA_KEYS = ("language", "emotion", "event", "speaker")


@dataclass(frozen=True)
class Segment:
    start: float  # seconds from the start of the audio
    end: float
    text: str
    # The model's own words with their timings, inside [start, end], before the portal's ITN and
    # hotword correction; None when the model gives no word timings.
    words: list[Word] | None = None
    # Some of SEGMENT_METADATA_KEYS, where the model gives them; empty for most models.
    metadata: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """As stored in a job's segments: `{"start", "end", "text"}`, then the metadata keys the
        model gave (`"language": "zh", "emotion": "NEUTRAL", "event": "Speech"`), then `"words":
        [{"start", "end", "word"}, ...]` when the model gave word timings."""
        entry = {"start": self.start, "end": self.end, "text": self.text}
        entry |= {key: self.metadata[key] for key in SEGMENT_METADATA_KEYS if self.metadata.get(key)}
        if self.words is not None:
            entry["words"] = [asdict(word) for word in self.words]
        return entry


@dataclass(frozen=True)
class Recognition:
    """What a job asks of the recognition besides its model, hotwords and ITN (engines that cannot
    do a thing asked say so with an EngineError; uploads are checked before: profiles.py)."""

    task: str = "transcribe"  # or "translate": into English (Whisper, on a multilingual model)
    prompt: str = ""  # text the model is primed with (Whisper's initial prompt), besides hotwords
    word_timestamps: bool = False  # each word's timing, where that costs extra (Whisper)


TRANSCRIBE = Recognition()  # the default: a transcript in the language spoken, no more


@dataclass(frozen=True)
class Transcript:
    text: str
    segments: list[Segment] = field(default_factory=list)
    language: str = ""

    def segments_as_dicts(self) -> list[dict]:
        return [s.as_dict() for s in self.segments]


class Engine(Protocol):
    config: EngineConfig
    # True when the model itself writes numbers as digits on request (SenseVoice, Fun-ASR-Nano):
    # then `itn=True` asks the model, and the portal's own ITN stage stays out of the way.
    builtin_itn: bool

    def transcribe_many(
        self,
        audios: Sequence[np.ndarray],
        *,
        hotwords: Sequence[str] = (),
        itn: bool = False,
        on_progress_each: Sequence[ProgressCallback | None] = (),
        recognition: Recognition = TRANSCRIBE,
    ) -> list[Transcript]:
        """One or more recordings, each 16 kHz mono float32 in [-1, 1], in as few model calls as
        the engine can (a lone job is a batch of one): one Transcript per recording, in order,
        and each recording's progress reported to its own callback as
        `(seconds of audio done, seconds in total)`. A callback may raise (JobCancelled) to stop
        the whole call."""
        ...

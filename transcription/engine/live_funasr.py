"""FunASR's 2pass live captions (issue 20), as its own runtime does them: a streaming Paraformer
(`paraformer-zh-streaming`, class ParaformerStreaming) decodes every 600 ms of audio with its
cache and gives the partial text at once; fsmn-vad in streaming mode hears where each sentence
ends; then the sentence's audio goes through the profile's offline engine (paraformer-zh with
ct-punc: hotwords, punctuation, timestamps), whose words are the final ones.

`TwoPassSession` has the live session's interface that the streaming worker calls (`add`, `due`,
`step`, `finish`; engine/live.py's `LiveSession` is the other), and gives the same `LiveUpdate`s.
The streaming models are loaded with funasr's `AutoModel` from local directories, as every FunASR
model of the portal. No Django; funasr is imported lazily.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from transcription.engine.interface import SAMPLE_RATE, Engine, Word
from transcription.engine.live import LiveUpdate

CHUNK_SIZE = [0, 10, 5]  # 600 ms a chunk and 300 ms of look-ahead: FunASR's default
STRIDE = CHUNK_SIZE[1] * 960  # samples a chunk
ENCODER_LOOK_BACK, DECODER_LOOK_BACK = 4, 1
PRE_ROLL_S = 3.0  # audio kept before speech starts: the VAD says where it began after the fact


@dataclass
class StreamingModels:
    """What 2pass needs besides the offline engine: the online recogniser and the streaming VAD."""

    online: object  # AutoModel of a ParaformerStreaming directory
    vad: object  # AutoModel of fsmn-vad (FsmnVADStreaming)

    @classmethod
    def load(cls, *, online_dir: str, vad_dir: str, device: str = "cpu") -> StreamingModels:
        from funasr import AutoModel

        options = {"device": device, "disable_update": True, "disable_pbar": True, "disable_log": True}
        return cls(online=AutoModel(model=online_dir, **options), vad=AutoModel(model=vad_dir, **options))


class TwoPassSession:
    """One speaker's live captions in FunASR's 2pass mode. Times are seconds from the start."""

    def __init__(
        self, models: StreamingModels, offline: Engine, *, hotwords: Sequence[str] = (), itn: bool = False
    ) -> None:
        self.models, self.offline, self.hotwords, self.itn = models, offline, list(hotwords), itn
        self._lock = threading.Lock()  # `add` may run while `step` decodes, in another thread
        self.pending = np.zeros(0, dtype=np.float32)  # arrived, not through the online model yet
        self.audio = np.zeros(0, dtype=np.float32)  # the sentence so far (or pre-roll), from `start`
        self.start = 0.0
        self.in_speech = False
        self.partial = ""  # the online model's text of the sentence so far
        self.online_cache: dict = {}
        self.vad_cache: dict = {}
        self.committed: list[Word] = []

    @property
    def heard_s(self) -> float:
        return self.start + self.audio.size / SAMPLE_RATE

    def add(self, samples: np.ndarray) -> None:
        with self._lock:
            self.pending = np.concatenate([self.pending, samples.astype(np.float32, copy=False)])

    def due(self) -> bool:
        return self.pending.size >= STRIDE

    def step(self) -> LiveUpdate:
        """Every whole chunk that arrived: its partial text, and any sentence it ended, final."""
        ended: list[tuple[list[Word], str]] = []
        while True:
            with self._lock:
                if self.pending.size < STRIDE:
                    break
                chunk, self.pending = self.pending[:STRIDE], self.pending[STRIDE:]
            ended += self._chunk(chunk, final=False)
        return _update(ended, partial=self._partial())

    def finish(self) -> LiveUpdate:
        """The speaker stopped: the rest through both models, and the last sentence final."""
        with self._lock:
            chunk, self.pending = self.pending, np.zeros(0, dtype=np.float32)
        ended = self._chunk(chunk, final=True)
        if self.in_speech or self.partial:
            ended.append(self._sentence_end(self.heard_s))
        return _update(ended, partial=[])

    @property
    def text(self) -> str:
        return "".join(w.word for w in self.committed).strip()

    def _chunk(self, chunk: np.ndarray, *, final: bool) -> list[tuple[list[Word], str]]:
        chunk_start = self.heard_s
        self.audio = np.concatenate([self.audio, chunk])
        heard = self.models.online.generate(
            input=chunk, cache=self.online_cache, is_final=final, chunk_size=CHUNK_SIZE,
            encoder_chunk_look_back=ENCODER_LOOK_BACK, decoder_chunk_look_back=DECODER_LOOK_BACK,
        )  # fmt: skip
        self.partial += _text(heard)
        spans = self.models.vad.generate(input=chunk, cache=self.vad_cache, is_final=final, chunk_size=600)
        ended = []
        for begin_ms, end_ms in (spans[0].get("value") or []) if spans else []:
            if begin_ms != -1:
                self._speech_from(begin_ms / 1000)
            if end_ms != -1:
                ended.append(self._sentence_end(end_ms / 1000))
        if not self.in_speech and self.audio.size > PRE_ROLL_S * SAMPLE_RATE:
            self._drop_before(max(chunk_start, self.heard_s - PRE_ROLL_S))
        return ended

    def _speech_from(self, at: float) -> None:
        self.in_speech = True
        self._drop_before(at)

    def _sentence_end(self, at: float) -> tuple[list[Word], str]:
        """The sentence up to `at` through the offline engine: its timed words, and its text as
        the engine wrote it (punctuated)."""
        cut = max(0, int(round((at - self.start) * SAMPLE_RATE)))
        sentence, begun = self.audio[:cut], self.start
        self._drop_before(at)
        self.in_speech, self.partial, self.online_cache = False, "", {}  # the next sentence afresh
        if sentence.size < SAMPLE_RATE // 10:
            return [], ""
        itn = self.itn and self.offline.builtin_itn  # else the worker's text stage does it
        (transcript,) = self.offline.transcribe_many([sentence], hotwords=self.hotwords, itn=itn)
        words = []
        for segment in transcript.segments:
            timed = segment.words or [Word(segment.start, segment.end, segment.text)]
            words += [Word(begun + w.start, begun + w.end, w.word) for w in timed]
        self.committed += words
        return words, transcript.text

    def _drop_before(self, at: float) -> None:
        cut = int(round((at - self.start) * SAMPLE_RATE))
        if cut > 0:
            self.audio = self.audio[cut:]
            self.start += cut / SAMPLE_RATE

    def _partial(self) -> list[Word]:
        return [Word(self.start, self.heard_s, self.partial)] if self.partial else []


def _update(ended: list[tuple[list[Word], str]], *, partial: list[Word]) -> LiveUpdate:
    words = [w for sentence, _ in ended for w in sentence]
    texts = [text for _, text in ended if text]
    spaced = any(c.isascii() and c.isalpha() for text in texts for c in text)
    return LiveUpdate(committed=words, partial=partial, text=(" " if spaced else "").join(texts))


def _text(results) -> str:
    """The text of a FunASR result, without the spaces it puts between Chinese characters."""
    text = results[0].get("text", "") if results else ""
    return "".join(text.split()) if all(ord(c) > 0x2E80 or c.isspace() for c in text) else text

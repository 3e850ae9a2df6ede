"""Live captions over faster-whisper (issue 20): words on screen while someone speaks.

The LocalAgreement-2 policy of whisper_streaming (Macháček, Dabre and Bojar, 2023): the audio
heard so far is kept in a buffer and decoded again whenever another half second has arrived; a word is
*committed* (final, never changed again) once two decodings in a row agree on it, from the start
of what is not committed yet; the rest of the newest decoding is the *partial* text, shown greyed
and replaced at the next update. Committed text primes the next decoding (Whisper's prompt), and
the buffer is cut after the last committed sentence once it grows long, so a decoding never costs
more than about BUFFER_TRIM_S of audio.

`LocalAgreement` is the policy alone (audio in, words from a decoder in, updates out), so that a
streaming worker may decode many sessions' buffers its own way; `LiveSession` joins it to a
resident faster-whisper model. No Django; faster-whisper is only called through the model given.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field

import numpy as np

from transcription.engine.interface import SAMPLE_RATE, Word
from transcription.engine.whisper_window import encoder_window

# Decode again once this much audio has arrived since the last decoding. 0.5 s rather than 1: on
# the test reading the live text's WER 4.2 % against 7.0 %, final words a median 0.58 s after they
# were said against 1.34 s; a busy worker decodes less often by itself (a session waits its turn).
MIN_NEW_S = 0.5
# Past this, the audio before the last committed sentence's end is dropped. 6 s rather than 15:
# on the test reading (1 s between decodings) the live text's WER 7.0 % against 9.9 %, and each
# decoding is cheaper
# (docs/benchmarks.md, "Live captions").
BUFFER_TRIM_S = 6.0
PROMPT_CHARS = 200  # the committed text's tail that primes the next decoding
# A decoding's token budget a second of buffer. Whisper on a short buffer sometimes says a phrase
# again and again until stopped: on the test reading 3 in 372 decodings of tiny.en (a 1.5 s buffer
# once gave 223 words, 5 s of decoding, holding up every session in its batch), and Whisper base
# on Mandarin 19 in 114. Speech gives at most 6.7 tokens a second there (English) and 9.3 (Mandarin).
MAX_TOKENS_PER_S = 12
WHISPER_TOKENS = 448  # a decoding's prompt and what it writes, together
SENTENCE_END = re.compile(r"[.?!。？！]$")


def joined(words: Sequence[Word]) -> str:
    """Words as Whisper gives them carry their own leading space (none in Chinese): concatenated."""
    return "".join(w.word for w in words).strip()


def key(word: str) -> str:
    """What two decodings must agree on: the word without case or punctuation."""
    return re.sub(r"[^\w']", "", word.lower())


def token_budget(seconds: float) -> int:
    """The most tokens a decoding of `seconds` of audio may write (MAX_TOKENS_PER_S)."""
    return math.ceil(seconds * MAX_TOKENS_PER_S) + 6


def room(model, hotwords: str | None, prompt: str | None) -> int:
    """Tokens left to write after the prompt within Whisper's 448 (faster-whisper refuses a budget
    past them): the hotwords and the text before, each cut as faster-whisper cuts them, and the
    prompt's markers."""
    used = 5  # previous text, start of transcript, language, task, and one to spare
    for text in (hotwords and " " + hotwords.strip(), prompt):
        if text:
            used += min(
                len(model.hf_tokenizer.encode(text, add_special_tokens=False).ids), WHISPER_TOKENS // 2 - 1
            )
    return WHISPER_TOKENS - used


def unlooped(words: list[Word]) -> list[Word]:
    """The words without a runaway repeat at their end ("I am I am I am I am", Whisper looping
    until its token budget ran out, often in the middle of the phrase): a phrase said twice in a
    row at the end and begun a third time (a word: four times) is kept once. Said twice, it stays:
    people do say things twice."""
    keys = [key(w.word) for w in words]
    for period in range(1, (len(keys) - 1) // 2 + 1):
        start = len(keys)
        while start - 1 - period >= 0 and keys[start - 1] == keys[start - 1 - period]:
            start -= 1
        if len(keys) - start >= max(period + 1, 3):  # repeats of the phrase after its first saying
            return words[:start]
    return words


@dataclass
class LiveUpdate:
    committed: list[Word] = field(default_factory=list)  # newly final, in order, after those before
    partial: list[Word] = field(default_factory=list)  # the guess after all committed words, for now
    text: str = ""  # the committed words as the engine wrote them, when not just joined (punctuated)

    @property
    def committed_text(self) -> str:
        return self.text or joined(self.committed)

    @property
    def partial_text(self) -> str:
        return joined(self.partial)


@dataclass
class LocalAgreement:
    """The policy's state for one live session. Times are seconds from the session's start."""

    buffer: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    offset: float = 0.0  # where the buffer starts
    committed: list[Word] = field(default_factory=list)
    guess: list[Word] = field(default_factory=list)  # the last decoding, after the committed words
    unheard: int = 0  # samples added since the last decoding

    @property
    def heard_s(self) -> float:
        """Seconds of audio received so far."""
        return self.offset + self.buffer.size / SAMPLE_RATE

    def add(self, samples: np.ndarray) -> None:
        self.buffer = np.concatenate([self.buffer, samples.astype(np.float32, copy=False)])
        self.unheard += samples.size

    def due(self) -> bool:
        return self.unheard >= MIN_NEW_S * SAMPLE_RATE

    def prompt(self) -> str:
        """The committed text before the buffer: what the buffer's own audio says must not be in
        it, or Whisper takes it as said already and skips it."""
        return joined([w for w in self.committed if w.end <= self.offset])[-PROMPT_CHARS:]

    def accept(self, words: Sequence[Word]) -> LiveUpdate:
        """A decoding of the whole buffer (word times from the buffer's start): commit what it
        agrees on with the one before, keep the rest as the guess."""
        self.unheard = 0
        shifted = [Word(w.start + self.offset, w.end + self.offset, w.word) for w in words]
        hypothesis = self._after_committed(shifted)
        agreed = 0
        while agreed < min(len(hypothesis), len(self.guess)) and key(hypothesis[agreed].word) == key(
            self.guess[agreed].word
        ):
            agreed += 1
        new = hypothesis[:agreed]
        self.committed += new
        self.guess = hypothesis[agreed:]
        self._trim()
        return LiveUpdate(committed=new, partial=list(self.guess))

    def finish(self) -> LiveUpdate:
        """The session ended: the last guess becomes final."""
        new, self.guess = self.guess, []
        self.committed += new
        return LiveUpdate(committed=new)

    def _after_committed(self, words: list[Word]) -> list[Word]:
        """The decoding without what is committed already: words that end before the last
        committed one, and a repeat of the committed text's last words (up to 5) at its start."""
        if not self.committed:
            return words
        last = self.committed[-1].end
        words = [w for w in words if w.end > last - 0.1]
        for n in range(min(5, len(words), len(self.committed)), 0, -1):
            tail = [key(w.word) for w in self.committed[-n:]]
            if [key(w.word) for w in words[:n]] == tail:
                return words[n:]
        return words

    def _trim(self) -> None:
        """Drop the audio up to the end of the last committed sentence once the buffer is long; up
        to the last committed word only at 1.5 times that, when no sentence has ended (a sentence's
        tail decoded without its start is where Whisper goes wrong). A buffer twice as long
        (decodings that never agree, or silence) commits its guess first: a decoding must stay
        within one Whisper window."""
        if self.buffer.size > 2 * BUFFER_TRIM_S * SAMPLE_RATE:
            self.committed, self.guess = self.committed + self.guess, []
            if not self.committed or self.committed[-1].end <= self.offset:  # nothing said: keep the end
                self._cut(self.heard_s - BUFFER_TRIM_S / 2)
                return
        if self.buffer.size <= BUFFER_TRIM_S * SAMPLE_RATE or not self.committed:
            return
        ends = [w.end for w in self.committed if SENTENCE_END.search(w.word.strip())]
        if ends and ends[-1] > self.offset:
            self._cut(ends[-1])
        elif self.buffer.size > 1.5 * BUFFER_TRIM_S * SAMPLE_RATE:
            self._cut(self.committed[-1].end)

    def _cut(self, at: float) -> None:
        cut = int(round((at - self.offset) * SAMPLE_RATE))
        if 0 < cut < self.buffer.size:
            self.buffer = self.buffer[cut:]
            self.offset = at


class LiveSession:
    """One speaker's live captions with a resident faster-whisper model (`WhisperModel`).

    What a streaming worker (transcription/streaming.py) calls on any live session: `add` (from
    its event loop, as frames arrive), `due`, then `step` and at the end `finish` (in a thread:
    they decode). `feed` is `add` and, when due, `step`, for a caller with one thread."""

    def __init__(
        self, model, *, language: str = "", hotwords: Sequence[str] = (), beam_size: int = 1
    ) -> None:
        self.model, self.language, self.beam_size = model, language or None, beam_size
        self.hotwords = " ".join(hotwords) or None
        self.policy = LocalAgreement()
        self._lock = threading.Lock()  # `add` may run while `step` decodes, in another thread

    def add(self, samples: np.ndarray) -> None:
        with self._lock:
            self.policy.add(samples)

    def due(self) -> bool:
        return self.policy.due()

    def step(self) -> LiveUpdate:
        """Decode the buffer as it is now, and commit what agrees with the decoding before."""
        with self._lock:
            heard = self.policy.heard_s
        words = self.decode()  # the buffer as it was: `add` puts a longer one in its place
        with self._lock:
            update = self.policy.accept(words)
            self.policy.unheard = int(round((self.policy.heard_s - heard) * SAMPLE_RATE))
        return update

    def step_with(self, words: list[Word], heard: float) -> LiveUpdate:
        """Commit from a decoding made elsewhere (`step_many`) of the buffer as it was at `heard`."""
        with self._lock:
            update = self.policy.accept(words)
            self.policy.unheard = int(round((self.policy.heard_s - heard) * SAMPLE_RATE))
        return update

    def feed(self, samples: np.ndarray) -> LiveUpdate | None:
        """Take more audio (16 kHz mono float32); an update when it was time to decode again."""
        self.add(samples)
        return self.step() if self.due() else None

    def finish(self) -> LiveUpdate:
        """The speaker stopped: decode what arrived since the last time, then make it all final."""
        update = self.step() if self.policy.unheard else LiveUpdate()
        last = self.policy.finish()
        return LiveUpdate(committed=update.committed + last.committed)

    @property
    def text(self) -> str:
        return joined(self.policy.committed)

    def decode(self) -> list[Word]:
        """The whole buffer decoded now, word times from its start (the policy's `accept` takes them).
        Through the batched pipeline, as one clip: it decodes a clip once, where the sequential
        `transcribe` goes back for a window's unfinished tail, and with a window cut to the buffer
        could do so for many seconds (a 2.4 s buffer once took 16 s)."""
        return decode_many(self.model, [self])[0]


def step_many(sessions: Sequence[LiveSession]) -> list[LiveUpdate]:
    """`step` for several sessions of one model and language at once: their buffers in one batched
    decoding (`decode_many`). What a streaming worker does when more than one session is due: on
    2 CPU cores, 4 sessions' final words come a p95 3.9 s after they were said instead of 11 s."""
    with ExitStack() as locks:
        for session in sessions:
            locks.enter_context(session._lock)
        heard = [session.policy.heard_s for session in sessions]
    decoded = decode_many(sessions[0].model, sessions)
    return [s.step_with(words, at) for s, words, at in zip(sessions, decoded, heard, strict=True)]


def decode_many(model, sessions: Sequence[LiveSession]) -> list[list[Word]]:
    """Every session's buffer in one batched call: faster-whisper's BatchedInferencePipeline over
    the buffers laid end to end as clips, so the encoder and the decoder run once for all of them
    (what a streaming worker does with the sessions that are due). Words on each buffer's own
    timeline. One language and one set of hotwords for all (group sessions by them); the
    committed text primes a lone session only: the pipeline takes one prompt for the batch."""
    from faster_whisper import BatchedInferencePipeline

    clips, at = [], 0
    for session in sessions:
        clips.append({"start": at / SAMPLE_RATE, "end": (at + session.policy.buffer.size) / SAMPLE_RATE})
        at += session.policy.buffer.size
    longest = max(s.policy.buffer.size for s in sessions) / SAMPLE_RATE
    # The text before primes a lone session even with hotwords, unlike an upload's batches: its 200
    # characters are a short prompt (the live test's reading with 4 hotwords: WER 5.6 % primed, 7.0 % not).
    hotwords = sessions[0].hotwords
    prompt = (sessions[0].policy.prompt() or None) if len(sessions) == 1 else None
    left = room(model, hotwords, prompt)
    if prompt and left < token_budget(longest):  # no room for both: the hotwords stay
        prompt, left = None, room(model, hotwords, None)
    budget = max(1, min(token_budget(longest), left))
    with encoder_window(longest):  # every clip padded to just past the longest buffer
        pieces, _ = BatchedInferencePipeline(model).transcribe(
            np.concatenate([s.policy.buffer for s in sessions]),
            language=sessions[0].language,
            beam_size=sessions[0].beam_size,
            initial_prompt=prompt,
            hotwords=hotwords,
            clip_timestamps=clips,
            batch_size=len(clips),
            word_timestamps=True,
            without_timestamps=False,
            max_new_tokens=budget,
        )
        pieces = list(pieces)
    starts = [clip["start"] for clip in clips]
    heard: list[list[Word]] = [[] for _ in sessions]
    for piece in pieces:
        for w in piece.words or ():
            index = max(0, bisect.bisect_right(starts, w.start + 1e-3) - 1)
            if w.word.strip():
                heard[index].append(Word(w.start - starts[index], w.end - starts[index], w.word))
    return [unlooped(words) for words in heard]

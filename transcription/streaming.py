"""Live captions' streaming workers (issue 20): the registry, the messages between a web process
and a worker, and the worker's loop.

A `manage.py asrstream` process (`StreamHost`) holds a faster-whisper model resident and serves up
to `capacity` sessions at once. It listens on a channel of the channel layer (channels-redis, the
one the pages' websockets use) and announces that channel, its capacity and its sessions in Redis
with a TTL, like the transcription workers. Daphne relays: the live socket (live_consumer.py)
asks the workers with room, most room first, to open its session (`open_session`: a refusal or no
answer within OPEN_TIMEOUT moves on to the next), then sends each frame of audio, already stored,
to that worker's channel. The worker answers each session's socket on its own channel with the
captions (`live.caption`): the words newly final, the guess after them, and at the session's end a
last, final one. Why the channel layer rather than a socket from daphne to the worker: it is
already there, it reaches a worker on another machine without another port, and every frame is
one Redis round trip of ~0.2 ms (bench/live.py measures the relay), small beside a decoding.

The sessions due a decoding (another half second of audio, or their end) are decoded in threads, the
one waiting longest first, while the loop goes on receiving frames: `lanes` decodings at once, each
on its share of the cores (on 2 CPU cores two lanes of one thread decode more a second than one of
two threads), and Whisper sessions due at the same time share a lane's batched decoding
(`live.step_many`), each lane taking its share of them. No Django here.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from transcription.engine.live import LiveSession, LiveUpdate, step_many
from transcription.engine.live_funasr import StreamingModels, TwoPassSession

logger = logging.getLogger(__name__)

KEY_PREFIX = "portal:stream:"
TTL_SECONDS = 15
HEARTBEAT_SECONDS = 5
OPEN_TIMEOUT = 5.0

# Message types. Channels routes a message to the consumer's method of that name, dots as "_".
OPEN, AUDIO, ALIVE, CLOSE = "live.open", "live.audio", "live.alive", "live.close"  # web process → worker
# A session not heard from (audio, or the socket's ALIVE every few seconds, paused or not) for this
# long is dropped: its web process died without closing it, and its room goes to another.
IDLE_SECONDS = 30
OPENED, CAPTION = "live.opened", "live.caption"  # worker → web process


@dataclass
class StreamStatus:
    name: str
    channel: str = ""
    capacity: int = 1
    sessions: int = 0
    model: str = ""
    language: str = ""
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    last_seen: float = 0.0

    @property
    def free(self) -> int:
        return self.capacity - self.sessions


def announce(connection, status: StreamStatus) -> None:
    status.last_seen = time.time()
    connection.set(KEY_PREFIX + status.name, json.dumps(asdict(status)), ex=TTL_SECONDS)


def forget(connection, name: str) -> None:
    connection.delete(KEY_PREFIX + name)


def alive(connection, name: str) -> bool:
    """Whether the worker `name` still announces itself (one key read, where `list_all` reads all)."""
    return bool(connection.exists(KEY_PREFIX + name))


def list_all(connection) -> list[StreamStatus]:
    keys = sorted(connection.scan_iter(match=KEY_PREFIX + "*"))
    values = connection.mget(keys) if keys else []
    return [StreamStatus(**json.loads(value)) for value in values if value]


async def open_session(layer, workers: list[StreamStatus], **session) -> StreamStatus | None:
    """Ask the workers with room, those for its language and with most room first, to take the
    session (`session`: its id, `reply` channel, `offset` in seconds, `language`, `hotwords`,
    `itn`); the one that accepted, or None when every one refused or did not answer."""
    language = session.get("language") or ""
    # A model for the session's language first (tiny.en for English, a multilingual one otherwise).
    for worker in sorted((w for w in workers if w.free > 0), key=lambda w: (w.language != language, -w.free)):
        answer = await layer.new_channel()
        await layer.send(worker.channel, {"type": OPEN, "answer": answer, **session})
        try:
            message = await asyncio.wait_for(layer.receive(answer), OPEN_TIMEOUT)
        except TimeoutError:
            logger.warning("live captioning worker %s did not answer", worker.name)
            continue
        if message.get("accepted"):
            return worker
    return None


def pcm_to_float(pcm: bytes) -> np.ndarray:
    """16-bit little-endian PCM, as the browser sends it, to the engine's float32."""
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


@dataclass
class Stream:
    """One session on this worker."""

    session: LiveSession
    reply: str  # the web process's channel for this session's captions
    offset: float  # seconds of the recording before this stream's first sample (a resumed session)
    polish: Callable[[str], str]
    closing: bool = False
    waiting_since: float = field(default_factory=time.monotonic)
    heard_at: float = field(default_factory=time.monotonic)  # the web process's last message
    busy: bool = False  # a lane is decoding it
    shown: str = ""  # the partial text of the last caption sent

    def caption(self, update: LiveUpdate, *, final: bool = False) -> dict:
        committed = []
        if update.committed:
            words = update.committed
            committed.append(
                {
                    "start": round(words[0].start + self.offset, 2),
                    "end": round(words[-1].end + self.offset, 2),
                    "text": self.polish(update.committed_text),
                    # The model's own words, as a stored segment's "words" (before ITN and hotwords).
                    "words": [
                        {
                            "start": round(w.start + self.offset, 2),
                            "end": round(w.end + self.offset, 2),
                            "word": w.word,
                        }
                        for w in words
                    ],
                }
            )
        return {"type": CAPTION, "committed": committed, "partial": update.partial_text, "final": final}


def _batchable(first: Stream, due: list[Stream], limit: int) -> list[Stream]:
    """`first` and, up to `limit` in all, the due Whisper sessions that can share one batched
    decoding with it (same model, language and hotwords, none ending)."""
    if first.closing or not isinstance(first.session, LiveSession):
        return [first]
    same = [
        s for s in due
        if s is not first and not s.closing and isinstance(s.session, LiveSession)
        and s.session.model is first.session.model and s.session.language == first.session.language
        and s.session.hotwords == first.session.hotwords
    ]  # fmt: skip
    return [first, *same][: max(1, limit)]


def whisper_sessions(model, *, language: str = "") -> Callable[[dict], LiveSession]:
    """Sessions over a resident faster-whisper model (LocalAgreement, engine/live.py)."""

    def new_session(message: dict) -> LiveSession:
        hotwords = list(message.get("hotwords") or ())
        return LiveSession(model, language=message.get("language") or language, hotwords=hotwords)

    return new_session


def two_pass_sessions(models: StreamingModels, offline) -> Callable[[dict], TwoPassSession]:
    """FunASR 2pass sessions (engine/live_funasr.py) over resident streaming models and the
    profile's offline engine."""

    def new_session(message: dict) -> TwoPassSession:
        hotwords = list(message.get("hotwords") or ())
        return TwoPassSession(models, offline, hotwords=hotwords, itn=bool(message.get("itn")))

    return new_session


class StreamHost:
    """A streaming worker's loop: sessions opened, fed and closed through the channel layer."""

    def __init__(
        self,
        *,
        layer,
        connection,
        new_session: Callable[[dict], LiveSession | TwoPassSession],
        status: StreamStatus,
        polish: Callable[[str, bool, list[str]], str] = lambda text, itn, hotwords: text,
        lanes: int = 1,
    ) -> None:
        self.layer, self.connection, self.new_session, self.status = layer, connection, new_session, status
        self.polish, self.lanes = polish, max(1, lanes)
        self.streams: dict[str, Stream] = {}
        self.wake = asyncio.Event()

    async def serve(self, stop: asyncio.Event) -> None:
        self.status.channel = await self.layer.new_channel()  # one list per process: see receive()
        self._announce()
        lanes = [asyncio.create_task(self._decode_loop()) for _ in range(self.lanes)]
        tasks = [asyncio.create_task(self._heartbeat()), *lanes]
        stopping = asyncio.create_task(stop.wait())
        receiving = None
        try:
            while not stop.is_set():
                receiving = asyncio.create_task(self.layer.receive(self.status.channel))
                await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if receiving.done():
                    await self.handle(receiving.result())
        finally:
            # Awaited, not only cancelled: a receive left pending would keep the layer's lock.
            waiting = [*tasks, stopping, *([receiving] if receiving else [])]
            for task in waiting:
                task.cancel()
            await asyncio.gather(*waiting, return_exceptions=True)
            await asyncio.to_thread(forget, self.connection, self.status.name)

    async def handle(self, message: dict) -> None:
        kind, session = message.get("type"), str(message.get("session", ""))
        if kind == OPEN:
            # A session opened again (its page came back) starts afresh, answering its new socket.
            room = session in self.streams or len(self.streams) < self.status.capacity
            accepted = room and self._hears(message.get("language") or "")
            if accepted:
                self.streams[session] = self._stream(message)
                logger.info(
                    "live session %s opened (%d of %d)", session, len(self.streams), self.status.capacity
                )
            await self.layer.send(message["answer"], {"type": OPENED, "accepted": accepted})
            self._announce()
        elif kind == AUDIO and session in self.streams:
            self.streams[session].session.add(pcm_to_float(message["pcm"]))
            self.streams[session].heard_at = time.monotonic()
            self.wake.set()
        elif kind == ALIVE and session in self.streams:
            self.streams[session].heard_at = time.monotonic()
        elif kind == CLOSE and session in self.streams:
            if message.get("final"):
                self.streams[session].closing = True  # the decoder sends the last caption, then drops it
                self.wake.set()
            else:
                del self.streams[session]
                self._announce()

    def _hears(self, language: str) -> bool:
        """Whether this worker's model transcribes `language` ("" = any; the worker's own "" = all)."""
        return not language or not self.status.language or language == self.status.language

    def _stream(self, message: dict) -> Stream:
        itn, hotwords = bool(message.get("itn")), list(message.get("hotwords") or ())
        return Stream(
            session=self.new_session(message),
            reply=message["reply"],
            offset=float(message.get("offset") or 0.0),
            polish=lambda text: self.polish(text, itn, hotwords),
        )

    async def _decode_loop(self) -> None:
        """One lane: the session waiting longest among those due and not in another lane, with its
        share of the others that can be batched with it, so that every lane has work."""
        while True:
            due = [
                (key, s) for key, s in self.streams.items() if not s.busy and (s.closing or s.session.due())
            ]
            if not due:
                self.wake.clear()
                await self.wake.wait()
                continue
            key, stream = min(due, key=lambda item: item[1].waiting_since)
            share = math.ceil(len(self.streams) / self.lanes)
            together = _batchable(stream, [s for _, s in due], share)
            for taken in together:
                taken.busy = True
            try:
                if len(together) > 1:
                    await self._decode_together(together)
                else:
                    await self._decode(key, stream)
            except Exception:  # noqa: BLE001 - one session's failure must not stop the others'
                logger.exception("live session %s: decoding failed", key)
                self.streams = {k: s for k, s in self.streams.items() if all(s is not t for t in together)}
                self._announce()
            finally:
                for taken in together:
                    taken.busy = False
                self.wake.set()  # what arrived meanwhile for these may go to an idle lane

    async def _decode_together(self, streams: list[Stream]) -> None:
        """Several Whisper sessions of one model and language, due at once: one batched decoding."""
        updates = await asyncio.to_thread(step_many, [s.session for s in streams])
        for stream, update in zip(streams, updates, strict=True):
            stream.waiting_since = time.monotonic()
            await self._reply(stream, update)

    async def _decode(self, key: str, stream: Stream) -> None:
        if stream.closing:
            update = await asyncio.to_thread(stream.session.finish)
            self.streams.pop(key, None)
            self._announce()
            await self.layer.send(stream.reply, stream.caption(update, final=True))
            return
        update = await asyncio.to_thread(stream.session.step)
        stream.waiting_since = time.monotonic()
        await self._reply(stream, update)

    async def _reply(self, stream: Stream, update: LiveUpdate) -> None:
        """A caption to the session's socket, unless it would change nothing on the page (a
        decoding every half second of a pause)."""
        if update.committed or update.partial_text != stream.shown:
            stream.shown = update.partial_text
            await self.layer.send(stream.reply, stream.caption(update))

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            self.drop_idle()
            self._announce()

    def drop_idle(self) -> None:
        cutoff = time.monotonic() - IDLE_SECONDS
        for key in [key for key, s in self.streams.items() if s.heard_at < cutoff and not s.closing]:
            logger.warning("live session %s: nothing heard for %d s, dropped", key, IDLE_SECONDS)
            del self.streams[key]
            self._announce()

    def _announce(self) -> None:
        self.status.sessions = len(self.streams)
        try:
            announce(self.connection, self.status)
        except Exception:  # noqa: BLE001 - Redis hiccups: the next heartbeat tries again
            logger.warning("could not announce live captioning worker %s", self.status.name, exc_info=True)

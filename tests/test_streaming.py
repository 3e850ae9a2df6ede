"""The streaming workers' side (transcription/streaming.py), through the real channel layer: a
worker takes sessions up to its capacity and only in the language its model hears; a web process
asks the next worker when one does not answer."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager

import numpy as np
import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers, get_channel_layer

from portal import queues
from transcription import streaming
from transcription.engine.interface import Word
from transcription.engine.live import LiveUpdate


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """Each test runs in its own event loop: channels-redis keeps per-channel locks bound to the
    loop that made them (a cancelled receive can leave one behind), so each gets its own layer."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@asynccontextmanager
async def serving_host(new_session, *, name: str = "w", capacity: int = 4, language: str = "en", **status):
    """A streaming worker serving in this event loop, once it is in the registry; stopped after."""
    options = {name: status.pop(name) for name in ("polish", "lanes") if name in status}
    host = streaming.StreamHost(
        layer=get_channel_layer(), connection=queues.connection(), new_session=new_session,
        status=streaming.StreamStatus(name=name, capacity=capacity, language=language, **status), **options,
    )  # fmt: skip
    stop = asyncio.Event()
    task = asyncio.create_task(host.serve(stop))
    while not streaming.alive(queues.connection(), name):
        await asyncio.sleep(0.01)
    try:
        yield host
    finally:
        stop.set()
        await task


def test_it_turns_the_pages_pcm_into_the_engines_float32():
    samples = streaming.pcm_to_float(np.array([0, 16384, -32768], dtype="<i2").tobytes())
    assert samples.dtype == np.float32 and samples.tolist() == [0.0, 0.5, -1.0]


def test_it_takes_sessions_up_to_its_capacity_in_the_language_its_model_hears():
    layer = get_channel_layer()

    async def scenario():
        async with serving_host(streaming.whisper_sessions(None), capacity=2) as host:
            reply = await layer.new_channel()

            async def ask(session: str, language: str = "") -> bool:
                workers = streaming.list_all(queues.connection())
                return (
                    await streaming.open_session(
                        layer, workers, session=session, reply=reply, language=language
                    )
                    is not None
                )

            assert await ask("a") and await ask("b", "en")
            assert not await ask("c")  # full: the registry says so, nobody is asked
            assert streaming.list_all(queues.connection())[0].sessions == 2
            await layer.send(host.status.channel, {"type": streaming.CLOSE, "session": "a"})
            while streaming.list_all(queues.connection())[0].sessions != 1:
                await asyncio.sleep(0.01)
            assert not await ask("c", "zh")  # room, but tiny.en hears English only
            assert await ask("c", "en")
        assert streaming.list_all(queues.connection()) == []  # gone from the registry when stopped

    async_to_sync(scenario)()


def test_it_asks_the_next_worker_when_one_does_not_answer(monkeypatch):
    monkeypatch.setattr(streaming, "OPEN_TIMEOUT", 0.3)
    layer = get_channel_layer()

    async def scenario():
        dead = streaming.StreamStatus(name="dead", capacity=8, channel=await layer.new_channel())
        async with serving_host(streaming.whisper_sessions(None), name="alive", capacity=1):
            reply = await layer.new_channel()
            workers = [dead, *streaming.list_all(queues.connection())]  # the dead one has most room
            return await streaming.open_session(layer, workers, session="s", reply=reply)

    assert async_to_sync(scenario)().name == "alive"


def test_it_drops_a_session_its_web_process_stopped_talking_about(monkeypatch):
    layer = get_channel_layer()

    async def scenario():
        status = streaming.StreamStatus(name="w", capacity=1)
        host = streaming.StreamHost(
            layer=layer,
            connection=queues.connection(),
            new_session=streaming.whisper_sessions(None),
            status=status,
        )
        await host.handle(
            {"type": streaming.OPEN, "session": "a", "reply": "r", "answer": await layer.new_channel()}
        )
        await host.handle(
            {"type": streaming.OPEN, "session": "b", "reply": "r", "answer": await layer.new_channel()}
        )
        assert list(host.streams) == ["a"]  # full
        monkeypatch.setattr(streaming, "IDLE_SECONDS", 0)
        await host.handle({"type": streaming.ALIVE, "session": "a"})
        host.drop_idle()
        assert host.streams == {}  # its daphne died without a word: the room is free again
        assert streaming.list_all(queues.connection())[0].sessions == 0

    async_to_sync(scenario)()


class FakeSession:
    """A session that is due once it has audio, and whose decoding is `decoded()`."""

    def __init__(self, decoded: Callable[[], LiveUpdate]) -> None:
        self.decoded, self.unheard = decoded, 0

    def add(self, samples: np.ndarray) -> None:
        self.unheard += samples.size

    def due(self) -> bool:
        return self.unheard > 0

    def step(self) -> LiveUpdate:
        self.unheard = 0
        return self.decoded()

    def finish(self) -> LiveUpdate:
        return LiveUpdate()


def test_it_decodes_as_many_sessions_at_once_as_it_has_lanes():
    layer = get_channel_layer()
    meeting = threading.Barrier(2)

    def met() -> LiveUpdate:  # goes through only while the other session decodes at the same moment
        meeting.wait(timeout=5)  # alone: BrokenBarrierError, and the session is dropped
        return LiveUpdate(partial=[Word(0.0, 0.5, "met")])

    async def scenario():
        async with serving_host(lambda message: FakeSession(met), capacity=2, lanes=2) as host:
            reply = await layer.new_channel()
            for session in ("a", "b"):
                opened = {"type": streaming.OPEN, "session": session, "reply": reply}
                await host.handle({**opened, "answer": await layer.new_channel()})
                pcm = np.zeros(1600, dtype="<i2").tobytes()
                await host.handle({"type": streaming.AUDIO, "session": session, "pcm": pcm})
            captions = [await asyncio.wait_for(layer.receive(reply), 10) for _ in range(2)]
            return captions, sorted(host.streams)

    captions, open_sessions = async_to_sync(scenario)()
    assert [c["partial"] for c in captions] == ["met", "met"] and open_sessions == ["a", "b"]


def test_it_sends_a_caption_only_when_it_changes_what_the_page_shows():
    layer = get_channel_layer()
    said = [Word(0.0, 0.4, " Hello")]
    updates = [LiveUpdate(), LiveUpdate(partial=said), LiveUpdate(partial=said), LiveUpdate(committed=said)]

    async def scenario():
        async with serving_host(lambda message: FakeSession(lambda: updates.pop(0)), capacity=1) as host:
            reply = await layer.new_channel()
            await host.handle({"type": streaming.OPEN, "session": "a", "reply": reply, "answer": reply})
            await layer.receive(reply)  # the answer to the open
            pcm = np.zeros(1600, dtype="<i2").tobytes()
            while updates:
                await host.handle({"type": streaming.AUDIO, "session": "a", "pcm": pcm})
                while host.streams["a"].session.due() or host.streams["a"].busy:
                    await asyncio.sleep(0.01)
            captions = []
            while not captions or captions[-1]["committed"] == []:
                captions.append(await asyncio.wait_for(layer.receive(reply), 5))
            return captions

    captions = async_to_sync(scenario)()
    # A pause's empty decoding and the same guess again are not sent.
    assert [(c["partial"], [p["text"] for p in c["committed"]]) for c in captions] == [
        ("Hello", []),
        ("", ["Hello"]),
    ]

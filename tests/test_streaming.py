"""The streaming workers' side (transcription/streaming.py), through the real channel layer: a
worker takes sessions up to its capacity and only in the language its model hears; a web process
asks the next worker when one does not answer."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers, get_channel_layer

from portal import queues
from transcription import streaming


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """Each test runs in its own event loop: channels-redis keeps per-channel locks bound to the
    loop that made them (a cancelled receive can leave one behind), so each gets its own layer."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def test_it_turns_the_pages_pcm_into_the_engines_float32():
    samples = streaming.pcm_to_float(np.array([0, 16384, -32768], dtype="<i2").tobytes())
    assert samples.dtype == np.float32 and samples.tolist() == [0.0, 0.5, -1.0]


def test_it_takes_sessions_up_to_its_capacity_in_the_language_its_model_hears():
    layer = get_channel_layer()

    async def scenario():
        status = streaming.StreamStatus(name="w", capacity=2, language="en")
        host = streaming.StreamHost(
            layer=layer,
            connection=queues.connection(),
            new_session=streaming.whisper_sessions(None),
            status=status,
        )
        stop = asyncio.Event()
        serving = asyncio.create_task(host.serve(stop))
        while not streaming.list_all(queues.connection()):
            await asyncio.sleep(0.01)
        reply = await layer.new_channel()

        async def ask(session: str, language: str = "") -> bool:
            workers = streaming.list_all(queues.connection())
            return (
                await streaming.open_session(layer, workers, session=session, reply=reply, language=language)
                is not None
            )

        assert await ask("a") and await ask("b", "en")
        assert not await ask("c")  # full: the registry says so, nobody is asked
        assert streaming.list_all(queues.connection())[0].sessions == 2
        await layer.send(status.channel, {"type": streaming.CLOSE, "session": "a"})
        while streaming.list_all(queues.connection())[0].sessions != 1:
            await asyncio.sleep(0.01)
        assert not await ask("c", "zh")  # room, but tiny.en hears English only
        assert await ask("c", "en")
        stop.set()
        await serving
        assert streaming.list_all(queues.connection()) == []  # gone from the registry when stopped

    async_to_sync(scenario)()


def test_it_asks_the_next_worker_when_one_does_not_answer(monkeypatch):
    monkeypatch.setattr(streaming, "OPEN_TIMEOUT", 0.3)
    layer = get_channel_layer()

    async def scenario():
        dead = streaming.StreamStatus(name="dead", capacity=8, channel=await layer.new_channel())
        status = streaming.StreamStatus(name="alive", capacity=1)
        host = streaming.StreamHost(
            layer=layer,
            connection=queues.connection(),
            new_session=streaming.whisper_sessions(None),
            status=status,
        )
        stop = asyncio.Event()
        serving = asyncio.create_task(host.serve(stop))
        while not streaming.list_all(queues.connection()):
            await asyncio.sleep(0.01)
        reply = await layer.new_channel()
        workers = [dead, *streaming.list_all(queues.connection())]  # the dead one has most room
        taken = await streaming.open_session(layer, workers, session="s", reply=reply)
        stop.set()
        await serving
        return taken

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

"""The live socket (transcription/live_consumer.py) with a real streaming worker (streaming.StreamHost
and the bundled Whisper tiny.en) in the same event loop, through the real channel layer on Redis:
real speech in as a microphone sends it, captions out, the recording stored as it arrives and
queued as a job when the session stops, however it stops."""

from __future__ import annotations

import asyncio
import json
import struct
import wave
from pathlib import Path

import numpy as np
import pytest
from asgiref.sync import async_to_sync, sync_to_async

from portal import queues
from tests import test_streaming
from tests.conftest import AUDIO, english_clips, run_worker, upload_of
from tests.test_consumers import session_cookie, socket
from transcription import (
    audio,
    live_capture,
    live_consumer,
    live_starts,
    postprocess,
    progress,
    services,
    sharing,
    streaming,
    upkeep,
)
from transcription.engine import whisper_engine
from transcription.engine.interface import EngineConfig
from transcription.engine.live import step_many
from transcription.evaluation import word_error_rate
from transcription.models import Job

pytestmark = pytest.mark.django_db(transaction=True)

RATE = 16_000
FRAME = RATE // 10  # the page sends a tenth of a second at a time
CLIPS = english_clips()
CLIP, SAID = next(iter(CLIPS.items()))


fresh_channel_layer = test_streaming.fresh_channel_layer  # autouse: a layer per test's event loop


@pytest.fixture(scope="module")
def tiny_en():
    config = EngineConfig(kind="faster-whisper", model=whisper_engine.bundled_model_dir())
    return whisper_engine.WhisperEngine(config).whisper


@pytest.fixture
def speech() -> np.ndarray:
    """The clip as the page sends it: 16-bit samples."""
    return np.clip(audio.decode(CLIP, max_seconds=60) * 32768, -32768, 32767).astype("<i2")


def frame(pcm: np.ndarray, offset: int) -> bytes:
    return struct.pack("<I", offset) + pcm[offset : offset + FRAME].tobytes()


def stream_worker(model, *, capacity: int = 4, name: str = "test-stream"):
    """A tiny.en streaming worker serving in the test's event loop (`async with`)."""
    return test_streaming.serving_host(
        streaming.whisper_sessions(model), name=name, capacity=capacity, model="Whisper tiny.en",
        polish=postprocess.polish_line,
    )  # fmt: skip


async def started(ws, command: dict | None = None) -> dict:
    connected, _ = await ws.connect()
    assert connected
    await ws.send_to(text_data=json.dumps(command or {"type": "start"}))
    return await receive(ws, "live.started", "live.refused")


async def receive(ws, *kinds: str, timeout: float = 30) -> dict:
    while True:
        event = json.loads(await ws.receive_from(timeout=timeout))
        if event["type"] in kinds:
            return event


def stored_samples(job: Job) -> np.ndarray:
    with wave.open(str(live_capture.recording_path(job)), "rb") as recording:
        assert (recording.getframerate(), recording.getnchannels(), recording.getsampwidth()) == (RATE, 1, 2)
        return np.frombuffer(recording.readframes(recording.getnframes()), dtype="<i2")


def test_it_captions_while_speech_arrives_and_queues_the_recording_as_a_job(
    alice, default_profile, tiny_en, speech
):
    cookie = session_cookie(alice)

    async def scenario():
        async with stream_worker(tiny_en):
            ws = socket("/ws/live/", cookie)
            start = await started(ws)
            assert start["type"] == "live.started" and start["samples"] == 0
            job_id = start["job"]["id"]
            assert (await sync_to_async(Job.objects.get)(id=job_id)).status == "recording"
            shown_at, committed = None, []
            for offset in range(0, speech.size, FRAME):  # in real time, as a microphone
                await ws.send_to(bytes_data=frame(speech, offset))
                await asyncio.sleep(0.1)
                while not await ws.receive_nothing(timeout=0.001):
                    event = json.loads(await ws.receive_from())
                    if event["type"] == "live.caption" and (event["partial"] or event["committed"]):
                        shown_at = shown_at or offset / RATE
                        committed += event["committed"]
            await ws.send_to(text_data=json.dumps({"type": "stop"}))
            last = None
            while (event := await receive(ws, "live.caption", "live.ended"))["type"] != "live.ended":
                committed, last = committed + event["committed"], event
            assert last["final"] and not last["partial"]  # the session's end: every word final
            assert event["kept"] and event["url"] == f"/jobs/{job_id}/"
            return job_id, shown_at, committed

    job_id, shown_at, committed = async_to_sync(scenario)()
    assert shown_at is not None and shown_at < speech.size / RATE - 1  # words before the clip ended
    live_text = " ".join(piece["text"] for piece in committed)
    assert word_error_rate([(SAID, live_text)]) < 0.2
    job = Job.objects.get(id=job_id)
    assert job.status == "queued" and job.duration == pytest.approx(speech.size / RATE, abs=0.01)
    assert np.array_equal(stored_samples(job), speech)  # every sample sent, once, in order
    upload = services.job_create(owner=alice, profile=default_profile, upload=upload_of(Path(CLIP)))
    run_worker()  # the offline path over the whole recording, as for an upload
    job.refresh_from_db()
    upload.refresh_from_db()
    assert job.status == "done" and word_error_rate([(SAID, job.text)]) < 0.1
    assert job.text == upload.text  # as good as an upload of the same audio: the same transcript


def test_it_refuses_a_session_before_it_starts_when_no_worker_has_room(alice, bob, default_profile, tiny_en):
    alice_cookie, bob_cookie = session_cookie(alice), session_cookie(bob)

    async def scenario():
        ws = socket("/ws/live/", alice_cookie)
        refused = await started(ws)
        assert refused["type"] == "live.refused" and refused["message"] == live_starts.NO_WORKER
        assert (await ws.receive_output())["code"] == live_consumer.CLOSE_REFUSED
        async with stream_worker(tiny_en, capacity=1):
            first = socket("/ws/live/", alice_cookie)
            assert (await started(first))["type"] == "live.started"
            second = socket("/ws/live/", bob_cookie)
            refused = await started(second)
            assert refused["type"] == "live.refused" and refused["message"] == live_starts.BUSY
            await first.disconnect()

    async_to_sync(scenario)()
    assert list(Job.objects.values_list("owner__username", flat=True)) == ["alice"]  # none for Bob


def test_it_refuses_anonymous_sockets():
    async def scenario():
        ws = socket("/ws/live/")
        connected, code = await ws.connect()
        assert not connected and code == live_consumer.CLOSE_UNAUTHENTICATED

    async_to_sync(scenario)()


def test_it_resumes_after_a_dropped_connection_without_losing_or_doubling_audio(
    alice, bob, default_profile, tiny_en, speech
):
    cookie, bob_cookie = session_cookie(alice), session_cookie(bob)
    half = (speech.size // 2) // FRAME * FRAME

    async def scenario():
        async with stream_worker(tiny_en):
            ws = socket("/ws/live/", cookie)
            job_id = (await started(ws))["job"]["id"]
            for offset in range(0, half, FRAME):
                await ws.send_to(bytes_data=frame(speech, offset))
            await ws.disconnect()  # the network dropped: the page reconnects

            thief = socket("/ws/live/", bob_cookie)
            refused = await started(thief, {"type": "resume", "job": job_id})
            assert refused["type"] == "live.refused" and refused["message"] == live_starts.GONE

            again = socket("/ws/live/", cookie)
            resumed = await started(again, {"type": "resume", "job": job_id})
            assert resumed["type"] == "live.started" and resumed["samples"] == half
            # The page sends again what it had not seen acknowledged: a repeat is written once, a
            # frame past a gap is refused with where to send from.
            for offset in range(half - 2 * FRAME, speech.size, FRAME):
                await again.send_to(bytes_data=frame(speech, offset))
            await again.send_to(bytes_data=struct.pack("<I", speech.size + FRAME) + b"\0\0" * 10)
            assert (await receive(again, "live.stored"))["samples"] <= speech.size
            await again.send_to(text_data=json.dumps({"type": "stop"}))
            return await receive(again, "live.ended")

    ended = async_to_sync(scenario)()
    job = Job.objects.get(id=ended["job"]["id"])
    assert job.status == "queued" and np.array_equal(stored_samples(job), speech)


def test_it_goes_on_recording_when_its_worker_dies(alice, default_profile, tiny_en, speech, monkeypatch):
    monkeypatch.setattr(live_consumer, "TICK_SECONDS", 0.2)
    cookie = session_cookie(alice)

    async def scenario():
        ws = socket("/ws/live/", cookie)
        async with stream_worker(tiny_en):
            job_id = (await started(ws))["job"]["id"]
            for offset in range(0, FRAME * 20, FRAME):
                await ws.send_to(bytes_data=frame(speech, offset))
        # The worker is gone (its registry entry with it): captions stop, the recording goes on.
        status = await receive(ws, "live.status")
        assert status["captions"] is False and status["message"] == live_starts.NO_CAPTIONS
        for offset in range(FRAME * 20, speech.size, FRAME):
            await ws.send_to(bytes_data=frame(speech, offset))
        await ws.send_to(text_data=json.dumps({"type": "stop"}))
        await receive(ws, "live.ended")
        return job_id

    job = Job.objects.get(id=async_to_sync(scenario)())
    assert job.status == "queued" and np.array_equal(stored_samples(job), speech)


def test_it_shows_the_captions_to_a_colleague_watching_the_shared_session(
    alice, bob, colleagues, default_profile, tiny_en, speech
):
    cookie, bob_cookie = session_cookie(alice), session_cookie(bob)

    async def scenario():
        async with stream_worker(tiny_en):
            ws = socket("/ws/live/", cookie)
            job_id = (await started(ws))["job"]["id"]
            job = await sync_to_async(Job.objects.get)(id=job_id)
            await sync_to_async(sharing.share_create)(job=job, actor=alice, team=colleagues)
            watcher = socket(f"/ws/jobs/{job_id}/", bob_cookie)
            assert (await watcher.connect())[0]
            sync = json.loads(await watcher.receive_from())
            assert sync["jobs"][0]["status"] == "recording"
            for offset in range(0, speech.size, FRAME):
                await ws.send_to(bytes_data=frame(speech, offset))
            caption = await receive(watcher, "live.caption")
            assert caption["job"]["id"] == job_id and (caption["partial"] or caption["committed"])
            await ws.send_to(text_data=json.dumps({"type": "stop"}))
            await receive(ws, "live.ended")
            queued = await receive(watcher, "job.updated")
            assert queued["job"]["status"] == "queued"

    async_to_sync(scenario)()


def test_it_makes_a_job_of_a_session_whose_page_never_came_back(
    alice, default_profile, tiny_en, speech, settings
):
    settings.ASR_LIVE_RESUME_SECONDS = 5
    cookie = session_cookie(alice)

    async def scenario():
        async with stream_worker(tiny_en):
            ws = socket("/ws/live/", cookie)
            job_id = (await started(ws))["job"]["id"]
            for offset in range(0, speech.size, FRAME):
                await ws.send_to(bytes_data=frame(speech, offset))
            await receive(ws, "live.stored")
            await ws.disconnect()  # the tab closed
        return job_id

    job_id = async_to_sync(scenario)()
    assert upkeep.reconcile().live == []  # the page may still come back
    Job.objects.filter(id=job_id).update(started_at=Job.objects.get(id=job_id).started_at.replace(year=2000))
    queues.connection().delete(live_capture.HOLD_KEY.format(job_id=job_id))  # its wait is over
    assert upkeep.reconcile().live == [job_id]
    job = Job.objects.get(id=job_id)
    assert job.status == "queued" and np.array_equal(stored_samples(job), speech)


def test_it_ends_the_session_as_a_job_when_the_user_logs_out(alice, default_profile, tiny_en, speech):
    cookie = session_cookie(alice)
    session_key = cookie[1].decode().split("=", 1)[1]

    async def scenario():
        async with stream_worker(tiny_en):
            ws = socket("/ws/live/", cookie)
            job_id = (await started(ws))["job"]["id"]
            for offset in range(0, speech.size, FRAME):
                await ws.send_to(bytes_data=frame(speech, offset))
            job = await sync_to_async(Job.objects.get)(id=job_id)
            while live_capture.recording_path(job).stat().st_size < 44 + 2 * speech.size:
                await asyncio.sleep(0.05)  # every frame stored
            await sync_to_async(progress.end_sessions)(
                alice.id, code=progress.CLOSE_SESSION_ENDED, session_key=session_key
            )
            while (output := await ws.receive_output(timeout=10))["type"] != "websocket.close":
                pass
            assert output["code"] == progress.CLOSE_SESSION_ENDED
            return job_id

    job = Job.objects.get(id=async_to_sync(scenario)())
    assert job.status == "queued" and np.array_equal(stored_samples(job), speech)


@pytest.fixture
def funasr_profile(funasr_models, default_profile):
    from transcription.models import EngineProfile

    return EngineProfile.objects.create(
        name="Tiny SeACo-Paraformer", engine="funasr", model=str(funasr_models["asr"]),
        vad_model=str(funasr_models["vad"]), punc_model=str(funasr_models["punc"]), device="cpu",
    )  # fmt: skip


def test_it_captions_mandarin_with_funasr_2pass_and_queues_the_job_on_that_profile(
    alice, funasr_profile, funasr_models, tmp_path
):
    from tests.tiny_models import build_tiny_streaming_paraformer
    from transcription.engine.funasr_engine import FunasrEngine
    from transcription.engine.live_funasr import StreamingModels

    online = build_tiny_streaming_paraformer(tmp_path / "paraformer-zh-streaming")
    models = StreamingModels.load(online_dir=str(online), vad_dir=str(funasr_models["vad"]))
    offline = FunasrEngine(
        EngineConfig(
            kind="funasr", model=str(funasr_models["asr"]), vad_model=str(funasr_models["vad"]), device="cpu"
        )
    )
    gap = np.zeros(int(1.5 * RATE), dtype=np.float32)
    mandarin = np.concatenate(
        [audio.decode(str(AUDIO / f"zh_0{i}.wav"), max_seconds=60) for i in (1, 2)] + [gap]
    )
    pcm = (mandarin * 32767).astype("<i2")
    cookie = session_cookie(alice)

    async def scenario():
        async with test_streaming.serving_host(
            streaming.two_pass_sessions(models, offline), name="2pass", capacity=2, language="zh",
            model=funasr_profile.name,
        ):  # fmt: skip
            ws = socket("/ws/live/", cookie)
            start = await started(ws, {"type": "start", "profile": funasr_profile.pk})
            assert start["type"] == "live.started"
            partial = committed = None
            for offset in range(0, pcm.size, FRAME):
                await ws.send_to(bytes_data=frame(pcm, offset))
                # In real time, as a microphone: sent all at once, the worker may take the whole
                # recording in one step, past the end of its sentences, and show no partial text.
                while not await ws.receive_nothing(timeout=FRAME / RATE):
                    event = json.loads(await ws.receive_from())
                    if event["type"] == "live.caption":
                        partial = partial or event["partial"]
                        committed = committed or event["committed"]
            await ws.send_to(text_data=json.dumps({"type": "stop"}))
            while (event := await receive(ws, "live.caption", "live.ended"))["type"] != "live.ended":
                partial, committed = partial or event["partial"], committed or event["committed"]
        return start["job"]["id"], partial, committed

    job_id, partial, committed = async_to_sync(scenario)()
    assert partial  # the streaming Paraformer's text, before the sentence ended
    assert committed and committed[0]["text"] and committed[0]["words"]  # the offline engine's
    job = Job.objects.get(id=job_id)
    assert job.profile == funasr_profile and job.status == "queued"
    assert np.array_equal(stored_samples(job), pcm)


def test_it_serves_two_sessions_at_once_each_its_own_captions_and_recording(
    alice, bob, default_profile, tiny_en, speech, monkeypatch
):
    decodings = []
    monkeypatch.setattr(
        streaming, "step_many", lambda sessions: decodings.append(len(sessions)) or step_many(sessions)
    )
    cookies = session_cookie(alice), session_cookie(bob)

    async def one(cookie) -> tuple[str, str]:
        ws = socket("/ws/live/", cookie)
        job_id = (await started(ws))["job"]["id"]
        text = []
        for offset in range(0, speech.size, FRAME):  # faster than spoken: both are due at once
            await ws.send_to(bytes_data=frame(speech, offset))
        await asyncio.sleep(2)  # the worker decodes meanwhile
        await ws.send_to(text_data=json.dumps({"type": "stop"}))
        while (event := await receive(ws, "live.caption", "live.ended"))["type"] != "live.ended":
            text += [piece["text"] for piece in event["committed"]]
        return job_id, " ".join(text)

    async def scenario():
        async with stream_worker(tiny_en):
            return await asyncio.gather(*(one(cookie) for cookie in cookies))

    results = async_to_sync(scenario)()
    assert max(decodings, default=0) == 2  # both due at once: one batched decoding
    for (job_id, text), owner in zip(results, (alice, bob), strict=True):
        assert word_error_rate([(SAID, text)]) < 0.25, text
        job = Job.objects.get(id=job_id)
        assert job.owner == owner and np.array_equal(stored_samples(job), speech)

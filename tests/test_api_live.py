"""`/api/v1/live/` (api/live_socket.py): the live captions socket for programs, with a personal
token on the handshake instead of the session cookie; the session's job id comes at the start."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from api import services as token_services
from portal.asgi import application
from tests import test_live_consumer
from tests.test_consumers import session_cookie
from tests.test_live_consumer import FRAME, frame, receive, started, stream_worker
from transcription import live_consumer
from transcription.models import Job

pytestmark = pytest.mark.django_db(transaction=True)
tiny_en, speech = test_live_consumer.tiny_en, test_live_consumer.speech  # the fixtures
fresh_channel_layer = test_live_consumer.fresh_channel_layer  # autouse


def program(*headers) -> WebsocketCommunicator:
    """A program's socket: no Origin header, as a program sends none."""
    return WebsocketCommunicator(application, "/api/v1/live/", headers=list(headers))


def bearer(token: str) -> tuple[bytes, bytes]:
    return (b"authorization", f"Bearer {token}".encode())


def test_it_streams_a_session_for_a_program_with_a_token(alice, default_profile, tiny_en, speech):
    token = token_services.token_create(user=alice, name="captions").plain

    async def scenario():
        async with stream_worker(tiny_en):
            ws = program(bearer(token))
            start = await started(ws, {"type": "start", "name": "Support call"})
            assert start["type"] == "live.started" and start["url"] == f"/jobs/{start['job']['id']}/"
            for offset in range(0, speech.size, FRAME):
                await ws.send_to(bytes_data=frame(speech, offset))
            await ws.send_to(text_data=json.dumps({"type": "stop"}))
            await receive(ws, "live.ended")
            return start["job"]["id"]

    job = Job.objects.get(id=async_to_sync(scenario)())
    assert job.owner == alice and job.original_name == "Support call" and job.status == "queued"
    assert job.duration == pytest.approx(speech.size / 16000, abs=0.01)


def test_it_refuses_a_program_without_a_valid_token(alice, bob, default_profile):
    revoked = token_services.token_create(user=bob, name="old")
    token_services.token_revoke(token=revoked.token)
    cookie = session_cookie(alice)

    async def scenario():
        for headers in ([], [bearer("fap_nothing_here")], [bearer(revoked.plain)], [cookie]):
            connected, code = await program(*headers).connect()
            assert not connected and code == live_consumer.CLOSE_UNAUTHENTICATED, headers

    async_to_sync(scenario)()
    assert not Job.objects.exists()

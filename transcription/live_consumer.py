"""The live session's socket, `/ws/live/` (issue 20): the page's microphone in, captions out.

The page sends JSON commands and binary frames. A frame is a 4-byte little-endian sample offset
followed by 16 kHz mono 16-bit little-endian PCM. Commands:
  {"type": "start", "profile": id, "language": "", "lists": [ids], "itn": true|false|null, "name": ""}
  {"type": "resume", "job": id}   (the page reconnected: the same session goes on)
  {"type": "stop"}
The socket answers with the events of progress.live_event: "live.started" (the job, and the
samples stored so far: the page sends again from there), "live.stored" (samples stored, about
twice a second: the page may forget what is before), "live.caption", "live.status" (captions
stopped or came back) and "live.ended" (the job, queued for its transcript); a refusal closes the
socket with 4429 and a sentence ("live.refused").

This consumer stores each frame (live_capture.Recording) before anything else, then relays it to
the streaming worker that took the session (streaming.py). It never runs a model.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext

from portal import i18n, queues
from transcription import live_capture, live_starts, progress, selectors, streaming

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_REFUSED = 4429
CLOSE_TAKEN_OVER = 4409  # the page opened another socket for the same session
HOLD_SECONDS = 30
TICK_SECONDS = 5.0
STORED_EVERY = 0.5  # seconds between "live.stored" acknowledgements
FINAL_TIMEOUT = 15.0  # how long a stop waits for the worker's last caption


class LiveConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.job = self.recording = self.worker = None
        self.ended = self.stopping = False
        self.captions = True
        self.job_taken = False
        self.language = i18n.language_from_headers(self.scope.get("headers", []))
        self.ticker: asyncio.Task | None = None
        self.last_ack = 0.0
        if not self.scope["user"].is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = self.scope["user"]
        session_key = getattr(self.scope.get("session"), "session_key", None)
        self.session = progress.session_tag(session_key) if session_key else None
        self.sessions = progress.session_group(self.user.id)  # where a log-out and the like close it
        await self.channel_layer.group_add(self.sessions, self.channel_name)
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if bytes_data is not None:
            await self._frame(bytes_data)
            return
        try:
            command = json.loads(text_data or "")
        except ValueError:
            return
        kind = command.get("type") if isinstance(command, dict) else None
        if kind == "start" and self.job is None:
            await self._start(command)
        elif kind == "resume" and self.job is None:
            await self._resume(str(command.get("job", "")))
        elif kind == "stop" and self.job is not None and not self.stopping:
            await self._stop()

    async def _start(self, command: dict) -> None:
        try:
            options = await database_sync_to_async(self._in_language(live_starts.start_options))(
                user=self.user, command=command
            )
        except ValidationError as error:
            await self._refuse(" ".join(error.messages), translated=True)
            return
        session = live_starts.new_session_id()
        if not await self._open_worker(session, options.worker, offset=0.0):
            await self._refuse(live_starts.refusal(await self._workers()))
            return
        self.job = await database_sync_to_async(live_capture.live_start)(
            owner=self.user, job_id=session, **options.job
        )
        await self._attach()

    async def _resume(self, job_id: str) -> None:
        job = await database_sync_to_async(selectors.job_live_get)(user=self.user, job_id=job_id)
        if job is None:
            await self._refuse(live_starts.GONE)
            return
        holder = await sync_to_async(live_capture.live_holder)(job_id=job.id)
        if holder.startswith("specific.") and holder != self.channel_name:
            await self.channel_layer.send(holder, {"type": "live.taken"})  # the page's old socket
        self.job = job
        self.recording = live_capture.Recording(live_capture.recording_path(job))
        await self._attach()
        await self._reopen()

    async def _workers(self) -> list[streaming.StreamStatus]:
        return await sync_to_async(streaming.list_all)(queues.connection())

    async def _open_worker(self, session, options: dict, *, offset: float) -> bool:
        self.worker = await streaming.open_session(
            self.channel_layer, await self._workers(), session=str(session), reply=self.channel_name,
            offset=offset, **options,
        )  # fmt: skip
        return self.worker is not None

    async def _reopen(self) -> None:
        """Open the session on a worker again (the page came back, or its worker went away), from
        where the recording is, and tell the page when captions stop or come back."""
        options = await database_sync_to_async(live_starts.stream_options)(self.job)
        offset = self.recording.stored / live_capture.SAMPLE_RATE if self.recording else 0.0
        captions = await self._open_worker(str(self.job.id), options, offset=offset)
        if captions != self.captions:
            self.captions = captions
            message = live_starts.CAPTIONS_BACK if captions else live_starts.NO_CAPTIONS
            await self._send(
                progress.live_event(
                    self.job.id, "live.status", captions=captions, message=self._translated(message)
                )
            )

    async def _attach(self) -> None:
        """The session is this socket's: hold it, open its recording, tell the page where to send from."""
        if self.recording is None:
            self.recording = live_capture.Recording(live_capture.recording_path(self.job))
        await self._hold(HOLD_SECONDS)
        self.ticker = asyncio.create_task(self._tick())
        await self._send(
            progress.live_event(
                self.job.id, "live.started", samples=self.recording.stored, url=f"/jobs/{self.job.id}/"
            )
        )

    async def _frame(self, data: bytes) -> None:
        if self.recording is None or self.stopping or len(data) < 4:
            return
        (offset,) = struct.unpack_from("<I", data)
        try:
            new = self.recording.append(offset, data[4:])
        except ValueError:  # samples missing: the page sends again from what is stored
            await self._send(progress.live_event(self.job.id, "live.stored", samples=self.recording.stored))
            return
        if new and self.worker is not None:
            message = {"type": streaming.AUDIO, "session": str(self.job.id), "pcm": new}
            try:
                await self.channel_layer.send(self.worker.channel, message)
            except Exception:  # noqa: BLE001 - the audio is stored; only its captions are lost
                logger.warning(
                    "live session %s: a frame did not reach its worker", self.job.id, exc_info=True
                )
        now = asyncio.get_running_loop().time()
        if now - self.last_ack >= STORED_EVERY:
            self.last_ack = now
            await self._send(progress.live_event(self.job.id, "live.stored", samples=self.recording.stored))

    async def _stop(self) -> None:
        self.stopping = True
        if self.worker is None:
            await self._end()
            return
        await self.channel_layer.send(
            self.worker.channel, {"type": streaming.CLOSE, "session": str(self.job.id), "final": True}
        )
        asyncio.get_running_loop().call_later(FINAL_TIMEOUT, lambda: asyncio.ensure_future(self._end()))

    async def live_caption(self, message: dict) -> None:
        """A worker's captions for this session: to the page, and to whoever watches the job."""
        if self.job is None or self.ended:
            return
        event = progress.live_event(
            self.job.id, "live.caption", committed=message["committed"], partial=message["partial"],
            final=message["final"],
        )  # fmt: skip
        await self._send(event)
        await progress.send_live_caption(owner_id=self.user.id, job_id=self.job.id, event=event)
        if message["final"] and self.stopping:
            await self._end()

    async def live_taken(self, message: dict) -> None:
        """The page reconnected on another socket, which has the session now: this one lets go of
        it, without closing it on its worker or holding it."""
        self.worker, self.job_taken = None, True
        await self._let_go(hold=False)
        await self.close(code=CLOSE_TAKEN_OVER)

    async def _end(self) -> None:
        """A stop's end: the worker's last caption came, or it did not in time."""
        if self.ended:
            return
        kept = await self._finish()
        await self._send(
            progress.live_event(self.job.id, "live.ended", kept=kept, url=f"/jobs/{self.job.id}/")
        )
        await self.close()

    async def _finish(self) -> bool:
        """The session's one ending, however it came (a stop, a log-out, a stopping page gone):
        let go of it, and make its recording a job; whether one was kept (not too short)."""
        self.ended = True
        await self._let_go(hold=False)
        return await database_sync_to_async(live_capture.live_finish)(job=self.job) is not None

    async def session_ended(self, message: dict) -> None:
        """The user logged out, changed password, or was deactivated (progress.end_sessions): the
        session ends here and its recording becomes a job, as for a stop."""
        if message["session"] not in (None, self.session):
            return
        if self.job is not None and not self.ended:
            await self._finish()
        await self.close(code=message["code"])

    async def disconnect(self, code: int) -> None:
        if getattr(self, "sessions", None):
            await self.channel_layer.group_discard(self.sessions, self.channel_name)
        if self.job is None or self.ended or self.job_taken:
            return
        if self.stopping:
            await self._finish()
        else:
            # A dropped connection: the session waits for the page to come back, then the sweep
            # makes the recording a job.
            await self._let_go(hold=True)

    async def _let_go(self, *, hold: bool = True) -> None:
        if self.ticker:
            self.ticker.cancel()
            self.ticker = None
        if self.worker is not None and not self.stopping:
            await self.channel_layer.send(
                self.worker.channel, {"type": streaming.CLOSE, "session": str(self.job.id)}
            )
        self.worker = None
        if self.recording is not None:
            self.recording.close()
            self.recording = None
        if hold:
            await self._hold(settings.ASR_LIVE_RESUME_SECONDS, holder="(waiting for the page)")

    async def _hold(self, seconds: int, holder: str = "") -> None:
        await sync_to_async(live_capture.live_hold)(
            job_id=self.job.id, holder=holder or self.channel_name, seconds=seconds
        )

    async def _tick(self) -> None:
        """Keep holding the session; when its worker went away, find it another or say so."""
        while True:
            await asyncio.sleep(TICK_SECONDS)
            await self._hold(HOLD_SECONDS)
            if self.stopping:
                continue
            if self.worker is not None and await sync_to_async(streaming.alive)(
                queues.connection(), self.worker.name
            ):
                alive = {"type": streaming.ALIVE, "session": str(self.job.id)}
                await self.channel_layer.send(self.worker.channel, alive)  # paused or not, still here
                continue
            if self.worker is not None:
                logger.warning("live session %s: its worker %s is gone", self.job.id, self.worker.name)
            await self._reopen()

    async def _refuse(self, message: str, *, translated: bool = False) -> None:
        text = message if translated else self._translated(message)
        await self._send({"v": progress.EVENT_VERSION, "type": "live.refused", "message": text})
        await self.close(code=CLOSE_REFUSED)

    def _translated(self, message: str) -> str:
        with translation.override(self.language):
            return gettext(message)

    def _in_language(self, function):
        """`function` run with the page's language active (its refusals are sentences for the page)."""

        def run(**kwargs):
            with translation.override(self.language):
                return function(**kwargs)

        return run

    async def _send(self, event: dict) -> None:
        await self.send(text_data=json.dumps(event))

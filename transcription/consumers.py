"""Websocket consumers: authenticate, join the owner's group (or, for a colleague watching a job
shared with them, the job's group), forward events (their stored English errors in the language
of the socket's page), and close when the session ends (log-out, a new password, deactivation:
progress.end_sessions) or the colleague may no longer read the job. Nothing else."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import translation

from portal import i18n
from transcription import progress, selectors

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404


class JobsConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/jobs/` streams all of the user's jobs; `/ws/jobs/<id>/` only that one."""

    async def connect(self) -> None:
        user = self.scope["user"]
        self.group = self.sessions = None
        self.watching = False
        session_key = getattr(self.scope.get("session"), "session_key", None)
        self.session = progress.session_tag(session_key) if session_key else None
        self.job_id = self.scope["url_route"]["kwargs"].get("job_id")
        # Job errors are stored in English: each socket shows them in its page's language.
        self.language = i18n.language_from_headers(self.scope.get("headers", []))
        if not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        own = not self.job_id or await database_sync_to_async(selectors.job_exists)(
            user=user, job_id=self.job_id
        )
        if not own and not await self._may_read():
            await self.close(code=CLOSE_NOT_FOUND)
            return
        # A socket joins its own user's group, or the group of one job shared with them (checked
        # above, and again whenever access changes): another user's events cannot reach it.
        self.group = progress.user_group(user.id) if own else progress.job_group(self.job_id)
        self.watching = not own
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.sessions = progress.session_group(user.id)  # where a log-out and the like close it
        await self.channel_layer.group_add(self.sessions, self.channel_name)
        await self.accept()
        jobs = await database_sync_to_async(selectors.job_sync_list)(user=user, job_id=self.job_id)
        positions = await database_sync_to_async(selectors.job_queue_positions)(user=user, jobs=jobs)
        await self.send_json(self._localized(progress.sync_event(jobs, positions)))

    async def _may_read(self) -> bool:
        return await database_sync_to_async(selectors.job_is_readable)(user=self.user, job_id=self.job_id)

    async def access_changed(self, message: dict) -> None:
        """A share was revoked or a team left: a colleague's socket that may no longer read its job
        closes at once. The owner's own sockets are unaffected."""
        if self.group is None or not self.watching or await self._may_read():
            return
        await self._leave_groups()
        await self.close(code=CLOSE_NOT_FOUND)

    async def disconnect(self, code: int) -> None:
        await self._leave_groups()

    async def _leave_groups(self) -> None:
        for group in (self.group, self.sessions):
            if group:
                await self.channel_layer.group_discard(group, self.channel_name)
        self.group = self.sessions = None

    async def session_ended(self, message: dict) -> None:
        """The user logged out (this session, or another: then `session` names that one),
        changed password, or was deactivated or deleted: nothing more goes out on this socket."""
        if message["session"] not in (None, self.session):
            return
        await self._leave_groups()
        await self.close(code=message["code"])

    async def dispatch(self, message: dict) -> None:
        # Channels closes stale database connections before every handler, a hop to a thread
        # and back per message. A progress event touches no database, and with one user's event
        # fanned out to 200 sockets those hops were ~40% of daphne's time (bench/ws_latency.py).
        # The handlers that do use the database go through database_sync_to_async, which
        # closes old connections itself.
        if message["type"] == progress.CHANNEL_MESSAGE_TYPE:
            await self.job_event(message)
        else:
            await super().dispatch(message)

    async def job_event(self, message: dict) -> None:
        event = message["event"]
        if self.group is None:  # closed when its session ended; events already in flight stop here
            return
        if self.job_id and event["job"]["id"] != str(self.job_id):
            return
        await self.send_json(self._localized(event))

    def _localized(self, event: dict) -> dict:
        states = event["jobs"] if event["type"] == "jobs.sync" else [event["job"]]
        if not any(state.get("error") for state in states):
            return event
        with translation.override(self.language):
            translated = [{**state, "error": i18n.translate_stored(state["error"])} for state in states]
        if event["type"] == "jobs.sync":
            return {**event, "jobs": translated}
        return {**event, "job": translated[0]}

"""The websocket contract: group names and the events the browser receives.

Every event is a small JSON object: {"v": 1, "type": ..., ...}.
  - "job.updated": {"job": <job state>} whenever a job's status or progress changes.
  - "jobs.sync": {"jobs": [<job state>, ...]} sent once on connect, from the database, so a
    client that missed events (delivery is at most once) starts from the truth.
  - "summary.updated": {"job": {"id"}, "summary": {"status", "progress", "error"}} whenever a
    job's summary by the language model (llm/) changes, and "question.updated": {"job": {"id"},
    "question": {"status", "progress", "error"}} when a question asked of it is answered or fails;
    the page that shows them reloads when what it waits for ends.
  - "live.caption": {"job": {"id"}, "committed": [{"start", "end", "text", "words"}], "partial", "final"}
    while a live session is recording (issue 20): the words newly final (times in seconds from
    the session's start) and the guess after them, replaced by the next; to the session's page
    (live_consumer.py, with the session's own events) and to the owner's and the job's groups.
A job state is {"id", "name", "status", "progress", "duration", "error", "batch", "url"}, plus
"position" (1 = next on its queue) for queued jobs in "jobs.sync".

Events are published from the worker through channels-redis to the owner's group, and to the
job's group, which a colleague's socket on a job shared with them joins (`/ws/jobs/<id>/` only).
When a share is revoked or a colleague leaves a team, an "access.changed" message (never sent to a
browser) makes each such socket ask the database again; one that may no longer read the job is
closed with 4404, as if it had never existed.

A socket also joins its user's session group, through which it is closed when its session ends:
4401 on log-out (that session's sockets only), deactivation or deletion of the user; 4001 on a
new password (every socket of the user; the page reconnects and only a session the change kept
is let back in). See transcription/receivers.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

EVENT_VERSION = 1
# The message type channels routes to the consumer's `job_event` handler.
CHANNEL_MESSAGE_TYPE = "job.event"


# The message type channels routes to the consumer's `session_ended` handler.
SESSION_MESSAGE_TYPE = "session.ended"
CLOSE_SESSION_ENDED = 4401  # as for an anonymous socket: the page stops, reconnecting will not help
CLOSE_PASSWORD_CHANGED = 4001  # the page reconnects; the session's new check decides


def user_group(user_id: int) -> str:
    return f"jobs.user.{user_id}"


def job_group(job_id) -> str:
    return f"jobs.job.{job_id}"


# The message type channels routes to the consumer's `access_changed` handler.
ACCESS_MESSAGE_TYPE = "access.changed"


def send_access_changed(*, job_ids=(), user_ids=()) -> None:
    """Sharing was revoked on `job_ids`, or `user_ids` left a team: their colleagues' sockets check
    whether they may still read their job, and close if not."""
    layer = get_channel_layer()
    groups = [job_group(job_id) for job_id in job_ids] + [session_group(user_id) for user_id in user_ids]
    try:
        for group in groups:
            async_to_sync(layer.group_send)(group, {"type": ACCESS_MESSAGE_TYPE})
    except Exception:  # noqa: BLE001 - pages and downloads already refuse; only a live socket lingers
        logger.warning("could not tell the sockets of %s that access changed", groups, exc_info=True)


def session_group(user_id: int) -> str:
    return f"sessions.user.{user_id}"


def session_tag(session_key: str) -> str:
    """What names a session in a message: not its key, which is as good as the cookie."""
    return hashlib.sha256(session_key.encode()).hexdigest()


def end_sessions(user_id: int, *, code: int, session_key: str | None = None) -> None:
    """Close the user's open sockets with `code`: all of them, or only those of `session_key`.
    A socket reconnecting afterwards is authenticated afresh (the session, its password hash)."""
    message = {
        "type": SESSION_MESSAGE_TYPE,
        "code": code,
        "session": session_tag(session_key) if session_key else None,
    }
    try:
        async_to_sync(get_channel_layer().group_send)(session_group(user_id), message)
    except Exception:  # noqa: BLE001 - with Redis down, sockets get no events either; log-out must work
        logger.warning("could not close the websockets of user %s", user_id, exc_info=True)


def job_state(job, *, position: int | None = None) -> dict:
    state = {
        "id": str(job.id),
        "name": job.original_name,
        "status": job.status,
        "progress": round(job.progress, 4),
        "duration": job.duration,
        "error": job.error,
        "batch": job.options.get("batch", ""),
        "url": f"/jobs/{job.id}/",
    }
    if position is not None:
        state["position"] = position  # 1 = next to start on its queue
    return state


def job_updated_event(job) -> dict:
    return {"v": EVENT_VERSION, "type": "job.updated", "job": job_state(job)}


def sync_event(jobs, positions: dict | None = None) -> dict:
    positions = positions or {}
    states = [job_state(j, position=positions.get(j.id)) for j in jobs]
    return {"v": EVENT_VERSION, "type": "jobs.sync", "jobs": states}


def send_job_update(job) -> None:
    """Send the job's new state to its owner's browsers and to colleagues watching it. Losing an
    event is tolerable (clients re-sync on connect); failing the job over it is not."""
    message = {"type": CHANNEL_MESSAGE_TYPE, "event": job_updated_event(job)}
    try:  # one trip through async_to_sync (a thread and an event loop each), not one per group
        async_to_sync(_send_to_groups)((user_group(job.owner_id), job_group(job.id)), message)
    except Exception:  # noqa: BLE001 - Redis hiccups must not fail a transcription
        logger.warning("could not publish progress for job %s", job.id, exc_info=True)


async def _send_to_groups(groups: tuple[str, ...], message: dict) -> None:
    layer = get_channel_layer()
    for group in groups:
        await layer.group_send(group, message)


def send_llm_update(*, owner_id: int, job_id, kind: str, state: dict) -> None:
    """A job's summary (`kind` "summary") or a question asked of it ("question") changed: its
    status, progress 0..1 and error, to the job's owner."""
    event = {"v": EVENT_VERSION, "type": f"{kind}.updated", "job": {"id": str(job_id)}, kind: state}
    try:
        async_to_sync(get_channel_layer().group_send)(
            user_group(owner_id), {"type": CHANNEL_MESSAGE_TYPE, "event": event}
        )
    except Exception:  # noqa: BLE001 - as for a job: a lost event is re-read from the page
        logger.warning("could not publish the %s of job %s", kind, job_id, exc_info=True)


def live_event(job_id, kind: str, **fields) -> dict:
    """An event of a live session (issue 20), to its page and, for "live.caption", to whoever
    watches the job: {"v": 1, "type": kind, "job": {"id"}, ...fields}."""
    return {"v": EVENT_VERSION, "type": kind, "job": {"id": str(job_id)}, **fields}


async def send_live_caption(*, owner_id: int, job_id, event: dict) -> None:
    """A live session's captions to the owner's other pages and to colleagues watching the job."""
    try:
        await _send_to_groups(
            (user_group(owner_id), job_group(job_id)), {"type": CHANNEL_MESSAGE_TYPE, "event": event}
        )
    except Exception:  # noqa: BLE001 - the captions of a watcher are worth less than the session
        logger.warning("could not publish the captions of live session %s", job_id, exc_info=True)


# A waiter looks at the database this often, whatever it hears: delivery is at most once.
RECHECK_SECONDS = 5.0
ENDED = ("done", "failed")


async def until_ended(*, user_id: int, job_id, timeout: float, ended: Callable[[], Awaitable[bool]]) -> bool:
    """Wait, holding no thread, until the job ends or `timeout` seconds pass; True if it ended.
    Listens to the owner's group like a socket does; `ended()` (the database, the truth) is asked
    once listening (the end may have come before) and every RECHECK_SECONDS (an event may be
    lost), never per progress event."""
    layer = get_channel_layer()
    channel = await layer.new_channel()
    group = user_group(user_id)
    await layer.group_add(group, channel)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not await ended():
            while (remaining := deadline - loop.time()) > 0:
                try:
                    message = await asyncio.wait_for(layer.receive(channel), min(remaining, RECHECK_SECONDS))
                except TimeoutError:
                    break  # ask the database again
                if _is_end_of(message, job_id):
                    return True
            if remaining <= 0:
                return await ended()
        return True
    finally:
        await layer.group_discard(group, channel)


def _is_end_of(message: dict, job_id) -> bool:
    if message.get("type") != CHANNEL_MESSAGE_TYPE:
        return False
    job = message["event"].get("job", {})
    return job.get("id") == str(job_id) and job.get("status") in ENDED


class Throttle:
    """True at most `per_second` times a second; the final update always goes through."""

    def __init__(self, per_second: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / per_second
        self.last = float("-inf")
        self.clock = clock

    def ready(self, *, final: bool = False) -> bool:
        now = self.clock()
        if final or now - self.last >= self.interval:
            self.last = now
            return True
        return False

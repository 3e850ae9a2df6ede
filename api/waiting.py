"""Waiting for a transcript inside a request (the OpenAI-compatible endpoint), without a thread and
within bounds.

Django's ASGI handler keeps a thread for each request while it runs (its sync middleware's), so the
wait happens after Django has answered: the view stores the job and answers 202 with a WAIT_HEADER
naming it; `WaitForTranscripts`, the ASGI layer in front of Django (portal/asgi.py), holds that
answer back, listens for the job's end on the channel layer (progress.until_ended, asking the
database now and then), and sends the transcript instead, or the 202 if the time is up. Waiting
requests cost a coroutine each; the database work at their end runs on a shared pool of threads.

Waits are counted per process: at most API_MAX_WAITS at once, API_MAX_WAITS_PER_USER of them for
one user. A request past a limit is refused with 429 and Retry-After before anything is stored, so
that a client that retries makes no duplicate job.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse
from rest_framework.exceptions import Throttled

from transcription import progress, selectors

RETRY_AFTER_SECONDS = 5
PATHS = frozenset({"/v1/audio/transcriptions", "/v1/audio/translations"})
WAIT_HEADER = "X-Portal-Wait"  # between the view and WaitForTranscripts only: never sent on
WAITS_HERE = "portal.waits"  # in the ASGI scope: WaitForTranscripts is in front, a view may wait


class TooManyWaiting(Throttled):
    default_detail = "Too many transcriptions are being waited for at once."


class WaitSlots:
    """How many requests of this process wait, in all and per user."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = 0
        self.by_user: Counter[int] = Counter()

    def reserve(self, user_id: int) -> None:
        """Take a place, or raise TooManyWaiting (a 429 with Retry-After)."""
        with self._lock:
            if self.by_user[user_id] >= settings.API_MAX_WAITS_PER_USER:
                raise TooManyWaiting(
                    detail=f"You are already waiting for {self.by_user[user_id]} transcriptions "
                    "(API_MAX_WAITS_PER_USER): wait for one of them, or upload with POST /api/v1/jobs/ "
                    "and poll.",
                    wait=RETRY_AFTER_SECONDS,
                )
            if self.total >= settings.API_MAX_WAITS:
                raise TooManyWaiting(
                    detail="The server is waiting for as many transcriptions as it may (API_MAX_WAITS): "
                    "try again shortly.",
                    wait=RETRY_AFTER_SECONDS,
                )
            self.total += 1
            self.by_user[user_id] += 1

    def release(self, user_id: int) -> None:
        with self._lock:
            self.total -= 1
            self.by_user[user_id] -= 1
            if not self.by_user[user_id]:
                del self.by_user[user_id]


SLOTS = WaitSlots()


def can_wait(request: HttpRequest) -> bool:
    """Whether the request came through WaitForTranscripts (daphne), and waits are on."""
    return bool(getattr(request, "scope", {}).get(WAITS_HERE)) and settings.API_WAIT_SECONDS > 0


def wait_for(response: HttpResponse, *, user_id: int, job_id, fmt: str, language: str) -> HttpResponse:
    """Mark a view's 202 so that WaitForTranscripts waits for the job (the user holds a place)."""
    response[WAIT_HEADER] = json.dumps(
        {"user": user_id, "job": str(job_id), "fmt": fmt, "language": language}
    )
    return response


class WaitForTranscripts:
    """ASGI middleware in front of Django: see the module's docstring. `answer(user_id, job_id,
    fmt, language)` makes the final response once the job has ended (api/openai_compat.py)."""

    def __init__(self, app, answer: Callable[..., HttpResponse]) -> None:
        self.app, self.answer = app, answer

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] not in PATHS:
            await self.app(scope, receive, send)
            return
        held: list[dict] = []
        passing = True

        async def hold(message: dict) -> None:
            nonlocal passing
            if message["type"] == "http.response.start":
                passing = not _header(message, WAIT_HEADER)
            if passing:
                await send(message)
            else:
                held.append(message)

        await self.app({**scope, WAITS_HERE: True}, receive, hold)
        if held:
            await self._wait_and_answer(held, send)

    async def _wait_and_answer(self, held: list[dict], send) -> None:
        start, *body = held
        pending = json.loads(_header(start, WAIT_HEADER))
        try:
            ended = await progress.until_ended(
                user_id=pending["user"],
                job_id=pending["job"],
                timeout=settings.API_WAIT_SECONDS,
                ended=_pooled(_ended, pending["user"], pending["job"]),
            )
            if ended:
                final = await _pooled(
                    self.answer, pending["user"], pending["job"], pending["fmt"], pending["language"]
                )()
                start, body = _as_asgi(start, final)
        finally:
            SLOTS.release(pending["user"])
        start["headers"] = [(k, v) for k, v in start["headers"] if k.decode().lower() != WAIT_HEADER.lower()]
        await send(start)
        for message in body:
            await send(message)


def _ended(user_id: int, job_id: str) -> bool:
    from django.contrib.auth import get_user_model

    user = get_user_model()(pk=user_id)  # only its id is read: the job's owner scoping
    return selectors.job_get(user=user, job_id=job_id).is_finished


def _pooled(function: Callable, *args) -> Callable:
    """`function(*args)` on the shared thread pool, its database connections fresh as a request's."""

    def run():
        close_old_connections()
        try:
            return function(*args)
        finally:
            close_old_connections()

    return sync_to_async(run, thread_sensitive=False)


def _header(start: dict, name: str) -> str:
    wanted = name.lower().encode()
    return next((v.decode() for k, v in start.get("headers", []) if k.lower() == wanted), "")


def _as_asgi(start: dict, response: HttpResponse) -> tuple[dict, list[dict]]:
    """The final response, keeping the held one's headers (security headers, cookies) but its own
    status, type and length."""
    replaced = {b"content-type", b"content-length"}
    headers = [(k, v) for k, v in start["headers"] if k.lower() not in replaced]
    headers += [
        (b"content-type", response["Content-Type"].encode()),
        (b"content-length", str(len(response.content)).encode()),
    ]
    return (
        {"type": "http.response.start", "status": response.status_code, "headers": headers},
        [{"type": "http.response.body", "body": response.content, "more_body": False}],
    )

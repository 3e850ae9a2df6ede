"""`/api/v1/live/`: live captions for programs (issue 20), the live page's protocol
(transcription/live_consumer.py) with a personal token instead of the session cookie:
`Authorization: Bearer fap_…` on the websocket's handshake. No cookie is read on this route, so
no origin check is needed: a page elsewhere cannot borrow a token the way it could a cookie.
See docs/api.md, "Live captions"."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser

from api import services
from api.authentication import KEYWORD, _refusal, _token_by_hash


def user_for_headers(headers: list[tuple[bytes, bytes]]):
    """The user of the handshake's bearer token, or None (no token, or one refused)."""
    parts = dict(headers).get(b"authorization", b"").split()
    if len(parts) != 2 or parts[0].lower() != KEYWORD:
        return None
    token = _token_by_hash(services.hash_token(parts[1].decode("latin-1")))
    if _refusal(token):
        return None
    services.token_mark_used(token=token)
    return token.user


class TokenAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        user = await database_sync_to_async(user_for_headers)(scope.get("headers", []))
        return await super().__call__({**scope, "user": user or AnonymousUser()}, receive, send)

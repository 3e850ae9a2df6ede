"""Every write to API tokens."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import NamedTuple

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from api.models import TOKEN_PREFIX, ApiToken

logger = logging.getLogger(__name__)

# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = timedelta(seconds=60)


class NewToken(NamedTuple):
    token: ApiToken
    plain: str  # shown to the user once, never stored


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def token_create(
    *, user, name: str, expires_in_days: int | None = None, default_callback_url: str = ""
) -> NewToken:
    """Make a token `fap_<prefix>_<secret>` and store only its hash. The prefix is random too,
    and unique: on the rare collision, draw again."""
    expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    while True:
        prefix = secrets.token_hex(4)
        if not ApiToken.objects.filter(prefix=prefix).exists():
            break
    plain = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=prefix,
            key_hash=hash_token(plain),
            expires_at=expires_at,
            default_callback_url=default_callback_url,
        )
    logger.info("API token %s (%s) created for user %s", token.pk, prefix, user.pk)
    return NewToken(token, plain)


@transaction.atomic
def token_revoke(*, token: ApiToken) -> bool:
    """Revoke the token from now on. False if it already was."""
    now = timezone.now()
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at=None).update(revoked_at=now)
    if revoked:
        token.revoked_at = now
        logger.info("API token %s (%s) revoked", token.pk, token.prefix)
    return bool(revoked)


def token_mark_used(*, token: ApiToken) -> None:
    """Record that the token was just used, at most once a minute (one conditional update)."""
    now = timezone.now()
    stale = Q(last_used_at=None) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    if ApiToken.objects.filter(stale, pk=token.pk).update(last_used_at=now):
        token.last_used_at = now

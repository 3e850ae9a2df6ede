"""Login throttling: after LOGIN_MAX_FAILURES failed attempts for one user name (or four times
as many from one address) within LOGIN_LOCKOUT_SECONDS, further attempts are refused until the window passes.
Counts live in the shared Redis cache, so every web process sees the same numbers."""

from __future__ import annotations

import hashlib
import logging
from contextlib import contextmanager

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.utils.translation import ngettext
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

ADDRESS_FACTOR = 4


def _keys(request, username: str) -> list[str]:
    address = request.META.get("REMOTE_ADDR", "") if request else ""
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [f"login-fail:user:{name}", f"login-fail:addr:{address}"]


def blocked(request, username: str) -> bool:
    # An address may try several user names (an office behind one NAT): it gets more room.
    user_key, address_key = _keys(request, username)
    limit = settings.LOGIN_MAX_FAILURES
    with _cache_down_is_tolerated():
        return (cache.get(user_key) or 0) >= limit or (cache.get(address_key) or 0) >= limit * ADDRESS_FACTOR
    return False


def record_failure(request, username: str) -> None:
    with _cache_down_is_tolerated():
        for key in _keys(request, username):
            if cache.add(key, 1, timeout=settings.LOGIN_LOCKOUT_SECONDS) is False:
                cache.incr(key)


def record_success(request, username: str) -> None:
    with _cache_down_is_tolerated():
        cache.delete(_keys(request, username)[0])


@contextmanager
def _cache_down_is_tolerated():
    """With Redis down, people can still log in (passwords are still checked); throttling resumes
    when it is back. Locking everyone out would be worse."""
    try:
        yield
    except RedisError:
        logger.warning("login throttling skipped: the cache (Redis) is unavailable")


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = self.data.get("username", "")
        if blocked(self.request, username):
            minutes = max(1, settings.LOGIN_LOCKOUT_SECONDS // 60)
            raise forms.ValidationError(
                ngettext(
                    "Too many failed log-in attempts. Try again in %(minutes)d minute, "
                    "or ask an administrator.",
                    "Too many failed log-in attempts. Try again in %(minutes)d minutes, "
                    "or ask an administrator.",
                    minutes,
                )
                % {"minutes": minutes},
                code="throttled",
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            record_failure(self.request, username)
            raise
        record_success(self.request, username)
        return cleaned

"""Request rate limits per user, counted in the shared Redis cache so that every web process
sees the same count."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class PerUserThrottle(SimpleRateThrottle):
    """At most `API_THROTTLE_RATE` requests (e.g. "600/min") per user, whether they come with a
    session or with any of the user's tokens (a user may make any number of tokens, so a count per
    token would be no limit), and per address for anonymous ones. A fixed window counted with
    Redis' atomic INCR: DRF's own history list is read and written back, so concurrent processes
    lose counts. `wait()` gives DRF the seconds left in the window, which it sends as Retry-After."""

    scope = "user"
    cache = cache

    def get_rate(self) -> str | None:
        # Read per request, not at import: settings overrides (and tests) take effect.
        rate = getattr(settings, "API_THROTTLE_RATE", None)
        return rate or api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str:
        if request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"anon-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        now = self.timer()
        window = int(now // self.duration)
        self.window_ends = (window + 1) * self.duration
        key = f"{self.get_cache_key(request, view)}_{window}"
        self.cache.add(key, 0, timeout=self.duration + 1)
        try:
            count = self.cache.incr(key)
        except ValueError:  # expired between add and incr: a new window
            self.cache.add(key, 1, timeout=self.duration + 1)
            count = 1
        return count <= self.num_requests

    def wait(self) -> float:
        return max(1.0, self.window_ends - self.timer())

from rest_framework.throttling import SimpleRateThrottle


class PerTokenThrottle(SimpleRateThrottle):
    """Placeholder: replaced by the real implementation."""

    scope = "token"

    def get_cache_key(self, request, view):
        return None

"""Request rates, counted in the shared Redis cache (so across every process).

API keys, signed-in browser sessions and anonymous callers each have their own
rate (``DEFAULT_THROTTLE_RATES``: ``api_key``, ``user``, ``anon``).
"""

from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle

from contactcenter.models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Requests per API key."""

    scope = "api_key"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.key_id}


class SessionUserRateThrottle(SimpleRateThrottle):
    """Requests per signed-in user on a browser session (API-key requests count against their key)."""

    scope = "user"

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiKey) or not (request.user and request.user.is_authenticated):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AnonymousRateThrottle(AnonRateThrottle):
    """Requests per client address for endpoints open to anonymous callers."""

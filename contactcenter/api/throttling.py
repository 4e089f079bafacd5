"""Request rates, counted in the shared Redis cache (so across every process).

API keys, signed-in browser sessions and anonymous callers each have their own
rate (``DEFAULT_THROTTLE_RATES``: ``api_key``, ``user``, ``anon``).
"""

from rest_framework import exceptions
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


class FailedAuthenticationThrottle(SimpleRateThrottle):
    """Failed API-key attempts per client address, so guessing keys is slowed to a crawl.

    Unlike the other throttles it counts only failures, and it is consulted by
    the authenticator itself: a refused request never reaches the view's throttles.
    """

    scope = "auth_failure"

    def get_cache_key(self, request, view=None):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def check(self, request) -> None:
        """Raise Throttled while this address is over its failure budget."""
        self.key = self.get_cache_key(request)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            raise exceptions.Throttled(wait=self.wait())

    def record_failure(self) -> None:
        """Count one failure (after ``check`` on the same request)."""
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)

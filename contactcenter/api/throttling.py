from rest_framework.throttling import SimpleRateThrottle

from contactcenter.models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Requests per API key, counted in the shared Redis cache (so across every process)."""

    scope = "api_key"

    def get_cache_key(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.key_id}

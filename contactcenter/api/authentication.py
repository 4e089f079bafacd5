from __future__ import annotations

import hmac

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from contactcenter.api.throttling import FailedAuthenticationThrottle
from contactcenter.models import ApiKey
from contactcenter.services import api_key_record_use


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer cck_<key id>_<secret>``; the request acts as the key's owner.

    A wrong, revoked or expired key is refused (401), never treated as anonymous;
    too many refusals from one address are answered 429 until the window passes.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(errors="replace")
        scheme, _sep, token = header.partition(" ")
        if scheme != self.keyword:
            return None
        throttle = FailedAuthenticationThrottle()
        throttle.check(request)
        try:
            key = self._lookup(token.strip())
        except exceptions.AuthenticationFailed:
            throttle.record_failure()
            raise
        api_key_record_use(api_key=key)
        return key.owner, key

    def _lookup(self, token: str) -> ApiKey:
        prefix, _sep, rest = token.partition("_")
        key_id, _sep, secret = rest.partition("_")
        if prefix != ApiKey.PREFIX or not key_id or not secret:
            raise exceptions.AuthenticationFailed(_("Malformed API key."))
        key = ApiKey.objects.active().select_related("owner").filter(key_id=key_id).first()
        if key is None or not hmac.compare_digest(key.secret_hash, ApiKey.hash_secret(secret)):
            raise exceptions.AuthenticationFailed(_("Invalid, expired or revoked API key."))
        if not key.owner.is_active:
            raise exceptions.AuthenticationFailed(_("The key's owner is inactive."))
        return key

    def authenticate_header(self, request) -> str:
        return self.keyword

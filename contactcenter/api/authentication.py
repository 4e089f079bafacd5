from __future__ import annotations

import hmac

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from contactcenter.models import ApiKey

#: last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION_SECONDS = 60


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer cck_<key id>_<secret>``; the request acts as the key's owner."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(errors="replace")
        scheme, _sep, token = header.partition(" ")
        if scheme != self.keyword:
            return None
        key = self._lookup(token.strip())
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return key.owner, key

    def _lookup(self, token: str) -> ApiKey:
        prefix, _sep, rest = token.partition("_")
        key_id, _sep, secret = rest.partition("_")
        if prefix != ApiKey.PREFIX or not key_id or not secret:
            raise exceptions.AuthenticationFailed(_("Malformed API key."))
        key = ApiKey.objects.active().select_related("owner").filter(key_id=key_id).first()
        if key is None or not hmac.compare_digest(key.secret_hash, ApiKey.hash_secret(secret)):
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        if not key.owner.is_active:
            raise exceptions.AuthenticationFailed(_("The key's owner is inactive."))
        return key

    def authenticate_header(self, request) -> str:
        return self.keyword

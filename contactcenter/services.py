"""Operations on the project-wide models: API keys."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contactcenter.choices import ApiScope
from contactcenter.models import ApiKey, User

#: last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION_SECONDS = 60


def _scopes_clean(scopes: Iterable[str]) -> list[str]:
    cleaned = sorted({str(scope).strip() for scope in scopes if str(scope).strip()})
    unknown = [scope for scope in cleaned if scope not in ApiScope.values]
    if unknown:
        raise ValidationError(
            {"scopes": _("Unknown scope(s): %(unknown)s. Use %(known)s.")
             % {"unknown": ", ".join(unknown), "known": ", ".join(ApiScope.values)}}
        )
    if not cleaned:
        raise ValidationError({"scopes": _("Give the key at least one scope.")})
    return cleaned


def api_key_create(
    *, name: str, owner: User, scopes: Iterable[str], expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """Issue a key acting as ``owner`` within ``scopes``; returns it with the full key text.

    The plaintext exists only in the return value: the database keeps a
    digest of the secret, so the caller must show it now or never.
    Side effects: one ApiKey row. Raises ValidationError for an empty name,
    unknown or missing scopes, an inactive owner or an expiry in the past.
    """
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Give the key a name.")})
    if not owner.is_active:
        raise ValidationError({"owner": _("The owner is inactive.")})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": _("The expiry must be in the future.")})
    clean_scopes = _scopes_clean(scopes)
    key_id, secret = ApiKey.new_credentials()
    with transaction.atomic():
        api_key = ApiKey.objects.create(
            name=name[:100], owner=owner, key_id=key_id, secret_hash=ApiKey.hash_secret(secret),
            scopes=clean_scopes, expires_at=expires_at,
        )
    return api_key, ApiKey.format_key(key_id, secret)


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke a key for good; the next request carrying it is refused. Revoking twice keeps the first time.

    Side effects: ApiKey.revoked_at.
    """
    with transaction.atomic():
        api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
        if api_key.revoked_at is None:
            api_key.revoked_at = timezone.now()
            api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_record_use(*, api_key: ApiKey, now: datetime | None = None) -> None:
    """Stamp ``last_used_at``, at most once a minute per key so busy keys cost no write per request.

    Side effects: ApiKey.last_used_at (a single UPDATE, no lock).
    """
    now = now or timezone.now()
    last = api_key.last_used_at
    if last is None or (now - last).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now

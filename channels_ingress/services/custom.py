"""Custom channels: external systems post customer messages to the channel API and receive replies by webhook."""

from __future__ import annotations

import hmac
import time
from typing import Any

from django.db import transaction

from channels_ingress.exceptions import IdempotencyKeyReused
from channels_ingress.models import CustomChannel
from channels_ingress.services import InboundMessage, identity_link_by_email, inbound_receive
from channels_ingress.services.delivery import signature_for
from crm.choices import ChannelKind
from crm.models import Message
from crm.services import IngestResult

#: A signed request older (or newer) than this is refused, so a captured request cannot be replayed later.
SIGNATURE_TOLERANCE_SECONDS = 300


def custom_signature_valid(
    *, channel: CustomChannel, timestamp: str, signature: str, body: bytes, now: float | None = None
) -> bool:
    """``X-Signature: sha256=<hex>`` of HMAC-SHA256(secret, timestamp + "." + body), within the tolerance."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now or time.time()) - sent_at) > SIGNATURE_TOLERANCE_SECONDS:
        return False
    expected = signature_for(secret=channel.secret, timestamp=timestamp, body=body)
    return hmac.compare_digest(expected.encode(), (signature or "").encode())


def custom_message_receive(
    *,
    channel: CustomChannel,
    sender: str,
    body: str,
    idempotency_key: str,
    sender_name: str = "",
    email: str = "",
    attachments: list[dict[str, Any]] | None = None,
    context: dict[str, Any] | None = None,
) -> IngestResult:
    """Store a message an external system relayed from one of its users (``sender`` is its user id).

    The ``Idempotency-Key`` makes a retried request store nothing twice; the
    same key with a different body raises IdempotencyKeyReused. An ``email``
    of a known contact links the sender to that contact.
    Side effects: as ``inbound_receive``.
    """
    provider_id = f"{channel.key}:{idempotency_key}"
    existing = Message.objects.filter(channel_kind=ChannelKind.CUSTOM, provider_message_id=provider_id).first()
    address = f"{channel.key}:{sender}"
    if existing is not None and (existing.body != body or existing.conversation.identity.address != address):
        raise IdempotencyKeyReused()
    with transaction.atomic():
        if email and existing is None:
            identity_link_by_email(channel_kind=ChannelKind.CUSTOM, address=address, email=email)
        first, _sep, last = sender_name.partition(" ")
        defaults = {"first_name": first[:100], "last_name": last[:100]} if sender_name else {}
        if email:
            defaults["email"] = email
        return inbound_receive(
            inbound=InboundMessage(
                channel_kind=ChannelKind.CUSTOM,
                address=address,
                body=body,
                channel_ref=channel.key,
                provider_message_id=provider_id,
                attachments=attachments or [],
                contact_defaults=defaults,
                context={"custom": context} if context else {},
            )
        )

"""The outbox: outbound messages leave for SMS, email and custom channels with retries and backoff.

An agent's reply is stored by ``crm.services.message_send`` as ``queued``.
``message_deliver`` (called right after, or by the ``outbox_sweep`` that
beat runs every few seconds) writes an :class:`OutboundDelivery` row and
enqueues the ``delivery_send`` task after commit. The task calls
``delivery_attempt``: provider I/O first, outside any transaction, then one
short transaction records the outcome on the delivery and the message.
Web chat needs no outbox: the visitor's socket receives the reply from the
conversation's group.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from channels_ingress import events
from channels_ingress.adapters import email as email_adapter
from channels_ingress.adapters import http, twilio
from channels_ingress.choices import DeliveryState
from channels_ingress.exceptions import DeliveryFailed
from channels_ingress.models import CustomChannel, EmailChannel, OutboundDelivery, SmsChannel
from contactcenter.realtime import publish
from crm import events as crm_events
from crm.choices import ChannelKind, DeliveryStatus, MessageDirection
from crm.models import Message

DELIVERABLE_KINDS = frozenset({ChannelKind.SMS, ChannelKind.EMAIL, ChannelKind.CUSTOM})
MAX_ATTEMPTS = 6
SWEEP_BATCH = 200
#: A pending delivery whose task was lost is re-enqueued after this long.
STALE_PENDING = timedelta(minutes=2)


def backoff_seconds(attempts: int) -> int:
    """Exponential backoff: base, 2×base, 4×base, … capped at an hour."""
    base = getattr(settings, "CHANNELS_DELIVERY_BACKOFF_SECONDS", 5)
    return int(min(3600, base * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class AttemptOutcome:
    delivery: OutboundDelivery
    retry_in: int | None = None


def _enqueue(delivery_id: int) -> None:
    from channels_ingress.tasks import delivery_send

    transaction.on_commit(lambda: delivery_send.delay(delivery_id))


def message_deliver(*, message: Message) -> OutboundDelivery | None:
    """Put an outbound SMS, email or custom-channel message in the outbox (once).

    Side effects: an OutboundDelivery row; after commit the ``delivery_send``
    task. Returns None for messages that need no provider (web chat, notes).
    """
    if message.direction != MessageDirection.OUTBOUND or message.channel_kind not in DELIVERABLE_KINDS:
        return None
    with transaction.atomic():
        delivery, created = OutboundDelivery.objects.get_or_create(
            message=message,
            defaults={
                "channel_kind": message.channel_kind, "channel_ref": message.conversation.channel_ref,
                "next_attempt_at": timezone.now(),
            },
        )
        if created:
            _enqueue(delivery.pk)
    return delivery


def outbox_sweep(*, now=None) -> int:
    """Enqueue every queued outbound message that has no delivery yet, and pending deliveries whose task was lost.

    Side effects: OutboundDelivery rows; ``delivery_send`` tasks after commit.
    Returns how many deliveries were enqueued.
    """
    now = now or timezone.now()
    count = 0
    with transaction.atomic():
        waiting = (
            Message.objects.select_related("conversation")
            .filter(
                direction=MessageDirection.OUTBOUND, delivery_status=DeliveryStatus.QUEUED,
                channel_kind__in=DELIVERABLE_KINDS, delivery__isnull=True,
            )
            .order_by("id")[:SWEEP_BATCH]
        )
        for message in waiting:
            message_deliver(message=message)
            count += 1
        stale = OutboundDelivery.objects.filter(state=DeliveryState.PENDING).filter(
            next_attempt_at__lt=now - STALE_PENDING
        ).values_list("pk", flat=True)[:SWEEP_BATCH]
        for delivery_id in stale:
            OutboundDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=now)
            _enqueue(delivery_id)
            count += 1
    return count


def _send(delivery: OutboundDelivery) -> str:
    """Hand the message to its provider; returns the provider's id for it. Raises DeliveryFailed."""
    message = delivery.message
    conversation = message.conversation
    if delivery.channel_kind == ChannelKind.SMS:
        channel = SmsChannel.objects.filter(phone_number=delivery.channel_ref).first()
        if channel is None:
            raise DeliveryFailed(f"No SMS channel {delivery.channel_ref}.", retryable=False)
        callback = ""
        if channel.public_base_url:
            from django.urls import reverse

            callback = channel.public_base_url.rstrip("/") + reverse("channels_ingress:twilio_sms_status")
        return twilio.sms_send(
            api_base_url=channel.api_base_url, account_sid=channel.account_sid, auth_token=channel.signing_token,
            from_number=channel.phone_number, to_number=conversation.identity.address, body=message.body,
            media_urls=[a["url"] for a in message.attachments if str(a.get("url", "")).startswith("https://")],
            status_callback=callback,
        )
    if delivery.channel_kind == ChannelKind.EMAIL:
        channel = EmailChannel.objects.filter(address=delivery.channel_ref).first()
        if channel is None:
            raise DeliveryFailed(f"No mailbox {delivery.channel_ref}.", retryable=False)
        return email_adapter.email_send(channel=channel, message=message)
    if delivery.channel_kind == ChannelKind.CUSTOM:
        channel = CustomChannel.objects.filter(key=delivery.channel_ref).first()
        if channel is None or not channel.webhook_url:
            raise DeliveryFailed(f"Custom channel {delivery.channel_ref} has no webhook URL.", retryable=False)
        return custom_webhook_post(channel=channel, message=message)
    raise DeliveryFailed(f"Nothing delivers {delivery.channel_kind} messages.", retryable=False)


def signature_for(*, secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, timestamp + "." + body)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def custom_webhook_post(*, channel: CustomChannel, message: Message) -> str:
    from channels_ingress.selectors import agent_display_name

    body = json.dumps(
        {
            "type": "message.created",
            "message": {
                "id": message.pk,
                "conversation_id": message.conversation_id,
                "recipient": message.conversation.identity.address,
                "body": message.body,
                "attachments": [
                    {k: a.get(k) for k in ("name", "size", "content_type", "url")} for a in message.attachments
                ],
                "sender_kind": message.sender_kind,
                "sender_name": agent_display_name(user=message.sender_user, mode="first_name"),
                "created_at": message.created_at.isoformat(),
            },
        },
        separators=(",", ":"),
    ).encode()
    timestamp = str(int(time.time()))
    http.post(
        channel.webhook_url,
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Timestamp": timestamp,
            "X-Signature": signature_for(secret=channel.secret, timestamp=timestamp, body=body),
            "Idempotency-Key": f"message-{message.pk}",
        },
    )
    return f"message-{message.pk}"


def _message_status_set(message: Message, status: str) -> None:
    Message.objects.filter(pk=message.pk).update(delivery_status=status)
    message.delivery_status = status
    publish(
        events.message_delivery_changed(message=message),
        groups=crm_events.conversation_groups(message.conversation),
    )


def delivery_attempt(*, delivery_id: int) -> AttemptOutcome | None:
    """Try to deliver once; record success, a retry time, or the final failure.

    The provider call happens before the transaction, so no lock is held
    during network I/O. Side effects: OutboundDelivery state/attempts/error,
    Message delivery status; after commit ``message.delivery_changed``.
    Returns None when there is nothing (left) to do.
    """
    delivery = (
        OutboundDelivery.objects.select_related("message__conversation__identity", "message__sender_user")
        .filter(pk=delivery_id, state=DeliveryState.PENDING)
        .first()
    )
    if delivery is None:
        return None
    provider_id, error, retryable = "", "", False
    try:
        provider_id = _send(delivery)
    except DeliveryFailed as exc:
        error, retryable = str(exc), exc.retryable
    with transaction.atomic():
        delivery = (
            OutboundDelivery.objects.select_for_update().select_related("message__conversation").get(pk=delivery.pk)
        )
        if delivery.state != DeliveryState.PENDING:
            return AttemptOutcome(delivery)
        delivery.attempts += 1
        now = timezone.now()
        if not error:
            delivery.state = DeliveryState.SENT
            delivery.provider_message_id = provider_id
            delivery.sent_at = now
            delivery.last_error = ""
            delivery.next_attempt_at = None
            delivery.save()
            _message_status_set(delivery.message, DeliveryStatus.SENT)
            return AttemptOutcome(delivery)
        delivery.last_error = error[:2000]
        if retryable and delivery.attempts < MAX_ATTEMPTS:
            wait = backoff_seconds(delivery.attempts)
            delivery.next_attempt_at = now + timedelta(seconds=wait)
            delivery.save()
            return AttemptOutcome(delivery, retry_in=wait)
        delivery.state = DeliveryState.FAILED
        delivery.next_attempt_at = None
        delivery.save()
        _message_status_set(delivery.message, DeliveryStatus.FAILED)
        return AttemptOutcome(delivery)


def delivery_status_update(*, channel_kind: str, provider_message_id: str, status: str) -> OutboundDelivery | None:
    """A provider reported a delivery state (e.g. a Twilio ``MessageStatus`` callback).

    States only move forward (``failed`` may come at any time), so a late
    ``sent`` never overwrites ``delivered``. Side effects: OutboundDelivery and
    Message status; after commit ``message.delivery_changed``.
    """
    order = [DeliveryStatus.QUEUED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED, DeliveryStatus.READ]
    with transaction.atomic():
        delivery = (
            OutboundDelivery.objects.select_for_update().select_related("message__conversation")
            .filter(channel_kind=channel_kind, provider_message_id=provider_message_id)
            .first()
        )
        if delivery is None:
            return None
        current = delivery.message.delivery_status
        if status == DeliveryStatus.FAILED:
            delivery.state = DeliveryState.FAILED
        elif current in order and status in order and order.index(status) > order.index(current):
            if status in (DeliveryStatus.DELIVERED, DeliveryStatus.READ):
                delivery.state = DeliveryState.DELIVERED
        else:
            return delivery
        delivery.save(update_fields=["state", "updated_at"])
        _message_status_set(delivery.message, status)
    return delivery

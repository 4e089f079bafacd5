"""Channel operations shared by every adapter.

An inbound message always takes one path, :func:`inbound_receive`: the
adapter has turned provider traffic into an :class:`InboundMessage`; it is
stored with ``crm.services.message_ingest`` and then handed off to whoever
serves the customer next. Channel-specific services live in the modules of
this package (``webchat``, ``sms``, ``voice``, ``email``, ``custom``,
``delivery``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction

from crm.exceptions import ConversationClosed
from crm.models import Contact, ContactIdentity, Conversation
from crm.services import IngestResult, contact_identity_add, message_ingest
from routing.exceptions import NoWorkStream
from routing.services import conversation_enqueue

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboundMessage:
    """One customer message as an adapter understood it, before it is stored."""

    channel_kind: str
    address: str
    body: str
    channel_ref: str = ""
    provider_message_id: str | None = None
    html: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    contact_defaults: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    subject: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    #: False for traffic no person should be asked to handle (auto-replies, IVR steps).
    needs_person: bool = True


def inbound_receive(
    *, inbound: InboundMessage, on_ingested: Callable[[IngestResult], None] | None = None
) -> IngestResult:
    """Store an inbound message and hand its conversation on.

    In one transaction: ``crm.services.message_ingest`` (contact, identity,
    conversation, message, timeline), then ``on_ingested`` for a channel's own
    step (an email thread's case link, a visitor's group), then the hand-off.
    A repeated provider message id returns the stored message and changes
    nothing, so neither ``on_ingested`` nor the hand-off runs again.

    Side effects: those of ``message_ingest`` (the conversation flagged
    ``needs_routing`` when the message needs a person) and of ``on_ingested``.
    """
    with transaction.atomic():
        result = message_ingest(
            channel_kind=inbound.channel_kind,
            address=inbound.address,
            body=inbound.body,
            provider_message_id=inbound.provider_message_id,
            channel_ref=inbound.channel_ref,
            html=inbound.html,
            attachments=list(inbound.attachments),
            contact_defaults=dict(inbound.contact_defaults),
            context=dict(inbound.context),
            subject=inbound.subject,
            metadata=dict(inbound.metadata),
            needs_routing=inbound.needs_person,
        )
        if not result.created:
            return result
        if on_ingested is not None:
            on_ingested(result)
        if inbound.needs_person:
            _hand_off(result)
    return result


def _hand_off(result: IngestResult) -> None:
    """Enqueue the conversation with routing once the message is committed.

    Routing runs after commit so a routing failure can never lose the stored
    message. The conversation is flagged ``needs_routing`` by the ingest, so
    when this never runs (the process died after commit) or its channel has
    no work stream yet, the routing sweep retries it.
    """
    conversation_id = result.conversation.pk
    transaction.on_commit(lambda: _enqueue(conversation_id), robust=True)


def _enqueue(conversation_id: int) -> None:
    conversation = Conversation.objects.get(pk=conversation_id)
    try:
        conversation_enqueue(conversation=conversation, context=conversation.context)
    except (NoWorkStream, ConversationClosed) as error:
        logger.warning("conversation %s not routed: %s", conversation_id, error)


def identity_link_by_email(*, channel_kind: str, address: str, email: str) -> bool:
    """Record identification: a new channel address whose owner gives a known contact's email joins that contact.

    Runs before ingest, so the first message already lands on the known
    contact and the agent sees one customer across channels. Returns
    whether a link was made. Side effects: a ContactIdentity row.
    """
    if ContactIdentity.objects.filter(kind=channel_kind, address=address).exists():
        return False
    contact = Contact.objects.filter(email__iexact=email).order_by("id").first()
    if contact is None:
        return False
    try:
        with transaction.atomic():
            contact_identity_add(contact=contact, channel_kind=channel_kind, address=address)
    except IntegrityError:
        # A concurrent first message from the same address linked it a moment ago.
        return False
    return True


def rate_limit_hit(*, key: str, limit: int, window_seconds: int = 60) -> bool:
    """Count one hit against ``key`` in the shared cache; True when ``limit`` is exceeded in the window.

    The counter lives in Redis, so the limit holds across every server process.
    """
    cache_key = f"channels:rate:{key}"
    if cache.add(cache_key, 1, timeout=window_seconds):
        return limit < 1
    try:
        count = cache.incr(cache_key)
    except ValueError:
        cache.add(cache_key, 1, timeout=window_seconds)
        count = 1
    return count > limit

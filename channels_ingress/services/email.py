"""Email: a raw inbound message joins its thread (or opens one, with a case), replies leave threaded."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

from channels_ingress.adapters import imap
from channels_ingress.adapters.email import ParsedEmail, email_parse
from channels_ingress.choices import CaseCreation
from channels_ingress.exceptions import InvalidInput
from channels_ingress.models import EmailChannel, OutboundDelivery
from channels_ingress.services import InboundMessage, inbound_receive
from channels_ingress.services.attachments import attachment_save
from channels_ingress.services.delivery import delivery_status_update, message_deliver
from crm.choices import ChannelKind, DeliveryStatus, SenderKind
from crm.models import Case, Conversation, Message
from crm.services import IngestResult, case_open_from_conversation, message_send

MAX_ATTACHMENTS = 20

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmailOutcome:
    """What became of an inbound email: stored (``result``), a duplicate, or ignored with a reason."""

    status: str
    result: IngestResult | None = None
    reason: str = ""


def _thread(parsed: ParsedEmail) -> tuple[Conversation | None, Case | None]:
    """The conversation and case an email replies to, by Message-ID references or a case number."""
    conversation = None
    ids = parsed.thread_ids
    if ids:
        known = (
            Message.objects.select_related("conversation")
            .filter(channel_kind=ChannelKind.EMAIL, provider_message_id__in=ids).order_by("-id").first()
        )
        if known is not None:
            conversation = known.conversation
        else:
            sent = (
                OutboundDelivery.objects.select_related("message__conversation")
                .filter(channel_kind=ChannelKind.EMAIL, provider_message_id__in=ids).order_by("-id").first()
            )
            conversation = sent.message.conversation if sent else None
    case = conversation.case if conversation and conversation.case_id else None
    if case is None and parsed.case_number:
        case = Case.objects.filter(number=parsed.case_number).first()
    return conversation, case


def email_receive(*, channel: EmailChannel, raw: bytes) -> EmailOutcome:
    """Store one raw RFC 5322 message that arrived at a support mailbox.

    * A repeated Message-ID stores nothing ("duplicate").
    * A bounce (delivery status notification) marks the delivery of the
      message it reports as failed and stores nothing ("ignored").
    * Mail from our own address is ignored, so nothing loops.
    * A reply (``In-Reply-To``/``References`` naming a message we received or
      sent, or ``[CAS-000123]`` in the subject) joins that thread's case.
    * A new thread opens a case when the channel says so and gets the
      channel's acknowledgement — except auto-replies (``Auto-Submitted``,
      ``Precedence: bulk``), which are stored but never acknowledged, never
      open a case and are not handed to a person.

    Side effects: as ``inbound_receive``; files in storage; Case (new
    thread); the acknowledgement Message and its OutboundDelivery.
    Raises MalformedEmail.
    """
    parsed = email_parse(raw)
    if parsed.sender.lower() == channel.address.lower():
        return EmailOutcome(status="ignored", reason="own address")
    if parsed.bounce:
        for message_id in parsed.bounced_message_ids:
            delivery_status_update(
                channel_kind=ChannelKind.EMAIL, provider_message_id=message_id, status=DeliveryStatus.FAILED
            )
        return EmailOutcome(status="ignored", reason="bounce")
    if Message.objects.filter(channel_kind=ChannelKind.EMAIL, provider_message_id=parsed.message_id).exists():
        return EmailOutcome(status="duplicate")

    attachments = []
    for item in parsed.attachments[:MAX_ATTACHMENTS]:
        stored = attachment_save(
            owner=f"email-{channel.pk}", name=item["name"], content=item["content"], size=len(item["content"]),
            content_type=item["content_type"],
        )
        attachments.append({key: stored[key] for key in ("name", "size", "content_type", "path", "url")})

    first, _sep, last = parsed.sender_name.partition(" ")
    auto = parsed.auto_submitted

    with transaction.atomic():
        thread_conversation, thread_case = _thread(parsed)

        def link(result: IngestResult) -> None:
            conversation = result.conversation
            if conversation.case_id is None and thread_case is not None:
                Conversation.objects.filter(pk=conversation.pk).update(case=thread_case)
                conversation.case = thread_case
            elif result.conversation_created and not auto and channel.case_creation == CaseCreation.NEW_THREAD:
                conversation.case = case_open_from_conversation(
                    conversation=conversation, actor=None, subject=parsed.subject or parsed.text[:80] or "Email"
                )
            if result.conversation_created and thread_conversation is None and channel.auto_acknowledge and not auto:
                acknowledgement = message_send(
                    conversation=conversation, sender=None, body=channel.acknowledgement_text,
                    sender_kind=SenderKind.SYSTEM,
                )
                message_deliver(message=acknowledgement)

        result = inbound_receive(
            inbound=InboundMessage(
                channel_kind=ChannelKind.EMAIL,
                address=parsed.sender,
                body=parsed.text,
                html=parsed.html,
                channel_ref=channel.address,
                provider_message_id=parsed.message_id,
                attachments=attachments,
                subject=parsed.subject,
                contact_defaults={"first_name": first[:100], "last_name": last[:100]} if parsed.sender_name else {},
                metadata={
                    "message_id": parsed.message_id, "in_reply_to": parsed.in_reply_to,
                    "references": parsed.references[-20:], "to": parsed.to, "cc": parsed.cc, "auto_submitted": auto,
                },
                needs_person=not auto,
            ),
            on_ingested=link,
        )
    return EmailOutcome(status="stored" if result.created else "duplicate", result=result)


def email_mailbox_poll(*, channel: EmailChannel) -> int:
    """Read the mailbox's unseen messages over IMAP and receive each one; returns how many were stored.

    Each message is marked seen after it is handled — a malformed one too, so
    one bad message cannot block the mailbox; a crash before that leaves it
    unseen and the next poll receives it again (Message-ID makes that safe).
    Side effects: as ``email_receive`` per message; IMAP \\Seen flags.
    """
    stored = 0
    with imap.mailbox(
        host=channel.imap_host, port=channel.imap_port, use_ssl=channel.imap_use_ssl,
        username=channel.imap_username, password=channel.imap_password, folder=channel.imap_folder,
    ) as client:
        for uid, raw in imap.unseen(client):
            try:
                outcome = email_receive(channel=channel, raw=raw[: channel.max_message_bytes])
            except InvalidInput:
                logger.warning("skipping malformed message %s in %s", uid, channel.address)
            else:
                stored += outcome.status == "stored"
            imap.mark_seen(client, uid)
    return stored

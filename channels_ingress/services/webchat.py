"""Web chat: visitor identity, messages from the widget, typing, read state, attachments, end of chat."""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
import secrets
from dataclasses import dataclass
from typing import Any

import jwt

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.urls import reverse

from channels_ingress import events, selectors
from channels_ingress.choices import PrechatFieldType
from channels_ingress.exceptions import (
    AttachmentRejected,
    ChatAuthenticationFailed,
    InvalidInput,
    MessageTooLong,
    NoLiveConversation,
    RateLimited,
)
from channels_ingress.models import ChatFeedback, WebChatChannel
from channels_ingress.services import InboundMessage, identity_link_by_email, inbound_receive, rate_limit_hit
from channels_ingress.services.attachments import attachment_ref_read, attachment_save, safe_filename
from contactcenter.realtime import groups, publish
from crm import events as crm_events
from crm.choices import ChannelKind, ConversationStatus, DeliveryStatus, MessageDirection, SenderKind
from crm.exceptions import ConversationClosed
from crm.models import Conversation, Message
from crm.services import IngestResult, conversation_close
from crm.validators import normalize_email

VISITOR_SALT = "channels_ingress.webchat.visitor"
SESSION_SALT = "channels_ingress.webchat.session"
SESSION_TOKEN_SECONDS = 3600
VISITOR_ID_RE = re.compile(r"^[0-9a-f]{32}$")
MAX_ATTACHMENTS_PER_MESSAGE = 5
MAX_COMMENT_CHARS = 2000
MAX_PRECHAT_ANSWER_CHARS = 1000
TYPING_INTERVAL_SECONDS = 2
JWT_LEEWAY_SECONDS = 30
MAX_CONTEXT_VARIABLES = 50


@dataclass(frozen=True)
class Visitor:
    """Who is on the other end of a chat socket; ``auth`` holds the verified sign-in claims, if any."""

    channel: WebChatChannel
    visitor_id: str
    token: str
    auth: dict[str, Any] | None = None

    @property
    def group(self) -> str:
        return groups.visitor(self.visitor_id)


def visitor_start(*, channel: WebChatChannel, token: str | None) -> Visitor:
    """The visitor a browser token names, or a new visitor with a fresh signed token.

    The token is ``django.core.signing`` over the channel key and a random
    visitor id; a token for another channel, or a forged one, starts afresh.
    """
    if token:
        try:
            data = signing.loads(token, salt=VISITOR_SALT)
        except signing.BadSignature:
            data = None
        if (
            isinstance(data, dict)
            and data.get("k") == channel.public_key
            and VISITOR_ID_RE.match(str(data.get("v", "")))
        ):
            return Visitor(channel=channel, visitor_id=data["v"], token=token)
    visitor_id = secrets.token_hex(16)
    token = signing.dumps({"k": channel.public_key, "v": visitor_id}, salt=VISITOR_SALT, compress=True)
    return Visitor(channel=channel, visitor_id=visitor_id, token=token)


def visitor_authenticate(*, channel: WebChatChannel, token: str) -> Visitor:
    """A signed-in customer: verify the site's RS256 JWT and return the visitor it names.

    Required claims ``iss``, ``iat``, ``exp``, ``sub`` (``nbf`` honoured when
    present); the issuer and ``kid`` must match the channel's when it sets
    them. The visitor id derives from issuer and subject, so the customer
    resumes the same conversation on any device (persistent chat).
    ``lwicontexts`` (a JSON object, or its string form) become context
    variables; ``email`` and ``name`` identify the contact.
    Raises ChatAuthenticationFailed.
    """
    if not channel.auth_public_key:
        raise ChatAuthenticationFailed("This chat does not accept signed-in customers.")
    try:
        header = jwt.get_unverified_header(token)
        if channel.auth_key_id and header.get("kid") != channel.auth_key_id:
            raise ChatAuthenticationFailed("The token was signed with an unknown key.")
        claims = jwt.decode(
            token, channel.auth_public_key, algorithms=["RS256"], issuer=channel.auth_issuer or None,
            options={"require": ["iss", "iat", "exp", "sub"]}, leeway=JWT_LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError as exc:
        raise ChatAuthenticationFailed("The sign-in token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise ChatAuthenticationFailed(f"The sign-in token is not valid: {exc}") from exc
    subject = str(claims["sub"])[:200]
    contexts = claims.get("lwicontexts") or {}
    if isinstance(contexts, str):
        try:
            contexts = json.loads(contexts)
        except ValueError as exc:
            raise ChatAuthenticationFailed("lwicontexts must be a JSON object.") from exc
    if not isinstance(contexts, dict):
        raise ChatAuthenticationFailed("lwicontexts must be a JSON object.")
    variables = {
        str(name)[:100]: value.get("value") if isinstance(value, dict) else value
        for name, value in list(contexts.items())[:MAX_CONTEXT_VARIABLES]
    }
    visitor_id = hashlib.sha256(f"{channel.pk}:{claims['iss']}:{subject}".encode()).hexdigest()[:32]
    auth = {"sub": subject, "iss": claims["iss"], "variables": variables}
    for claim in ("email", "name"):
        if isinstance(claims.get(claim), str):
            auth[claim] = claims[claim][:254]
    return Visitor(channel=channel, visitor_id=visitor_id, token="", auth=auth)


def visitor_from_token(*, channel: WebChatChannel, token: str) -> Visitor | None:
    """The visitor of a valid visitor or session token for this channel, or None (no new visitor is made)."""
    try:
        data = signing.loads(token, salt=SESSION_SALT, max_age=SESSION_TOKEN_SECONDS)
    except signing.BadSignature:
        visitor = visitor_start(channel=channel, token=token)
        return visitor if visitor.token == token else None
    if isinstance(data, dict) and data.get("k") == channel.public_key and VISITOR_ID_RE.match(str(data.get("v", ""))):
        return Visitor(channel=channel, visitor_id=data["v"], token="")
    return None


def session_token_issue(*, visitor: Visitor) -> str:
    """A short-lived token for the widget's HTTP calls (uploads, transcript) in this browser session.

    Signed-in customers get no lasting token, so this is how their uploads
    are authorised; it expires after an hour and is never stored by the widget.
    """
    return signing.dumps({"k": visitor.channel.public_key, "v": visitor.visitor_id}, salt=SESSION_SALT, compress=True)


def _prechat_clean(channel: WebChatChannel, answers: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate pre-chat answers; return (context variables, contact defaults)."""
    if not isinstance(answers, dict):
        raise InvalidInput("Pre-chat answers must be an object.")
    context: dict[str, Any] = {}
    errors = []
    for question in channel.prechat_questions:
        name = question["name"]
        value = answers.get(name)
        kind = question.get("type", PrechatFieldType.SINGLE_LINE)
        if kind == PrechatFieldType.CONSENT:
            value = bool(value)
        else:
            value = "" if value is None else str(value).strip()[:MAX_PRECHAT_ANSWER_CHARS]
            if kind == PrechatFieldType.OPTION_SET and value and value not in question.get("options", []):
                errors.append(f"{question['label']}: choose one of the options.")
        if question.get("required") and not value:
            errors.append(f"{question['label']} is required.")
        if name == "email" and value:
            try:
                value = normalize_email(value)
            except ValidationError:
                errors.append("Enter a valid email address.")
            if "@" not in value or "." not in value.rpartition("@")[2]:
                errors.append("Enter a valid email address.")
        context[name] = value
    if errors:
        raise InvalidInput(" ".join(dict.fromkeys(errors)))
    defaults: dict[str, Any] = {}
    if context.get("name"):
        first, _sep, last = str(context["name"]).partition(" ")
        defaults.update(first_name=first[:100], last_name=last[:100])
    if context.get("email"):
        defaults["email"] = context["email"]
    return {"prechat": context}, defaults


def _attachments_resolve(channel: WebChatChannel, visitor: Visitor, refs: Any) -> list[dict[str, Any]]:
    if not refs:
        return []
    if not isinstance(refs, list) or len(refs) > MAX_ATTACHMENTS_PER_MESSAGE:
        raise AttachmentRejected(f"Attach at most {MAX_ATTACHMENTS_PER_MESSAGE} files.")
    if not channel.attachments_enabled:
        raise AttachmentRejected("Attachments are switched off for this chat.")
    attachments = []
    for ref in refs:
        data = attachment_ref_read(ref=str(ref))
        if data is None or data.get("o") != visitor.visitor_id:
            raise AttachmentRejected("Unknown attachment.")
        attachments.append(
            {
                "name": data["n"], "size": data["s"], "content_type": data["t"], "path": data["p"],
                "url": reverse("channels_ingress:attachment", args=[ref]),
            }
        )
    return attachments


def webchat_message_receive(
    *,
    visitor: Visitor,
    body: str,
    client_id: str = "",
    prechat: dict[str, Any] | None = None,
    attachment_refs: list[str] | None = None,
    ip_address: str = "",
) -> IngestResult:
    """A message typed in the widget: checked against the channel's limits, then received.

    Limits: message length, messages per visitor and per IP address per
    minute (counted in Redis), attachment refs issued to this visitor.
    ``client_id`` (the widget's id for the message) makes a resend after a
    reconnect store nothing twice. A pre-chat email that belongs to a known
    contact links the visitor to that contact, so the agent sees one
    customer across channels.

    Side effects: as ``inbound_receive``; a new conversation also publishes
    ``conversation.created`` to the visitor's group so each of their tabs joins it.
    Raises MessageTooLong, RateLimited, InvalidInput, AttachmentRejected.
    """
    channel = visitor.channel
    body = (body or "").strip()
    if len(body) > channel.max_message_chars:
        raise MessageTooLong(f"Messages are limited to {channel.max_message_chars} characters.")
    attachments = _attachments_resolve(channel, visitor, attachment_refs)
    if not body and not attachments:
        raise InvalidInput("Type a message first.")
    if rate_limit_hit(key=f"webchat:visitor:{visitor.visitor_id}", limit=channel.visitor_messages_per_minute):
        raise RateLimited()
    if ip_address and rate_limit_hit(key=f"webchat:ip:{channel.pk}:{ip_address}", limit=channel.ip_messages_per_minute):
        raise RateLimited()
    context: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    if prechat is not None:
        context, defaults = _prechat_clean(channel, prechat)
    if visitor.auth is not None:
        context["authenticated"] = {"sub": visitor.auth["sub"], "iss": visitor.auth["iss"]}
        if visitor.auth["variables"]:
            context["lwicontexts"] = visitor.auth["variables"]
        if visitor.auth.get("email"):
            defaults["email"] = visitor.auth["email"]
        if visitor.auth.get("name"):
            first, _sep, last = visitor.auth["name"].partition(" ")
            defaults.update(first_name=first[:100], last_name=last[:100])
    provider_id = None
    if client_id:
        if not re.fullmatch(r"[A-Za-z0-9-]{8,64}", client_id):
            raise InvalidInput("Bad message id.")
        provider_id = f"{visitor.visitor_id}:{client_id}"

    def joined(result: IngestResult) -> None:
        if result.conversation_created:
            publish(
                events.visitor_conversation_created(conversation_id=result.conversation.pk), groups=[visitor.group]
            )

    with transaction.atomic():
        if defaults.get("email"):
            identity_link_by_email(
                channel_kind=ChannelKind.WEBCHAT, address=visitor.visitor_id, email=defaults["email"]
            )
        return inbound_receive(
            inbound=InboundMessage(
                channel_kind=ChannelKind.WEBCHAT,
                address=visitor.visitor_id,
                body=body,
                channel_ref=channel.public_key,
                provider_message_id=provider_id,
                attachments=attachments,
                contact_defaults=defaults,
                context=context,
                metadata={"ip": ip_address} if ip_address else {},
            ),
            on_ingested=joined,
        )


def webchat_visitor_typing(*, visitor: Visitor) -> bool:
    """Tell the agents of the visitor's live chat that the visitor is typing (ephemeral, not stored).

    At most one signal per visitor every ``TYPING_INTERVAL_SECONDS``; extra
    frames are dropped quietly. Returns whether a signal was published.
    """
    if rate_limit_hit(key=f"webchat:typing:{visitor.visitor_id}", limit=1, window_seconds=TYPING_INTERVAL_SECONDS):
        return False
    conversation = selectors.visitor_conversation_live(visitor_id=visitor.visitor_id)
    if conversation is None:
        return False
    with transaction.atomic():
        publish(
            events.typing_started(conversation_id=conversation.pk, sender_kind=SenderKind.CUSTOMER),
            groups=crm_events.conversation_groups(conversation),
        )
    return True


def webchat_agent_typing(*, conversation: Conversation, agent) -> None:
    """Show the customer that the agent is typing (ephemeral, not stored)."""
    if conversation.channel_kind != ChannelKind.WEBCHAT:
        return
    channel = selectors.webchat_channel_get(public_key=conversation.channel_ref)
    mode = channel.agent_name_mode if channel else "generic"
    visitor_id = conversation.identity.address
    with transaction.atomic():
        publish(
            events.typing_started(
                conversation_id=conversation.pk, sender_kind=SenderKind.AGENT,
                sender_name=selectors.agent_display_name(user=agent, mode=mode),
            ),
            groups=[groups.visitor(visitor_id)],
        )


def webchat_messages_read(*, visitor: Visitor, up_to_id: int) -> int:
    """The visitor has seen replies up to ``up_to_id``: mark them read.

    Side effects: Message delivery status; after commit ``message.read`` to
    the conversation's followers. Returns how many messages changed.
    """
    conversation = selectors.visitor_conversation_live(visitor_id=visitor.visitor_id)
    if conversation is None:
        return 0
    with transaction.atomic():
        changed = Message.objects.filter(
            conversation=conversation, direction=MessageDirection.OUTBOUND, pk__lte=up_to_id,
            delivery_status__in=[DeliveryStatus.QUEUED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED],
        ).update(delivery_status=DeliveryStatus.READ)
        if changed:
            publish(
                events.messages_read(conversation_id=conversation.pk, up_to_id=up_to_id),
                groups=crm_events.conversation_groups(conversation),
            )
    return changed


def webchat_message_delivered(*, visitor: Visitor, message_id: int) -> bool:
    """A reply reached the visitor's widget: ``queued`` becomes ``delivered``.

    Side effects: Message delivery status; after commit ``message.delivery_changed``.
    """
    with transaction.atomic():
        message = (
            Message.objects.select_related("conversation")
            .filter(
                pk=message_id, direction=MessageDirection.OUTBOUND, delivery_status=DeliveryStatus.QUEUED,
                conversation__identity__kind=ChannelKind.WEBCHAT, conversation__identity__address=visitor.visitor_id,
            )
            .first()
        )
        if message is None:
            return False
        Message.objects.filter(pk=message.pk).update(delivery_status=DeliveryStatus.DELIVERED)
        message.delivery_status = DeliveryStatus.DELIVERED
        publish(
            events.message_delivery_changed(message=message),
            groups=crm_events.conversation_groups(message.conversation),
        )
    return True


def webchat_end(*, visitor: Visitor, rating: int | None = None, comment: str = "") -> Conversation:
    """The visitor ends the chat, optionally rating it 1–5 with a comment (CSAT).

    Closes the live conversation (through ``crm.services.conversation_close``)
    and stores the feedback on it. Feedback sent after an agent already closed
    the chat is stored on the visitor's latest conversation.
    Side effects: those of ``conversation_close``; ChatFeedback.
    Raises InvalidInput, NoLiveConversation.
    """
    if rating is not None and (not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5):
        raise InvalidInput("Rate the chat from 1 to 5.")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise MessageTooLong(f"Comments are limited to {MAX_COMMENT_CHARS} characters.")
    with transaction.atomic():
        conversation = (
            Conversation.objects.filter(identity__kind=ChannelKind.WEBCHAT, identity__address=visitor.visitor_id)
            .order_by("-created_at", "-id")
            .first()
        )
        if conversation is None:
            raise NoLiveConversation()
        if conversation.status != ConversationStatus.CLOSED:
            try:
                conversation = conversation_close(
                    conversation=conversation, actor=None, reason="The customer ended the chat"
                )
            except ConversationClosed:
                pass
        if rating is not None or comment:
            ChatFeedback.objects.update_or_create(
                conversation=conversation, defaults={"rating": rating, "comment": comment}
            )
    return conversation


def webchat_attachment_store(*, visitor: Visitor, upload: File, name: str, content_type: str = "") -> dict[str, Any]:
    """Keep a file the visitor attached; return a signed ref the next message may carry.

    Checks the channel's attachment switch, size limit and blocked
    extensions. Side effects: a file in the default storage.
    Raises AttachmentRejected.
    """
    channel = visitor.channel
    if not channel.attachments_enabled:
        raise AttachmentRejected("Attachments are switched off for this chat.")
    name = safe_filename(name)
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension in {ext.lower().lstrip(".") for ext in channel.blocked_extensions}:
        raise AttachmentRejected(f"Files of type .{extension} cannot be sent.")
    if upload.size > channel.max_attachment_bytes:
        limit_mb = channel.max_attachment_bytes / (1024 * 1024)
        raise AttachmentRejected(f"The file is larger than {limit_mb:.0f} MB.")
    if upload.size == 0:
        raise AttachmentRejected("The file is empty.")
    content_type = (content_type or mimetypes.guess_type(name)[0] or "application/octet-stream")[:100]
    stored = attachment_save(
        owner=visitor.visitor_id, name=name, content=upload, size=upload.size, content_type=content_type
    )
    return {key: stored[key] for key in ("ref", "name", "size", "content_type")}

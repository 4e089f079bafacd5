"""Reads of the channels app. Visitor reads see only the visitor's own conversation, never internal notes."""

from __future__ import annotations

from django.db.models import QuerySet

from channels_ingress.choices import AgentNameMode
from channels_ingress.models import CustomChannel, EmailChannel, SmsChannel, VoiceChannel, WebChatChannel
from crm.choices import ChannelKind, ConversationStatus, MessageDirection, SenderKind
from crm.models import Conversation, Message

VISITOR_HISTORY_LIMIT = 500


def webchat_channel_get(*, public_key: str) -> WebChatChannel | None:
    return WebChatChannel.objects.filter(public_key=public_key, is_active=True).first()


def sms_channel_for_number(*, number: str) -> SmsChannel | None:
    return SmsChannel.objects.filter(phone_number=number, is_active=True).first()


def voice_channel_for_number(*, number: str) -> VoiceChannel | None:
    return VoiceChannel.objects.select_related("root_menu", "operating_hours").filter(
        phone_number=number, is_active=True
    ).first()


def email_channel_get(*, channel_id: int) -> EmailChannel | None:
    return EmailChannel.objects.filter(pk=channel_id, is_active=True).first()


def custom_channel_get(*, key: str) -> CustomChannel | None:
    return CustomChannel.objects.filter(key=key, is_active=True).first()


def _visitor_messages(visitor_id: str) -> QuerySet[Message]:
    return (
        Message.objects.select_related("sender_user")
        .filter(conversation__identity__kind=ChannelKind.WEBCHAT, conversation__identity__address=visitor_id)
        .exclude(direction=MessageDirection.INTERNAL)
    )


def visitor_conversation_live(*, visitor_id: str) -> Conversation | None:
    return (
        Conversation.objects.filter(identity__kind=ChannelKind.WEBCHAT, identity__address=visitor_id)
        .exclude(status=ConversationStatus.CLOSED)
        .select_related("assigned_agent")
        .first()
    )


def visitor_message_get(*, visitor_id: str, message_id: int) -> Message | None:
    return _visitor_messages(visitor_id).filter(pk=message_id).first()


def visitor_messages_since(*, visitor_id: str, conversation_id: int, after_id: int) -> list[Message]:
    """What the visitor missed in their live conversation, oldest first."""
    return list(
        _visitor_messages(visitor_id)
        .filter(conversation_id=conversation_id, pk__gt=after_id)
        .order_by("id")[:VISITOR_HISTORY_LIMIT]
    )


def agent_display_name(*, user, mode: str) -> str:
    """How an agent is named to a customer, per the channel's setting."""
    if user is None or mode == AgentNameMode.GENERIC:
        return "Support"
    if mode == AgentNameMode.FIRST_NAME:
        return user.first_name or getattr(user, "display_name", "") or "Support"
    return str(user)


def visitor_message_payload(*, message: Message, channel: WebChatChannel) -> dict:
    """The JSON a visitor's widget receives for one message."""
    if message.sender_kind == SenderKind.CUSTOMER:
        sender_name = ""
    elif message.sender_kind == SenderKind.AGENT:
        sender_name = agent_display_name(user=message.sender_user, mode=channel.agent_name_mode)
    else:
        sender_name = message.get_sender_kind_display()
    return {
        "id": message.pk,
        "conversation_id": message.conversation_id,
        "direction": message.direction,
        "sender_kind": message.sender_kind,
        "sender_name": sender_name,
        "body": message.body,
        "attachments": [
            {key: item.get(key) for key in ("name", "size", "content_type", "url")} for item in message.attachments
        ],
        "delivery_status": message.delivery_status,
        "created_at": message.created_at.isoformat(),
    }


def visitor_transcript(*, visitor_id: str, channel: WebChatChannel) -> str:
    """The visitor's latest chat as plain text (their live one, or the one just ended)."""
    conversation = (
        Conversation.objects.filter(identity__kind=ChannelKind.WEBCHAT, identity__address=visitor_id)
        .order_by("-created_at", "-id")
        .first()
    )
    if conversation is None:
        return ""
    lines = [f"{channel.title} — chat transcript", ""]
    messages = _visitor_messages(visitor_id).filter(conversation=conversation).order_by("id")
    for message in messages[:VISITOR_HISTORY_LIMIT]:
        payload = visitor_message_payload(message=message, channel=channel)
        who = "You" if message.sender_kind == SenderKind.CUSTOMER else payload["sender_name"]
        stamp = message.created_at.strftime("%Y-%m-%d %H:%M UTC")
        files = "".join(f"\n    [file: {item['name']}]" for item in payload["attachments"])
        lines.append(f"[{stamp}] {who}: {message.body}{files}")
    return "\n".join(lines) + "\n"

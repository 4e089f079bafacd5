"""SMS: an inbound Twilio Messaging webhook becomes a customer message; status callbacks move delivery state."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from channels_ingress.adapters.twilio import MESSAGE_STATUS
from channels_ingress.exceptions import InvalidInput
from channels_ingress.models import OutboundDelivery, SmsChannel
from channels_ingress.services import InboundMessage, inbound_receive
from channels_ingress.services.delivery import delivery_status_update
from crm.choices import ChannelKind
from crm.services import IngestResult
from crm.validators import normalize_phone

MAX_MEDIA = 10
MAX_SMS_BODY = 1600


def sms_receive(*, channel: SmsChannel, params: dict[str, str]) -> IngestResult:
    """Store an inbound SMS/MMS (Twilio fields ``MessageSid``, ``From``, ``Body``, ``NumMedia``, ``MediaUrlN``).

    A retried ``MessageSid`` stores nothing twice. Media stays with the
    provider; the message keeps its URLs. Side effects: as ``inbound_receive``.
    Raises InvalidInput.
    """
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if not sid or len(sid) > 64:
        raise InvalidInput("MessageSid is missing.")
    try:
        sender = normalize_phone(params.get("From", ""))
    except ValidationError as exc:
        raise InvalidInput("From is not a valid phone number.") from exc
    body = params.get("Body", "")
    if len(body) > MAX_SMS_BODY:
        raise InvalidInput(f"Body is longer than {MAX_SMS_BODY} characters.")
    try:
        media_count = min(int(params.get("NumMedia") or 0), MAX_MEDIA)
    except ValueError as exc:
        raise InvalidInput("NumMedia must be a number.") from exc
    attachments = [
        {
            "name": f"media-{index}",
            "content_type": params.get(f"MediaContentType{index}", ""),
            "url": params[f"MediaUrl{index}"],
        }
        for index in range(media_count)
        if params.get(f"MediaUrl{index}", "").startswith("https://")
    ]
    if not body and not attachments:
        raise InvalidInput("The message has no body and no media.")
    return inbound_receive(
        inbound=InboundMessage(
            channel_kind=ChannelKind.SMS,
            address=sender,
            body=body,
            channel_ref=channel.phone_number,
            provider_message_id=sid,
            attachments=attachments,
            metadata={"to": params.get("To", ""), "segments": params.get("NumSegments", "")},
        )
    )


def sms_status_receive(*, params: dict[str, str]) -> OutboundDelivery | None:
    """A Twilio ``MessageStatus`` callback for a message we sent. Unknown statuses are ignored."""
    status = MESSAGE_STATUS.get((params.get("MessageStatus") or params.get("SmsStatus") or "").lower())
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if status is None or not sid:
        raise InvalidInput("MessageSid and a known MessageStatus are required.")
    return delivery_status_update(channel_kind=ChannelKind.SMS, provider_message_id=sid, status=status)

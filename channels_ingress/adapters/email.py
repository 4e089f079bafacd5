"""Email wire format: parse a raw RFC 5322 message, recognise auto-replies and bounces, compose replies."""

from __future__ import annotations

import hashlib
import re
import smtplib
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from email.utils import getaddresses, make_msgid, parseaddr
from typing import Any

import nh3
from django.core.mail import EmailMultiAlternatives

from channels_ingress.exceptions import DeliveryFailed, InvalidInput

MESSAGE_ID_RE = re.compile(r"<[^<>\s]+>")
ORIGINAL_MESSAGE_ID_RE = re.compile(r"(?im)^message-id:.*$")
CASE_NUMBER_RE = re.compile(r"\[?\b(CAS-\d{6,})\b\]?")
REPLY_PREFIX_RE = re.compile(r"^\s*((re|fw|fwd|aw|sv|antw)\s*:\s*)+", re.I)
BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")
MAX_REFERENCES = 20


class MalformedEmail(InvalidInput):
    code = "malformed_email"


@dataclass
class ParsedEmail:
    sender: str
    sender_name: str
    subject: str
    message_id: str
    in_reply_to: list[str]
    references: list[str]
    text: str
    html: str
    to: list[str]
    cc: list[str]
    attachments: list[dict[str, Any]] = field(default_factory=list)
    auto_submitted: bool = False
    bounce: bool = False
    bounced_message_ids: list[str] = field(default_factory=list)

    @property
    def thread_ids(self) -> list[str]:
        return list(dict.fromkeys(self.in_reply_to + self.references))

    @property
    def case_number(self) -> str:
        match = CASE_NUMBER_RE.search(self.subject)
        return match.group(1) if match else ""


def _content(part) -> str:
    """Decoded text of a part in its declared charset, never failing on an unknown or wrong one."""
    try:
        return part.get_content()
    except (LookupError, UnicodeError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def html_to_text(html: str) -> str:
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>", "\n", html)
    text = nh3.clean(text, tags=set())
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _header(message, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):
        return ""
    return str(value or "").strip()


def email_parse(raw: bytes) -> ParsedEmail:
    """Parse a raw message; raise MalformedEmail when it has no usable sender."""
    if not raw or not raw.strip():
        raise MalformedEmail("The message is empty.")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception as exc:  # the parser raises many kinds on hostile input
        raise MalformedEmail("The message could not be parsed.") from exc
    sender_name, sender = parseaddr(_header(message, "From"))
    if not sender or "@" not in sender or not message.keys():
        raise MalformedEmail("The message has no valid From address.")
    subject = _header(message, "Subject")
    message_id = (MESSAGE_ID_RE.findall(_header(message, "Message-ID")) or [""])[0]
    if not message_id:
        # Without a Message-ID a retried delivery is recognised by its content.
        message_id = f"<{hashlib.sha256(raw).hexdigest()}@no-message-id>"
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    html = nh3.clean(_content(html_part)) if html_part is not None else ""
    text = _content(text_part) if text_part is not None else html_to_text(html)

    attachments = []
    for part in message.iter_attachments():
        if part.get_content_type() in ("message/delivery-status", "message/rfc822", "text/rfc822-headers"):
            continue
        payload = part.get_payload(decode=True) or b""
        attachments.append(
            {"name": part.get_filename() or "attachment", "content_type": part.get_content_type(), "content": payload}
        )

    auto_submitted = _header(message, "Auto-Submitted").lower() not in ("", "no")
    precedence = _header(message, "Precedence").lower()
    auto_submitted = auto_submitted or precedence in ("bulk", "junk", "list", "auto_reply") or any(
        _header(message, name) for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response")
    )
    report = message.get_content_type() == "multipart/report" and (
        message.get_param("report-type", "").lower() == "delivery-status"
    )
    bounce = report or sender.lower().startswith(BOUNCE_SENDERS)
    bounced_ids: list[str] = []
    if bounce:
        for part in message.walk():
            if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
                header = ORIGINAL_MESSAGE_ID_RE.search(part.as_string())
                bounced_ids += MESSAGE_ID_RE.findall(header.group(0)) if header else []
    return ParsedEmail(
        sender=sender.strip(),
        sender_name=sender_name.strip(),
        subject=subject,
        message_id=message_id,
        in_reply_to=MESSAGE_ID_RE.findall(_header(message, "In-Reply-To")),
        references=MESSAGE_ID_RE.findall(_header(message, "References")),
        text=text.strip(),
        html=html,
        to=[address for _name, address in getaddresses([_header(message, "To")]) if address],
        cc=[address for _name, address in getaddresses([_header(message, "Cc")]) if address],
        attachments=attachments,
        auto_submitted=auto_submitted or bounce,
        bounce=bounce,
        bounced_message_ids=bounced_ids,
    )


def reply_subject(subject: str, case_number: str = "") -> str:
    """``Re: <subject> [CAS-000123]`` without piling up prefixes or case tags."""
    base = CASE_NUMBER_RE.sub("", REPLY_PREFIX_RE.sub("", subject or "")).strip() or "Your request"
    return f"Re: {base}" + (f" [{case_number}]" if case_number else "")


def email_send(*, channel, message) -> str:
    """Send an outbound message by Django's email backend, threaded for the customer's mail client.

    Returns the Message-ID it was sent with.
    """
    from channels_ingress.models import OutboundDelivery
    from crm.choices import MessageDirection, SenderKind

    conversation = message.conversation
    case = conversation.case
    thread = list(
        conversation.messages.filter(direction=MessageDirection.INBOUND, provider_message_id__isnull=False)
        .order_by("id").values_list("provider_message_id", flat=True)
    )
    sent = list(
        OutboundDelivery.objects.filter(message__conversation=conversation).exclude(provider_message_id="")
        .order_by("message_id").values_list("provider_message_id", flat=True)
    )
    references = [ref for ref in dict.fromkeys(thread + sent) if MESSAGE_ID_RE.fullmatch(ref)][-MAX_REFERENCES:]
    message_id = make_msgid(domain=channel.address.rpartition("@")[2])
    headers = {"Message-ID": message_id}
    if thread:
        headers["In-Reply-To"] = thread[-1]
    if references:
        headers["References"] = " ".join(references)
    if message.sender_kind in (SenderKind.SYSTEM, SenderKind.BOT):
        headers["Auto-Submitted"] = "auto-replied"
    mail = EmailMultiAlternatives(
        subject=reply_subject(conversation.subject, case.number if case else ""),
        body=message.body,
        from_email=f"{channel.name} <{channel.address}>",
        to=[conversation.identity.address],
        headers=headers,
    )
    if message.html:
        mail.attach_alternative(nh3.clean(message.html), "text/html")
    try:
        mail.send(fail_silently=False)
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
        raise DeliveryFailed(f"The mail server refused the message: {exc}", retryable=False) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"Could not send the email: {exc}", retryable=True) from exc
    return message_id


"""Twilio wire format: webhook signatures, the Messages REST call, TwiML replies."""

from __future__ import annotations

import base64
import urllib.parse

from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from channels_ingress.adapters import http

API_VERSION = "2010-04-01"
#: Twilio's delivery states, mapped onto ours.
MESSAGE_STATUS = {
    "accepted": "queued", "scheduled": "queued", "queued": "queued", "sending": "sent", "sent": "sent",
    "delivered": "delivered", "read": "read", "undelivered": "failed", "failed": "failed", "canceled": "failed",
}


def signature_valid(*, auth_token: str, url: str, params: dict[str, str], signature: str) -> bool:
    """``X-Twilio-Signature`` check with the ``twilio`` package's RequestValidator."""
    if not signature or not auth_token:
        return False
    return RequestValidator(auth_token).validate(url, params, signature)


def empty_messaging_response() -> str:
    return str(MessagingResponse())


def sms_send(
    *, api_base_url: str, account_sid: str, auth_token: str, from_number: str, to_number: str, body: str,
    media_urls: list[str] | None = None, status_callback: str = "",
) -> str:
    """Send one SMS/MMS through the Messages API; returns the provider's message SID."""
    fields = [("From", from_number), ("To", to_number), ("Body", body)]
    fields += [("MediaUrl", url) for url in media_urls or []]
    if status_callback:
        fields.append(("StatusCallback", status_callback))
    credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
    result = http.post(
        f"{api_base_url.rstrip('/')}/{API_VERSION}/Accounts/{urllib.parse.quote(account_sid)}/Messages.json",
        data=urllib.parse.urlencode(fields).encode(),
        headers={"Authorization": f"Basic {credentials}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    sid = result.json().get("sid", "")
    if not sid:
        raise http.DeliveryFailed("The provider answered without a message SID.", retryable=False)
    return sid

"""The custom channel API: HMAC-signed requests in, HMAC-signed webhooks out."""

import hashlib
import hmac
import json
import time

import pytest

from channels_ingress.choices import DeliveryState
from channels_ingress.models import CustomChannel, OutboundDelivery
from channels_ingress.services.delivery import message_deliver
from channels_ingress.tasks import delivery_send
from crm import services as crm_services
from crm.models import Message

pytestmark = pytest.mark.django_db

SECRET = "channel-secret-abcdef"
URL = "/api/v1/channels/in-app-chat/messages"


@pytest.fixture
def channel(db):
    return CustomChannel.objects.create(name="In-app chat", key="in-app-chat", secret=SECRET)


def sign(body: bytes, timestamp: str, secret=SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def post(client, payload, *, key="idem-1", timestamp=None, signature=None, url=URL, content_type="application/json"):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    timestamp = timestamp or str(int(time.time()))
    headers = {"X-Timestamp": timestamp, "X-Signature": signature if signature is not None else sign(body, timestamp)}
    if key:
        headers["Idempotency-Key"] = key
    return client.post(url, body, content_type=content_type, headers=headers)


MESSAGE = {"sender": "user-42", "sender_name": "Kim Lee", "email": "kim@example.com", "body": "My tablet won't turn on",
           "context": {"app_version": "5.2"}}


def test_signed_message_is_stored_and_a_replay_with_the_same_key_is_not(client, channel):
    response = post(client, MESSAGE)
    assert response.status_code == 201, response.content
    stored = Message.objects.select_related("conversation__contact").get()
    assert response.json() == {"message_id": stored.pk, "conversation_id": stored.conversation_id, "created": True}
    assert stored.conversation.channel_kind == "custom" and stored.conversation.channel_ref == "in-app-chat"
    assert stored.conversation.contact.email == "kim@example.com"
    assert stored.conversation.context == {"custom": {"app_version": "5.2"}}

    replay = post(client, MESSAGE)
    assert replay.status_code == 200 and replay.json()["created"] is False
    assert Message.objects.count() == 1


def test_same_key_with_a_different_body_is_a_conflict(client, channel):
    post(client, MESSAGE)
    response = post(client, dict(MESSAGE, body="something else"))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"


def test_bad_requests_are_clear_4xx_in_the_error_shape_and_store_nothing(client, channel):
    stale = str(int(time.time()) - 600)
    cases = [
        (post(client, MESSAGE, signature="sha256=00"), 401, "authentication_failed"),
        (post(client, MESSAGE, signature=""), 401, "authentication_failed"),
        (post(client, MESSAGE, timestamp=stale), 401, "authentication_failed"),
        (post(client, MESSAGE, key=""), 400, "invalid"),
        (post(client, MESSAGE, url="/api/v1/channels/nope/messages"), 404, "unknown_channel"),
        (post(client, b"sender=x", content_type="application/x-www-form-urlencoded"), 415, "unsupported_media_type"),
        (post(client, {"sender": "u", "body": "x" * 300_000}), 413, "too_large"),
        (post(client, {"body": "no sender"}), 400, "invalid"),
        (post(client, b"{not json"), 400, "parse_error"),
        (post(client, {"sender": "u", "body": "x", "attachments": [{"url": "http://insecure"}]}), 400, "invalid"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.content
        assert set(response.json()["error"]) == {"code", "message", "fields"}
        assert response.json()["error"]["code"] == code
    assert response.json()["error"]["fields"]["attachments"]
    assert Message.objects.count() == 0


def test_reply_is_posted_to_the_webhook_signed_and_retried(client, channel, agent, provider):
    CustomChannel.objects.filter(pk=channel.pk).update(webhook_url=provider.url + "/hook")
    post(client, MESSAGE)
    conversation = Message.objects.get().conversation
    reply = crm_services.message_send(conversation=conversation, sender=agent, body="Hold the power button 10 s.")
    provider.responses = [(502, {}), (200, {})]
    delivery_send.apply(args=[message_deliver(message=reply).pk])

    assert len(provider.requests) == 2
    request = provider.requests[-1]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["x-signature"] == sign(request["body"], headers["x-timestamp"])
    assert headers["idempotency-key"] == f"message-{reply.pk}"
    payload = json.loads(request["body"])
    assert payload["type"] == "message.created"
    assert payload["message"]["recipient"] == "in-app-chat:user-42"
    assert payload["message"]["body"] == "Hold the power button 10 s."
    assert payload["message"]["sender_name"] == "Alice"
    delivery = OutboundDelivery.objects.get()
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 2)


def test_schema_documents_the_channel_api(client, supervisor):
    client.force_login(supervisor)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert b"/api/v1/channels/{key}/messages" in schema.content


def test_sender_with_a_known_contacts_email_is_that_contact(client, channel):
    from crm.models import Contact

    known = Contact.objects.create(first_name="Kim", last_name="Lee", email="kim@example.com")
    assert post(client, MESSAGE).status_code == 201
    assert Message.objects.get().conversation.contact == known
    assert Contact.objects.count() == 1

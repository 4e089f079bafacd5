"""SMS in Twilio's wire format: signed Messaging webhooks, REST sends to a local server, status callbacks."""

import urllib.parse

import pytest
from twilio.request_validator import RequestValidator

from channels_ingress.choices import DeliveryState
from channels_ingress.models import OutboundDelivery, SmsChannel
from channels_ingress.services.delivery import message_deliver
from channels_ingress.tasks import delivery_send
from channels_ingress.tests.conftest import AUTH_TOKEN, SMS_NUMBER
from crm import services as crm_services
from crm.models import Conversation, Message

pytestmark = pytest.mark.django_db

URL = "/channels/twilio/sms/"
STATUS_URL = "/channels/twilio/sms/status/"


def inbound(**overrides):
    params = {
        "MessageSid": "SM" + "a" * 32, "AccountSid": "AC" + "1" * 32, "From": "+14155550123", "To": SMS_NUMBER,
        "Body": "My order #4411 has not arrived", "NumMedia": "0", "NumSegments": "1",
    }
    params.update(overrides)
    return params


def post_signed(client, url, params, *, token=AUTH_TOKEN, signature=None, tamper=None):
    absolute = "http://testserver" + url
    signature = signature if signature is not None else RequestValidator(token).compute_signature(absolute, params)
    sent = dict(params, **(tamper or {}))
    return client.post(url, urllib.parse.urlencode(sent), content_type="application/x-www-form-urlencoded",
                       headers={"X-Twilio-Signature": signature})


def test_signed_sms_is_stored_and_answered_with_empty_twiml(client, sms_channel):
    response = post_signed(client, URL, inbound(NumMedia="1", MediaUrl0="https://api.twilio.com/media/ME1",
                                                MediaContentType0="image/jpeg"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content == b'<?xml version="1.0" encoding="UTF-8"?><Response />'
    message = Message.objects.select_related("conversation__contact").get()
    assert message.body == "My order #4411 has not arrived"
    assert message.provider_message_id == "SM" + "a" * 32
    assert message.attachments == [{"name": "media-0", "content_type": "image/jpeg", "url": "https://api.twilio.com/media/ME1"}]
    assert message.conversation.channel_ref == SMS_NUMBER
    assert message.conversation.contact.phone == "+14155550123"


def test_retried_message_sid_stores_nothing_twice(client, sms_channel):
    assert post_signed(client, URL, inbound()).status_code == 200
    assert post_signed(client, URL, inbound()).status_code == 200
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"signature": ""},
        {"signature": "bm90IGEgc2lnbmF0dXJl"},
        {"token": "another-accounts-token"},
        {"tamper": {"Body": "changed in transit"}},
    ],
    ids=["missing", "garbage", "wrong-token", "tampered"],
)
def test_bad_signature_is_403_and_stores_nothing(client, sms_channel, kwargs):
    response = post_signed(client, URL, inbound(), **kwargs)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "bad_signature"
    assert Message.objects.count() == 0 and Conversation.objects.count() == 0


def test_bad_input_is_a_clear_4xx_and_stores_nothing(client, sms_channel):
    assert post_signed(client, URL, inbound(To="+15005550009")).status_code == 404
    assert post_signed(client, URL, inbound(From="not-a-number")).status_code == 400
    assert post_signed(client, URL, inbound(MessageSid="")).status_code == 400
    assert post_signed(client, URL, inbound(Body="x" * 1601)).status_code == 400
    assert client.post(URL, {"a": "b"}, content_type="application/json").status_code == 415
    huge = client.post(URL, "Body=" + "x" * 70000, content_type="application/x-www-form-urlencoded")
    assert huge.status_code == 413
    assert client.get(URL).status_code == 405
    assert Message.objects.count() == 0


def test_inactive_channel_is_unknown(client, sms_channel):
    SmsChannel.objects.filter(pk=sms_channel.pk).update(is_active=False)
    assert post_signed(client, URL, inbound()).status_code == 404


def _reply(client, sms_channel, agent, body="It ships today."):
    post_signed(client, URL, inbound())
    conversation = Conversation.objects.get()
    return crm_services.message_send(conversation=conversation, sender=agent, body=body)


def test_reply_is_sent_through_the_rest_api_with_status_callback(client, sms_channel, agent, provider,
                                                                 django_capture_on_commit_callbacks):
    SmsChannel.objects.filter(pk=sms_channel.pk).update(api_base_url=provider.url)
    reply = _reply(client, sms_channel, agent)
    with django_capture_on_commit_callbacks() as callbacks:
        delivery = message_deliver(message=reply)
    assert len(callbacks) == 1
    delivery_send.apply(args=[delivery.pk])

    request = provider.requests[0]
    assert request["path"] == f"/2010-04-01/Accounts/AC{'1' * 32}/Messages.json"
    assert request["headers"]["Authorization"].startswith("Basic ")
    form = urllib.parse.parse_qs(request["body"].decode())
    assert form["To"] == ["+14155550123"] and form["From"] == [SMS_NUMBER] and form["Body"] == ["It ships today."]
    assert form["StatusCallback"] == ["https://cc.example.com/channels/twilio/sms/status/"]
    delivery.refresh_from_db()
    reply.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.provider_message_id) == (DeliveryState.SENT, 1, "SM" + "0" * 32)
    assert reply.delivery_status == "sent"


def test_provider_errors_are_retried_with_backoff_then_succeed(client, sms_channel, agent, provider):
    SmsChannel.objects.filter(pk=sms_channel.pk).update(api_base_url=provider.url)
    provider.responses = [(500, {}), (503, {}), (201, {"sid": "SM" + "b" * 32})]
    reply = _reply(client, sms_channel, agent)
    delivery = message_deliver(message=reply)
    delivery_send.apply(args=[delivery.pk])
    delivery.refresh_from_db()
    assert len(provider.requests) == 3
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 3)


def test_a_refused_message_fails_without_retry(client, sms_channel, agent, provider):
    SmsChannel.objects.filter(pk=sms_channel.pk).update(api_base_url=provider.url)
    provider.responses = [(400, {"code": 21211, "message": "Invalid 'To' Phone Number"})]
    reply = _reply(client, sms_channel, agent)
    delivery = message_deliver(message=reply)
    delivery_send.apply(args=[delivery.pk])
    delivery.refresh_from_db()
    reply.refresh_from_db()
    assert len(provider.requests) == 1
    assert delivery.state == DeliveryState.FAILED and "Invalid 'To' Phone Number" in delivery.last_error
    assert reply.delivery_status == "failed"


def test_unreachable_provider_retries_until_the_limit(client, sms_channel, agent):
    SmsChannel.objects.filter(pk=sms_channel.pk).update(api_base_url="http://127.0.0.1:9")
    reply = _reply(client, sms_channel, agent)
    delivery = message_deliver(message=reply)
    delivery_send.apply(args=[delivery.pk])
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED and delivery.attempts == 6


def test_status_callbacks_move_delivery_forward_only(client, sms_channel, agent, provider):
    SmsChannel.objects.filter(pk=sms_channel.pk).update(api_base_url=provider.url)
    reply = _reply(client, sms_channel, agent)
    delivery_send.apply(args=[message_deliver(message=reply).pk])
    callback = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered", "From": SMS_NUMBER, "To": "+14155550123"}
    assert post_signed(client, STATUS_URL, callback).status_code == 204
    reply.refresh_from_db()
    assert reply.delivery_status == "delivered"
    assert post_signed(client, STATUS_URL, dict(callback, MessageStatus="sent")).status_code == 204
    reply.refresh_from_db()
    assert reply.delivery_status == "delivered"
    assert post_signed(client, STATUS_URL, callback, signature="forged").status_code == 403
    assert post_signed(client, STATUS_URL, dict(callback, MessageStatus="exploded")).status_code == 400


def test_outbox_sweep_picks_up_replies_sent_without_a_delivery(client, sms_channel, agent, django_capture_on_commit_callbacks):
    from channels_ingress.services.delivery import outbox_sweep

    reply = _reply(client, sms_channel, agent)
    with django_capture_on_commit_callbacks() as callbacks:
        assert outbox_sweep() == 1
    assert OutboundDelivery.objects.get().message == reply and len(callbacks) == 1
    assert outbox_sweep() == 0


def test_channel_without_its_own_token_uses_the_twilio_auth_token_setting(client, sms_channel, settings):
    settings.TWILIO_AUTH_TOKEN = "project-wide-token"
    SmsChannel.objects.filter(pk=sms_channel.pk).update(auth_token="")
    assert post_signed(client, URL, inbound()).status_code == 403
    assert post_signed(client, URL, inbound(), token="project-wide-token").status_code == 200


def test_sweep_re_enqueues_a_delivery_whose_task_was_lost(client, sms_channel, agent, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from channels_ingress.services.delivery import outbox_sweep

    delivery = message_deliver(message=_reply(client, sms_channel, agent))
    with django_capture_on_commit_callbacks() as callbacks:
        assert outbox_sweep() == 0
    assert callbacks == []
    later = timezone.now() + timedelta(minutes=3)
    with django_capture_on_commit_callbacks() as callbacks:
        assert outbox_sweep(now=later) == 1
    assert len(callbacks) == 1
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == later
    with django_capture_on_commit_callbacks() as callbacks:
        assert outbox_sweep(now=later) == 0

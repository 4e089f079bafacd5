"""Email in its wire format: raw RFC 5322 messages in, threaded replies out."""

import pytest

from channels_ingress.choices import DeliveryState
from channels_ingress.models import EmailChannel, OutboundDelivery
from channels_ingress.services.delivery import message_deliver
from channels_ingress.tasks import delivery_send
from crm import services as crm_services
from crm.models import Case, Conversation, Message

pytestmark = pytest.mark.django_db

SECRET = "relay-secret-0123456789"


@pytest.fixture
def mailbox(db):
    return EmailChannel.objects.create(name="Northwind support", address="support@northwind.example", inbound_secret=SECRET)


def url(channel):
    return f"/channels/email/{channel.pk}/inbound/"


def post_raw(client, channel, raw: bytes, secret=SECRET, content_type="message/rfc822"):
    return client.post(url(channel), raw, content_type=content_type, headers={"Authorization": f"Bearer {secret}"})


NEW_THREAD = (
    b"From: =?iso-8859-1?q?Ren=E9e_M=FCller?= <Renee@Example.COM>\r\n"
    b"To: support@northwind.example\r\n"
    b"Subject: =?iso-8859-1?q?Caf=E9_machine_broken?=\r\n"
    b"Message-ID: <first-1@example.com>\r\n"
    b"Date: Sun, 29 Nov 2026 10:00:00 +0000\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="mixed"\r\n'
    b"\r\n"
    b"--mixed\r\n"
    b'Content-Type: multipart/alternative; boundary="alt"\r\n'
    b"\r\n"
    b"--alt\r\n"
    b"Content-Type: text/plain; charset=iso-8859-1\r\n"
    b"Content-Transfer-Encoding: quoted-printable\r\n"
    b"\r\n"
    b"The caf=E9 machine I bought shows error E5.\r\n"
    b"--alt\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"\r\n"
    b"<p>The caf\xc3\xa9 machine shows <b>error E5</b>.</p><script>alert(1)</script>\r\n"
    b"--alt--\r\n"
    b"--mixed\r\n"
    b'Content-Type: application/pdf; name="receipt.pdf"\r\n'
    b'Content-Disposition: attachment; filename="receipt.pdf"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"JVBERi0xLjQgcmVjZWlwdA==\r\n"
    b"--mixed--\r\n"
)


def test_new_thread_is_parsed_stored_opens_a_case_and_is_acknowledged(client, mailbox):
    response = post_raw(client, mailbox, NEW_THREAD)
    assert response.status_code == 202, response.content
    inbound = Message.objects.get(direction="inbound")
    assert inbound.body == "The caf\u00e9 machine I bought shows error E5."
    assert "<b>error E5</b>" in inbound.html and "<script>" not in inbound.html
    assert inbound.provider_message_id == "<first-1@example.com>"
    assert inbound.attachments[0]["name"] == "receipt.pdf" and inbound.attachments[0]["size"] == 16
    conversation = inbound.conversation
    assert conversation.subject == "Caf\u00e9 machine broken"
    assert conversation.contact.email == "Renee@example.com"
    assert conversation.contact.first_name == "Ren\u00e9e"
    assert conversation.case.subject == "Caf\u00e9 machine broken"
    acknowledgement = Message.objects.get(direction="outbound")
    assert acknowledgement.sender_kind == "system"
    assert OutboundDelivery.objects.get().message == acknowledgement


def test_reply_is_sent_threaded_with_case_number_and_customer_reply_joins_the_case(client, mailbox, agent, mailoutbox):
    post_raw(client, mailbox, NEW_THREAD)
    conversation = Conversation.objects.get()
    case = conversation.case
    reply = crm_services.message_send(conversation=conversation, sender=agent, body="Please hold the reset button.")
    delivery_send.apply(args=[message_deliver(message=reply).pk])

    sent = mailoutbox[-1]
    assert sent.subject == f"Re: Caf\u00e9 machine broken [{case.number}]"
    assert sent.to == ["Renee@example.com"]
    assert sent.from_email == "Northwind support <support@northwind.example>"
    message = sent.message()
    assert message["In-Reply-To"] == "<first-1@example.com>"
    assert "<first-1@example.com>" in message["References"]
    delivery = OutboundDelivery.objects.get(message=reply)
    assert delivery.state == DeliveryState.SENT and delivery.provider_message_id == message["Message-ID"]

    crm_services.conversation_close(conversation=conversation, actor=agent)
    customer_reply = (
        b"From: Renee@example.com\r\nTo: support@northwind.example\r\n"
        b"Subject: Re: Caf\xc3\xa9 machine broken\r\nMessage-ID: <second-2@example.com>\r\n"
        b"In-Reply-To: " + delivery.provider_message_id.encode() + b"\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nStill broken after the reset.\r\n"
    )
    assert post_raw(client, mailbox, customer_reply).status_code == 202
    follow_up = Message.objects.get(provider_message_id="<second-2@example.com>").conversation
    assert follow_up.pk != conversation.pk
    assert follow_up.case == case
    assert Case.objects.count() == 1
    assert Message.objects.filter(sender_kind="system", conversation=follow_up).count() == 0


def test_case_number_in_subject_joins_the_case(client, mailbox):
    post_raw(client, mailbox, NEW_THREAD)
    case = Case.objects.get()
    other = (
        b"From: colleague@example.com\r\nTo: support@northwind.example\r\n"
        b"Subject: About [" + case.number.encode() + b"]\r\nMessage-ID: <cc-3@example.com>\r\n\r\nSame issue here.\r\n"
    )
    assert post_raw(client, mailbox, other).status_code == 202
    assert Message.objects.get(provider_message_id="<cc-3@example.com>").conversation.case == case
    assert Case.objects.count() == 1


def test_replayed_message_id_is_stored_once(client, mailbox):
    assert post_raw(client, mailbox, NEW_THREAD).status_code == 202
    again = post_raw(client, mailbox, NEW_THREAD)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert Message.objects.filter(direction="inbound").count() == 1


def test_multipart_form_with_mime_field(client, mailbox):
    response = client.post(url(mailbox), {"mime": NEW_THREAD.decode("latin-1")}, headers={"Authorization": f"Bearer {SECRET}"})
    assert response.status_code == 202, response.content


AUTO_REPLY = (
    b"From: renee@example.com\r\nTo: support@northwind.example\r\nSubject: Out of office\r\n"
    b"Message-ID: <ooo-1@example.com>\r\nAuto-Submitted: auto-replied\r\n\r\nI am away until Monday.\r\n"
)


@pytest.mark.parametrize("raw", [AUTO_REPLY, AUTO_REPLY.replace(b"Auto-Submitted: auto-replied", b"Precedence: bulk")])
def test_auto_replies_open_no_case_and_get_no_acknowledgement(client, mailbox, raw):
    assert post_raw(client, mailbox, raw).status_code == 202
    message = Message.objects.get()
    assert message.metadata["auto_submitted"] is True
    assert Case.objects.count() == 0 and OutboundDelivery.objects.count() == 0


def test_bounce_marks_the_delivery_failed_and_stores_nothing(client, mailbox, agent, mailoutbox):
    post_raw(client, mailbox, NEW_THREAD)
    conversation = Conversation.objects.get()
    reply = crm_services.message_send(conversation=conversation, sender=agent, body="Answer")
    delivery_send.apply(args=[message_deliver(message=reply).pk])
    sent_id = OutboundDelivery.objects.get(message=reply).provider_message_id
    before = Message.objects.count()
    dsn = (
        b"From: MAILER-DAEMON@mx.example.com\r\nTo: support@northwind.example\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-1@mx.example.com>\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        b"Final-Recipient: rfc822; renee@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: " + sent_id.encode() + b"\r\n"
        b"--b--\r\n"
    )
    response = post_raw(client, mailbox, dsn)
    assert response.status_code == 200 and response.json() == {"status": "ignored", "reason": "bounce"}
    assert Message.objects.count() == before
    reply.refresh_from_db()
    assert reply.delivery_status == "failed"


def test_bad_input_is_a_clear_4xx_and_stores_nothing(client, mailbox):
    assert post_raw(client, mailbox, NEW_THREAD, secret="wrong").status_code == 403
    assert client.post(url(mailbox), NEW_THREAD, content_type="message/rfc822").status_code == 403
    assert post_raw(client, mailbox, NEW_THREAD, content_type="application/json").status_code == 415
    assert client.post("/channels/email/999999/inbound/", NEW_THREAD, content_type="message/rfc822").status_code == 404
    assert post_raw(client, mailbox, b"this is not an email at all").status_code == 400
    assert post_raw(client, mailbox, b"From: nobody\r\nSubject: x\r\n\r\nbody").status_code == 400
    assert post_raw(client, mailbox, b"\r\n\r\n").status_code == 400
    EmailChannel.objects.filter(pk=mailbox.pk).update(max_message_bytes=100)
    assert post_raw(client, mailbox, NEW_THREAD).status_code == 413
    assert client.get(url(mailbox)).status_code == 405
    assert Message.objects.count() == 0 and Case.objects.count() == 0


def test_mail_from_our_own_address_is_ignored(client, mailbox):
    own = b"From: support@northwind.example\r\nSubject: loop\r\nMessage-ID: <loop@x>\r\n\r\nloop\r\n"
    assert post_raw(client, mailbox, own).json()["status"] == "ignored"
    assert Message.objects.count() == 0

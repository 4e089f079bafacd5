"""Authenticated chat: the site's RS256 JWT identifies the customer across devices."""

import time

import jwt
import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ValidationError

from channels_ingress.models import WebChatChannel
from channels_ingress.services import webchat
from contactcenter.asgi import application
from crm.models import Contact, Message

PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = PRIVATE.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
).decode()
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ISSUER = "https://shop.example"


def token(key=PRIVATE, kid="k1", **overrides):
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "customer-881", "iat": now, "exp": now + 300, "email": "kim@example.com",
              "name": "Kim Lee", "lwicontexts": '{"plan": {"value": "gold", "isDisplayable": true}, "orders": 3}'}
    claims.update(overrides)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid} if kid else None)


@pytest.fixture
def signed_in_channel(db):
    return WebChatChannel.objects.create(
        name="Shop", public_key="shop-auth-key", auth_public_key=PUBLIC_PEM, auth_issuer=ISSUER, auth_key_id="k1"
    )


@pytest.mark.django_db
def test_valid_token_names_a_stable_visitor_with_context_variables(signed_in_channel):
    first = webchat.visitor_authenticate(channel=signed_in_channel, token=token())
    again = webchat.visitor_authenticate(channel=signed_in_channel, token=token(iat=int(time.time()) - 5))
    assert first.visitor_id == again.visitor_id and first.token == ""
    known = Contact.objects.create(first_name="Kim", last_name="Lee", email="kim@example.com")
    result = webchat.webchat_message_receive(visitor=first, body="Where is my order?")
    conversation = result.conversation
    assert conversation.contact == known
    assert conversation.context["authenticated"] == {"sub": "customer-881", "iss": ISSUER}
    assert conversation.context["lwicontexts"] == {"plan": "gold", "orders": 3}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bad_token", "message"),
    [
        (lambda: token(exp=int(time.time()) - 120), "expired"),
        (lambda: token(key=OTHER), "Signature verification failed"),
        (lambda: token(iss="https://evil.example"), "issuer"),
        (lambda: token(sub=None), "sub"),
        (lambda: token(kid="other"), "unknown key"),
        (lambda: token(nbf=int(time.time()) + 600), "not yet valid"),
        (lambda: "not-a-jwt", "not valid"),
        (lambda: jwt.encode({"iss": ISSUER, "sub": "x", "iat": 1, "exp": 2**31}, "s" * 32, algorithm="HS256",
                            headers={"kid": "k1"}), "not valid"),
    ],
    ids=["expired", "wrong-key", "wrong-issuer", "no-sub", "wrong-kid", "nbf", "garbage", "hs256"],
)
def test_invalid_tokens_are_rejected(signed_in_channel, bad_token, message):
    with pytest.raises(webchat.ChatAuthenticationFailed) as failure:
        webchat.visitor_authenticate(channel=signed_in_channel, token=bad_token())
    assert message in failure.value.message


@pytest.mark.django_db
def test_public_key_must_be_rsa_pem():
    with pytest.raises(ValidationError):
        WebChatChannel(name="x", public_key="abcdefg", auth_public_key="not a key").full_clean()
    WebChatChannel(name="x", public_key="abcdefg", auth_public_key=PUBLIC_PEM).full_clean()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_socket_switches_to_the_signed_in_customer_and_resumes_on_another_device(signed_in_channel):
    async def connect():
        socket = WebsocketCommunicator(application, "/ws/webchat/shop-auth-key/", headers=[(b"origin", b"http://127.0.0.1")])
        assert (await socket.connect(timeout=5))[0]
        ready = await socket.receive_json_from(timeout=5)
        assert ready["type"] == "session.ready" and ready["data"]["authenticated"] is False
        assert ready["data"]["config"]["sign_in"] is True
        return socket

    laptop = await connect()
    await laptop.send_json_to({"type": "authenticate", "token": "forged"})
    error = await laptop.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["data"]["code"] == "authentication_failed"

    await laptop.send_json_to({"type": "authenticate", "token": token()})
    ready = await laptop.receive_json_from(timeout=5)
    assert ready["data"]["authenticated"] is True and ready["data"]["token"] is None
    await laptop.send_json_to({"type": "message", "client_id": "auth-0001", "body": "Order 4411?"})
    accepted = await laptop.receive_json_from(timeout=5)
    assert accepted["type"] == "message.accepted"
    await laptop.disconnect()

    phone = await connect()
    await phone.send_json_to({"type": "authenticate", "token": token()})
    ready = await phone.receive_json_from(timeout=5)
    message = await database_sync_to_async(Message.objects.get)(pk=accepted["data"]["message_id"])
    assert ready["data"]["conversation"]["id"] == message.conversation_id
    replayed = await phone.receive_json_from(timeout=5)
    assert replayed["type"] == "message.created" and replayed["data"]["message"]["body"] == "Order 4411?"
    await phone.disconnect()


@pytest.mark.django_db
def test_signed_in_customer_uploads_with_the_short_lived_session_token(client, signed_in_channel):
    from django.core import signing
    from django.core.files.uploadedfile import SimpleUploadedFile

    visitor = webchat.visitor_authenticate(channel=signed_in_channel, token=token())
    session_token = webchat.session_token_issue(visitor=visitor)
    upload = client.post("/webchat/shop-auth-key/attachments/", {"file": SimpleUploadedFile("a.txt", b"hello")},
                         headers={"X-Visitor-Token": session_token})
    assert upload.status_code == 201
    result = webchat.webchat_message_receive(visitor=visitor, body="", attachment_refs=[upload.json()["ref"]])
    assert result.message.attachments[0]["name"] == "a.txt"

    issued = signing.dumps({"k": "shop-auth-key", "v": visitor.visitor_id}, salt=webchat.SESSION_SALT, compress=True)
    settings_backup = webchat.SESSION_TOKEN_SECONDS
    webchat.SESSION_TOKEN_SECONDS = -1  # every token has expired
    try:
        response = client.post("/webchat/shop-auth-key/attachments/", {"file": SimpleUploadedFile("a.txt", b"hi")},
                               headers={"X-Visitor-Token": issued})
    finally:
        webchat.SESSION_TOKEN_SECONDS = settings_backup
    assert response.status_code == 403

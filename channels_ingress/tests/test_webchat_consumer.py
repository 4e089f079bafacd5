"""The visitor socket over the real Redis channel layer, as the widget speaks it."""

import asyncio
import uuid

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from channels_ingress.models import ChatFeedback, WebChatChannel
from contactcenter.asgi import application
from crm import services
from crm.choices import ConversationStatus
from crm.models import Message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ORIGIN = b"http://127.0.0.1:8000"


OPEN_SOCKETS: list[WebsocketCommunicator] = []


@pytest_asyncio.fixture(autouse=True)
async def close_open_sockets():
    """End every socket's application instance, so none is left for the closing event loop to cancel."""
    yield
    while OPEN_SOCKETS:
        socket = OPEN_SOCKETS.pop()
        try:
            await socket.disconnect(timeout=1)
        except Exception:  # already disconnected, or the app already ended
            pass


async def connect(key="shop-chat-key", query="", origin=ORIGIN, client=None):
    headers = [(b"origin", origin)] if origin is not None else []
    communicator = WebsocketCommunicator(application, f"/ws/webchat/{key}/{query}", headers=headers)
    if client:
        communicator.scope["client"] = client
    connected, code = await communicator.connect(timeout=5)
    # Refused ones too: their application instance still waits for the disconnect.
    OPEN_SOCKETS.append(communicator)
    return communicator, connected, code


async def ready(communicator):
    frame = await communicator.receive_json_from(timeout=5)
    assert frame["type"] == "session.ready"
    return frame["data"]


async def next_of(communicator, type_, timeout=5):
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        if frame["type"] == type_:
            return frame


PRECHAT = {"name": "Dana Reyes", "email": "Dana@Example.COM", "question": ""}


async def test_visitor_gets_token_config_and_first_message_opens_conversation_with_prechat(webchat_channel):
    socket, connected, _ = await connect()
    assert connected
    session = await ready(socket)
    assert session["token"] and session["conversation"] is None
    assert session["config"]["title"] == "Chat with us"
    assert [q["name"] for q in session["config"]["prechat"]] == ["name", "email", "question"]

    await socket.send_json_to({"type": "message", "client_id": "c0ffee-0001", "body": "Where is my order?", "prechat": PRECHAT})
    accepted = await next_of(socket, "message.accepted")
    created = await next_of(socket, "message.created")

    message = await database_sync_to_async(Message.objects.select_related("conversation__contact").get)(
        pk=accepted["data"]["message_id"]
    )
    assert created["data"]["message"]["body"] == "Where is my order?"
    assert message.conversation.channel_ref == "shop-chat-key"
    assert message.conversation.context["prechat"]["email"] == "Dana@example.com"
    assert message.conversation.contact.first_name == "Dana"
    await socket.disconnect()


async def test_agent_reply_reaches_visitor_with_agent_first_name_and_typing(webchat_channel, agent):
    socket, _, _ = await connect()
    await ready(socket)
    await socket.send_json_to({"type": "message", "client_id": "c0ffee-0002", "body": "Hello", "prechat": PRECHAT})
    accepted = await next_of(socket, "message.accepted")
    conversation = await database_sync_to_async(lambda: Message.objects.get(pk=accepted["data"]["message_id"]).conversation)()

    from channels_ingress.services.webchat import webchat_agent_typing

    await database_sync_to_async(webchat_agent_typing)(conversation=conversation, agent=agent)
    typing = await next_of(socket, "typing.started")
    assert typing["data"]["sender_name"] == "Alice"

    reply = await database_sync_to_async(services.message_send)(conversation=conversation, sender=agent, body="Let me check.")
    event = await next_of(socket, "message.created")
    assert event["id"] == reply.pk
    assert event["data"]["message"]["sender_name"] == "Alice"
    assert event["data"]["message"]["body"] == "Let me check."
    for _ in range(50):
        status = (await database_sync_to_async(Message.objects.get)(pk=reply.pk)).delivery_status
        if status == "delivered":
            break
        await asyncio.sleep(0.05)
    assert status == "delivered"

    await database_sync_to_async(services.note_add)(conversation=conversation, author=agent, body="internal only")
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


async def test_reconnect_with_token_and_last_id_replays_only_what_was_missed(webchat_channel, agent):
    socket, _, _ = await connect()
    session = await ready(socket)
    await socket.send_json_to({"type": "message", "client_id": "c0ffee-0003", "body": "first", "prechat": PRECHAT})
    first = (await next_of(socket, "message.accepted"))["data"]["message_id"]
    await socket.disconnect()

    conversation = await database_sync_to_async(lambda: Message.objects.get(pk=first).conversation)()
    missed = [await database_sync_to_async(services.message_send)(conversation=conversation, sender=agent, body=f"reply {n}") for n in range(2)]

    again, connected, _ = await connect(query=f"?token={session['token']}&last_id={first}")
    resumed = await ready(again)
    assert resumed["conversation"]["id"] == conversation.pk
    replayed = [await next_of(again, "message.created") for _ in range(2)]
    assert [frame["id"] for frame in replayed] == [m.pk for m in missed]
    assert await again.receive_nothing(timeout=0.3)
    await again.disconnect()


async def test_resent_message_after_reconnect_is_stored_once(webchat_channel):
    socket, _, _ = await connect()
    session = await ready(socket)
    frame = {"type": "message", "client_id": "c0ffee-0004", "body": "only once", "prechat": PRECHAT}
    await socket.send_json_to(frame)
    await next_of(socket, "message.accepted")
    await socket.disconnect()
    again, _, _ = await connect(query=f"?token={session['token']}")
    await ready(again)
    await again.send_json_to(frame)
    await next_of(again, "message.accepted")
    assert await database_sync_to_async(Message.objects.filter(body="only once").count)() == 1
    await again.disconnect()


async def test_forged_token_starts_a_new_visitor(webchat_channel):
    socket, _, _ = await connect(query="?token=forged:token")
    session = await ready(socket)
    assert session["token"] != "forged:token"
    await socket.disconnect()


async def test_unknown_channel_and_foreign_origin_are_refused(webchat_channel):
    _, connected, code = await connect(key="no-such-key")
    assert not connected and code == 4404
    _, connected, code = await connect(origin=b"https://evil.example")
    assert not connected and code == 4403
    _, connected, code = await connect(origin=None)
    assert not connected and code == 4403


async def test_listed_origin_is_allowed(webchat_channel):
    await database_sync_to_async(WebChatChannel.objects.filter(pk=webchat_channel.pk).update)(
        allowed_origins=["https://shop.example"]
    )
    allowed, connected, _ = await connect(origin=b"https://shop.example")
    assert connected
    await allowed.disconnect()
    _, connected, code = await connect()
    assert not connected and code == 4403


async def test_prechat_required_fields_and_message_size_are_enforced(webchat_channel):
    socket, _, _ = await connect()
    await ready(socket)
    await socket.send_json_to({"type": "message", "client_id": "c0ffee-0005", "body": "hi", "prechat": {"name": ""}})
    error = await next_of(socket, "error")
    assert error["data"]["code"] == "invalid" and "Your name is required" in error["data"]["message"]
    assert error["data"]["client_id"] == "c0ffee-0005"

    await socket.send_json_to({"type": "message", "client_id": "c0ffee-0006", "body": "x" * 4001, "prechat": PRECHAT})
    error = await next_of(socket, "error")
    assert error["data"]["code"] == "message_too_long"

    await socket.send_to(text_data="x" * (70 * 1024))
    error = await next_of(socket, "error")
    assert error["data"]["code"] == "too_large"
    await socket.send_to(text_data="not json")
    assert (await next_of(socket, "error"))["data"]["code"] == "invalid"
    assert await database_sync_to_async(Message.objects.count)() == 0
    await socket.disconnect()


async def test_per_visitor_rate_limit(webchat_channel):
    await database_sync_to_async(WebChatChannel.objects.filter(pk=webchat_channel.pk).update)(visitor_messages_per_minute=3)
    socket, _, _ = await connect()
    await ready(socket)
    for n in range(3):
        await socket.send_json_to({"type": "message", "client_id": f"c0ffee-10{n}0", "body": f"m{n}", "prechat": PRECHAT})
        await next_of(socket, "message.accepted")
    await socket.send_json_to({"type": "message", "client_id": "c0ffee-1040", "body": "too many"})
    error = await next_of(socket, "error")
    assert error["data"]["code"] == "rate_limited"
    assert await database_sync_to_async(Message.objects.count)() == 3
    await socket.disconnect()


async def test_per_ip_rate_limit_spans_visitors(webchat_channel):
    await database_sync_to_async(WebChatChannel.objects.filter(pk=webchat_channel.pk).update)(ip_messages_per_minute=2)
    # A fresh address each run: the counters live in Redis, which outlives the test database.
    address = f"2001:db8::{uuid.uuid4().hex[:4]}"
    for n in range(2):
        socket, _, _ = await connect(client=(address, 5000))
        await ready(socket)
        await socket.send_json_to({"type": "message", "client_id": f"c0ffee-20{n}0", "body": "hi", "prechat": PRECHAT})
        await next_of(socket, "message.accepted")
        await socket.disconnect()
    socket, _, _ = await connect(client=(address, 5001))
    await ready(socket)
    await socket.send_json_to({"type": "message", "client_id": "c0ffee-2030", "body": "hi", "prechat": PRECHAT})
    assert (await next_of(socket, "error"))["data"]["code"] == "rate_limited"
    await socket.disconnect()


async def test_end_chat_with_csat_closes_conversation_and_stores_feedback(webchat_channel):
    socket, _, _ = await connect()
    await ready(socket)
    await socket.send_json_to({"type": "message", "client_id": "c0ffee-0007", "body": "thanks", "prechat": PRECHAT})
    accepted = await next_of(socket, "message.accepted")
    await socket.send_json_to({"type": "end", "rating": 9})
    assert (await next_of(socket, "error"))["data"]["code"] == "invalid"
    await socket.send_json_to({"type": "end", "rating": 5, "comment": "Quick and friendly"})
    ended = await next_of(socket, "conversation.ended")
    assert ended["data"]["by"] == "customer"

    conversation = await database_sync_to_async(lambda: Message.objects.get(pk=accepted["data"]["message_id"]).conversation)()
    assert conversation.status == ConversationStatus.CLOSED
    feedback = await database_sync_to_async(ChatFeedback.objects.get)(conversation=conversation)
    assert (feedback.rating, feedback.comment) == (5, "Quick and friendly")
    await socket.disconnect()


async def test_agent_closing_tells_the_visitor_and_typing_reaches_agents(webchat_channel, agent):
    socket, _, _ = await connect()
    await ready(socket)
    await socket.send_json_to({"type": "message", "client_id": "c0ffee-0008", "body": "hi", "prechat": PRECHAT})
    accepted = await next_of(socket, "message.accepted")
    conversation = await database_sync_to_async(lambda: Message.objects.get(pk=accepted["data"]["message_id"]).conversation)()
    await database_sync_to_async(services.conversation_close)(conversation=conversation, actor=agent)
    ended = await next_of(socket, "conversation.ended")
    assert ended["data"]["by"] == "agent"
    await socket.disconnect()


async def test_visitor_typing_and_read_are_published_to_the_conversation(webchat_channel, agent, supervisor):
    socket, _, _ = await connect()
    await ready(socket)
    await socket.send_json_to({"type": "message", "client_id": "c0ffee-0009", "body": "hi", "prechat": PRECHAT})
    accepted = await next_of(socket, "message.accepted")
    conversation = await database_sync_to_async(lambda: Message.objects.get(pk=accepted["data"]["message_id"]).conversation)()
    staff = WebsocketCommunicator(application, "/ws/agent/", headers=[(b"origin", ORIGIN)])
    staff.scope["user"] = supervisor
    assert (await staff.connect(timeout=5))[0]
    await socket.send_json_to({"type": "typing"})
    frame = await next_of(staff, "typing.started")
    assert frame["data"] == {"conversation_id": conversation.pk, "sender_kind": "customer", "sender_name": ""}

    reply = await database_sync_to_async(services.message_send)(conversation=conversation, sender=agent, body="ok")
    await next_of(socket, "message.created")
    await socket.send_json_to({"type": "read", "last_id": reply.pk})
    read = await next_of(staff, "message.read")
    assert read["data"]["up_to_id"] == reply.pk
    assert (await database_sync_to_async(Message.objects.get)(pk=reply.pk)).delivery_status == "read"
    await socket.disconnect()
    await staff.disconnect()


async def test_typing_signals_are_throttled(webchat_channel):
    from channels_ingress.services.webchat import visitor_start, webchat_visitor_typing

    socket, _, _ = await connect()
    session = await ready(socket)
    await socket.send_json_to({"type": "message", "client_id": "c0ffee-0010", "body": "hi", "prechat": PRECHAT})
    await next_of(socket, "message.accepted")
    visitor = await database_sync_to_async(visitor_start)(channel=webchat_channel, token=session["token"])
    sent = [await database_sync_to_async(webchat_visitor_typing)(visitor=visitor) for _ in range(5)]
    assert sent == [True, False, False, False, False]
    await socket.disconnect()

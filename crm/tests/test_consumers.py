"""The agent socket over the real Redis channel layer."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from contactcenter.asgi import application
from crm import services
from crm.choices import ChannelKind
from crm.models import Conversation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ORIGIN = [(b"origin", b"http://127.0.0.1:8000")]


async def connect(user, query: str = ""):
    communicator = WebsocketCommunicator(application, f"/ws/agent/{query}", headers=ORIGIN)
    communicator.scope["user"] = user
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


@database_sync_to_async
def ingest(body: str, *, address: str = "visitor-1", assign_to=None):
    result = services.message_ingest(channel_kind=ChannelKind.WEBCHAT, address=address, body=body)
    if assign_to is not None:
        Conversation.objects.filter(pk=result.conversation.pk).update(assigned_agent=assign_to, status="active")
    return result


async def test_anonymous_socket_is_refused():
    communicator, connected, code = await connect(AnonymousUser())
    assert not connected and code == 4401
    await communicator.disconnect()


async def test_user_without_a_role_is_refused(outsider):
    communicator, connected, code = await connect(outsider)
    assert not connected and code == 4403
    await communicator.disconnect()


async def test_assigned_agent_receives_message_created_and_other_agent_does_not(agent, other_agent):
    first = await ingest("Hi, where is my order?", assign_to=agent)
    mine, connected, _ = await connect(agent)
    theirs, _, _ = await connect(other_agent)
    assert connected

    second = await ingest("Order number is 88231")

    event = await mine.receive_json_from(timeout=5)
    assert event["type"] == "message.created"
    assert event["id"] == second.message.pk
    assert event["data"]["conversation_id"] == first.conversation.pk
    assert event["data"]["message"]["body"] == "Order number is 88231"
    assert await theirs.receive_nothing(timeout=0.5)
    await mine.disconnect()
    await theirs.disconnect()


async def test_supervisor_receives_every_conversation(supervisor):
    socket, _, _ = await connect(supervisor)
    result = await ingest("Unassigned question")

    types = [(await socket.receive_json_from(timeout=5))["type"] for _ in range(2)]

    assert types == ["conversation.created", "message.created"]
    await socket.disconnect()
    assert result.created


async def test_reconnect_with_last_id_replays_what_was_missed_in_order(agent, other_agent):
    seen = await ingest("first", assign_to=agent)
    missed = [await ingest(f"missed {n}") for n in range(3)]
    await ingest("someone else's", address="visitor-2", assign_to=other_agent)

    socket, connected, _ = await connect(agent, f"?last_id={seen.message.pk}")
    assert connected
    replayed = [await socket.receive_json_from(timeout=5) for _ in missed]

    assert [event["id"] for event in replayed] == [result.message.pk for result in missed]
    assert await socket.receive_nothing(timeout=0.3)

    # Live events keep flowing after the replay, and a resume frame replays again.
    live = await ingest("live one")
    assert (await socket.receive_json_from(timeout=5))["id"] == live.message.pk
    await socket.send_json_to({"type": "resume", "last_id": seen.message.pk})
    await asyncio.sleep(0.2)
    assert await socket.receive_nothing(timeout=0.3), "already-sent messages are not sent twice"
    await socket.disconnect()


async def test_html_format_sends_an_out_of_band_fragment(agent):
    seen = await ingest("first", assign_to=agent)
    socket, _, _ = await connect(agent, "?format=html")

    await ingest("my tablet will not boot")

    html = await socket.receive_from(timeout=5)
    assert f'hx-swap-oob="beforeend:#transcript-{seen.conversation.pk}"' in html
    assert "my tablet will not boot" in html
    await socket.disconnect()

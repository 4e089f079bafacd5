"""Offers reach the agent's socket over the real Redis channel layer; others get nothing."""

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.layers import DEFAULT_CHANNEL_LAYER, channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator

from contactcenter.asgi import application
from routing import services
from routing.tests import factories as f

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]
ORIGIN = [(b"origin", b"http://127.0.0.1:8000")]


async def connect(user):
    communicator = WebsocketCommunicator(application, "/ws/agent/", headers=ORIGIN)
    communicator.scope["user"] = user
    connected, _code = await communicator.connect(timeout=5)
    assert connected
    return communicator


@database_sync_to_async
def setup(agent, other_agent):
    services.agent_profile_ensure(agent=agent)
    services.agent_profile_ensure(agent=other_agent)
    services.presence_set(agent=agent, presence="available")
    f.stream(fallback=f.queue(members=[agent]))


@database_sync_to_async
def enqueue():
    return services.conversation_enqueue(conversation=f.inbound("My order never arrived"))


@pytest_asyncio.fixture
async def fresh_layer():
    """Hand the next test a new channel-layer instance.

    channels_redis keeps per-process receive locks; one left held when this
    test's event loop closes would make the next socket test wait forever.
    """
    yield
    layer = get_channel_layer()
    await layer.wait_received()
    await layer.close_pools()
    channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)


async def test_offer_arrives_on_the_agent_socket_only(agent, other_agent, fresh_layer):
    await setup(agent, other_agent)
    mine, theirs = await connect(agent), await connect(other_agent)

    item = await enqueue()

    frames = [await mine.receive_json_from(timeout=5) for _ in range(2)]
    offered = next(frame for frame in frames if frame["type"] == "workitem.offered")
    assert offered["data"]["workitem_id"] == item.pk
    assert offered["data"]["conversation_id"] == item.conversation_id
    assert await theirs.receive_nothing(timeout=0.3)
    await mine.disconnect()
    await theirs.disconnect()

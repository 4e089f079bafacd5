"""Routing's HTML fragments over the agent socket (crm.live renderers), on the real Redis layer."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from contactcenter.asgi import application
from routing import services
from routing.tests import factories as f

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.asyncio]
ORIGIN = [(b"origin", b"http://127.0.0.1:8000")]


async def connect(user):
    communicator = WebsocketCommunicator(application, "/ws/agent/?format=html", headers=ORIGIN)
    communicator.scope["user"] = user
    connected, _code = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def frames_until(socket, needle: str, timeout: float = 5) -> str:
    """Frames received until one contains ``needle`` (joined), failing after ``timeout`` seconds."""
    seen = []
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        assert left > 0, f"{needle!r} not received; got {seen!r}"
        frame = await socket.receive_from(timeout=left)
        seen.append(frame)
        if needle in frame:
            return "".join(seen)


async def test_offer_pops_up_for_its_agent_only_and_disappears_when_declined(supervisor):
    alice = await database_sync_to_async(f.agent)("alice")
    bob = await database_sync_to_async(f.agent)("bob")

    @database_sync_to_async
    def setup():
        f.stream(fallback=f.queue(members=[alice, bob]))
        services.presence_set(agent=bob, presence="offline")

    await setup()
    mine, theirs, boss = await connect(alice), await connect(bob), await connect(supervisor)
    item = await database_sync_to_async(lambda: services.conversation_enqueue(conversation=f.inbound("Help!")))()

    html = await frames_until(mine, f'id="offer-{item.pk}"')
    assert 'hx-swap-oob="beforeend:#offers"' in html and 'role="alertdialog"' in html
    assert 'id="agent-bar" ' in html and 'hx-swap-oob="true"' in html  # load went up
    boss_frames = []
    while not await boss.receive_nothing(timeout=0.5):
        boss_frames.append(await boss.receive_from())
    assert not any(f'id="offer-{item.pk}"' in frame for frame in boss_frames)
    bob_frames = []
    while not await theirs.receive_nothing(timeout=0.3):
        bob_frames.append(await theirs.receive_from())
    assert not any(f'id="offer-{item.pk}"' in frame for frame in bob_frames)

    await database_sync_to_async(lambda: services.offer_decline(workitem=item, agent=alice, reason="busy"))()
    html = await frames_until(mine, f'id="offer-{item.pk}" hx-swap-oob="delete"')
    assert "delete" in html
    for socket in (mine, theirs, boss):
        await socket.disconnect()


async def test_presence_change_updates_the_top_bar():
    alice = await database_sync_to_async(f.agent)("alice")
    socket = await connect(alice)
    await database_sync_to_async(lambda: services.presence_set(agent=alice, presence="away"))()
    html = await frames_until(socket, 'data-presence="Away"')
    assert 'id="agent-bar"' in html and 'hx-swap-oob="true"' in html
    await socket.disconnect()


async def test_consult_invitation_reaches_the_consultant():
    alice = await database_sync_to_async(f.agent)("alice")
    bob = await database_sync_to_async(f.agent)("bob")

    @database_sync_to_async
    def assigned():
        f.stream(fallback=f.queue(members=[alice]))
        item = services.conversation_enqueue(conversation=f.inbound("Refund?"))
        services.offer_accept(workitem=item, agent=alice)
        return item

    item = await assigned()
    socket = await connect(bob)
    await database_sync_to_async(
        lambda: services.conversation_consult(conversation=item.conversation, actor=alice, consultant=bob, note="OK?")
    )()
    html = await frames_until(socket, f'id="consult-{item.conversation_id}"')
    assert "alice asks you about" in html
    await socket.disconnect()


async def test_assignment_nudges_the_agents_lists_but_not_every_supervisor(supervisor):
    alice = await database_sync_to_async(f.agent)("alice")
    await database_sync_to_async(lambda: f.stream(fallback=f.queue(members=[alice])))()
    item = await database_sync_to_async(lambda: services.conversation_enqueue(conversation=f.inbound("Hi")))()
    mine, boss = await connect(alice), await connect(supervisor)
    await database_sync_to_async(lambda: services.offer_accept(workitem=item, agent=alice))()

    html = await frames_until(mine, 'data-events="worklist-refresh work-changed"')
    assert 'hx-swap-oob="innerHTML:#live-refresh"' in html
    boss_frames = []
    while not await boss.receive_nothing(timeout=0.5):
        boss_frames.append(await boss.receive_from())
    assert not any("work-changed" in frame for frame in boss_frames)
    await mine.disconnect()
    await boss.disconnect()

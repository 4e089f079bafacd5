"""The agent socket in HTML mode pushes the workspace's fragments: messages and notifications."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from contactcenter.asgi import application
from crm import services
from crm.choices import ChannelKind, ConversationStatus
from crm.models import Conversation
from crm.tests.factories import ContactFactory

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.asyncio]

ORIGIN = [(b"origin", b"http://127.0.0.1:8000")]


async def connect_html(user):
    communicator = WebsocketCommunicator(application, "/ws/agent/?format=html", headers=ORIGIN)
    communicator.scope["user"] = user
    connected, _code = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def test_mention_pushes_the_bell_and_an_announcement(agent, other_agent):
    socket = await connect_html(other_agent)

    @database_sync_to_async
    def mention():
        case = services.case_create(contact=ContactFactory(), subject="Soundbar pairing", actor=agent, owner=agent)
        services.discussion_post(case=case, author=agent, body="@agent.b have you seen this?")

    await mention()
    html = await socket.receive_from(timeout=5)

    assert 'id="notification-bell" hx-swap-oob="true"' in html
    assert 'id="notification-count">1' in html
    assert "mentioned you" in html and 'hx-swap-oob="innerHTML:#live-announcer"' in html
    await socket.disconnect()


async def test_customer_message_pushes_transcript_item_and_worklist_preview(agent):
    @database_sync_to_async
    def start():
        result = services.message_ingest(channel_kind=ChannelKind.WEBCHAT, address="visitor-9", body="Hello")
        Conversation.objects.filter(pk=result.conversation.pk).update(
            assigned_agent=agent, status=ConversationStatus.ACTIVE
        )
        return result.conversation

    conversation = await start()
    socket = await connect_html(agent)
    await database_sync_to_async(services.message_ingest)(
        channel_kind=ChannelKind.WEBCHAT, address="visitor-9", body="Is anyone there?"
    )
    html = await socket.receive_from(timeout=5)

    assert f'hx-swap-oob="beforeend:#transcript-{conversation.pk}"' in html
    assert f'hx-swap-oob="innerHTML:#preview-{conversation.pk}">Is anyone there?' in html
    assert 'class="msg msg-customer"' in html
    await socket.disconnect()

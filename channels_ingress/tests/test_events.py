"""Every event the channels services publish, with its groups (asserted after commit)."""

import pytest

from channels_ingress.services import webchat
from channels_ingress.models import CustomChannel
from channels_ingress.services.delivery import delivery_attempt, message_deliver
from crm import services as crm_services

pytestmark = pytest.mark.django_db


def forget(published):
    """Drop what was published so far (running pending on-commit callbacks first)."""
    assert published.events is not None
    published.sent.clear()


def test_first_web_chat_message_tells_the_visitors_tabs_about_the_new_conversation(webchat_channel, published):
    visitor = webchat.visitor_start(channel=webchat_channel, token=None)
    result = webchat.webchat_message_receive(visitor=visitor, body="hi", prechat={"name": "A B", "email": "a@b.co"})
    events = published.of_type("conversation.created")
    to_visitor = [(event, groups) for event, groups in events if groups == [f"visitor.{visitor.visitor_id}"]]
    assert to_visitor and to_visitor[0][0]["data"] == {"conversation_id": result.conversation.pk}
    forget(published)
    webchat.webchat_message_receive(visitor=visitor, body="again")
    assert [groups for _event, groups in published.of_type("conversation.created")] == []


def test_agent_typing_goes_to_the_visitor_only(webchat_channel, agent, published):
    visitor = webchat.visitor_start(channel=webchat_channel, token=None)
    result = webchat.webchat_message_receive(visitor=visitor, body="hi", prechat={"name": "A B", "email": "a@b.co"})
    forget(published)
    webchat.webchat_agent_typing(conversation=result.conversation, agent=agent)
    [(event, groups)] = published.events
    assert event["type"] == "typing.started" and event["id"] is None
    assert event["data"]["sender_name"] == "Alice" and groups == [f"visitor.{visitor.visitor_id}"]


def test_a_sent_delivery_publishes_the_new_status_to_the_conversation(agent, provider, published):
    channel = CustomChannel.objects.create(name="App", key="app-chat", webhook_url=provider.url)
    inbound = crm_services.message_ingest(channel_kind="custom", address="app-chat:u1", body="hi", channel_ref="app-chat")
    reply = crm_services.message_send(conversation=inbound.conversation, sender=agent, body="hello")
    forget(published)
    outcome = delivery_attempt(delivery_id=message_deliver(message=reply).pk)
    assert outcome.delivery.state == "sent"
    [(event, groups)] = published.of_type("message.delivery_changed")
    assert event["data"] == {"message_id": reply.pk, "conversation_id": reply.conversation_id, "delivery_status": "sent"}
    assert f"conversation.{reply.conversation_id}" in groups and "supervisors" in groups
    assert channel.pk

import pytest
from channels.layers import get_channel_layer
from django.db import transaction

from contactcenter.realtime import Event, groups, publish

pytestmark = pytest.mark.django_db


def test_group_names_come_from_helpers():
    assert groups.conversation(42) == "conversation.42"
    assert groups.agent(7) == "agent.7"
    assert groups.queue(3) == "queue.3"
    assert groups.visitor("abc_DEF-1") == "visitor.abc_DEF-1"


@pytest.mark.parametrize("type_", ["created", "Message.Created", "message.created.now", "message-created"])
def test_event_types_must_be_noun_verb(type_, published):
    with pytest.raises(ValueError):
        publish(Event(type=type_, data={}), groups=["supervisors"])


def test_group_names_are_validated(published):
    with pytest.raises(ValueError):
        publish(Event(type="message.created", data={}), groups=["agent 7"])


def test_payload_must_be_json(published):
    with pytest.raises(TypeError):
        publish(Event(type="message.created", data={"x": object()}), groups=["supervisors"])


def test_nothing_is_published_when_the_transaction_rolls_back(published):
    with pytest.raises(RuntimeError), transaction.atomic():
        publish(Event(type="message.created", id=1, data={}), groups=["supervisors"])
        raise RuntimeError("rolled back")

    assert published.events == []


def test_published_after_commit_with_id_ts_and_data(published):
    with transaction.atomic():
        publish(Event(type="message.created", id=5, data={"message_id": 5}), groups=["agent.1", "agent.1"])

    [(event, targets)] = published.events
    assert targets == ["agent.1"]
    assert event["type"] == "message.created" and event["id"] == 5 and event["data"] == {"message_id": 5}
    assert "T" in event["ts"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_delivered_through_the_redis_channel_layer():
    layer = get_channel_layer()
    assert type(layer).__module__ == "channels_redis.core"
    channel = await layer.new_channel()
    await layer.group_add("supervisors", channel)

    from asgiref.sync import sync_to_async

    await sync_to_async(publish)(Event(type="queue.stats", data={"waiting": 3}), groups=["supervisors"])

    message = await layer.receive(channel)
    assert message["type"] == "realtime.event"
    assert message["event"]["type"] == "queue.stats" and message["event"]["data"] == {"waiting": 3}
    await layer.group_discard("supervisors", channel)

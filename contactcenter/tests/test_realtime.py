from unittest import mock

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from contactcenter import realtime
from contactcenter.realtime import Event, batched, groups, publish

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

    await sync_to_async(publish)(Event(type="queue.stats", data={"waiting": 3}), groups=["supervisors"])

    message = await layer.receive(channel)
    assert message["type"] == "realtime.event"
    assert message["event"]["type"] == "queue.stats" and message["event"]["data"] == {"waiting": 3}
    await layer.group_discard("supervisors", channel)


def test_a_batch_leaves_in_one_send_after_commit_in_publish_order(django_capture_on_commit_callbacks):
    with mock.patch.object(realtime, "_send") as send:
        with django_capture_on_commit_callbacks(execute=True), batched():
            publish(Event(type="workitem.offered", data={"n": 1}), groups=["agent.1"])
            with batched():  # a nested block joins the outer one
                publish(Event(type="workitem.offered", data={"n": 2}), groups=["agent.2", "supervisors"])
            assert not send.called  # nothing before commit

    [(deliveries,), _kwargs] = send.call_args
    assert send.call_count == 1
    assert [(event["data"]["n"], targets) for event, targets in deliveries] == [
        (1, ["agent.1"]), (2, ["agent.2", "supervisors"])
    ]


def test_a_batch_drops_events_of_a_rolled_back_savepoint(published):
    with transaction.atomic(), batched():
        publish(Event(type="workitem.offered", data={"n": 1}), groups=["agent.1"])
        with pytest.raises(RuntimeError), transaction.atomic():
            publish(Event(type="workitem.offered", data={"n": 2}), groups=["agent.1"])
            raise RuntimeError("savepoint rolled back")

    assert [event["data"]["n"] for event, _targets in published.events] == [1]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_batch_is_delivered_through_redis_in_order_per_group():
    layer = get_channel_layer()
    agent_channel, supervisor_channel = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("agent.7", agent_channel)
    await layer.group_add("supervisors", supervisor_channel)

    def offer_many():
        with transaction.atomic(), batched():
            for n in range(50):
                publish(Event(type="workitem.offered", data={"n": n}), groups=["agent.7"])
            publish(Event(type="queue.stats", data={"waiting": 0}), groups=["supervisors"])

    await sync_to_async(offer_many)()

    received = [(await layer.receive(agent_channel))["event"]["data"]["n"] for _ in range(50)]
    assert received == list(range(50))
    assert (await layer.receive(supervisor_channel))["event"]["data"] == {"waiting": 0}
    await layer.group_discard("agent.7", agent_channel)
    await layer.group_discard("supervisors", supervisor_channel)

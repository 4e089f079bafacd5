"""Real-time events of the channels app: what the web chat visitor and agents are told."""

from __future__ import annotations

from contactcenter.realtime import Event

#: Ephemeral (no id, never replayed): someone is typing in a conversation.
TYPING_STARTED = "typing.started"
#: Sent to a visitor's group when a conversation opens for them, so every tab joins it.
CONVERSATION_CREATED = "conversation.created"
MESSAGE_READ = "message.read"


def typing_started(*, conversation_id: int, sender_kind: str, sender_name: str = "") -> Event:
    return Event(
        type=TYPING_STARTED,
        data={"conversation_id": conversation_id, "sender_kind": sender_kind, "sender_name": sender_name},
    )


def visitor_conversation_created(*, conversation_id: int) -> Event:
    return Event(type=CONVERSATION_CREATED, data={"conversation_id": conversation_id})


def messages_read(*, conversation_id: int, up_to_id: int) -> Event:
    return Event(type=MESSAGE_READ, data={"conversation_id": conversation_id, "up_to_id": up_to_id})


MESSAGE_DELIVERY_CHANGED = "message.delivery_changed"


def message_delivery_changed(*, message) -> Event:
    return Event(
        type=MESSAGE_DELIVERY_CHANGED,
        data={
            "message_id": message.pk, "conversation_id": message.conversation_id,
            "delivery_status": message.delivery_status,
        },
    )

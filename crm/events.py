"""Real-time events of the CRM: their types, payloads and target groups."""

from __future__ import annotations

from contactcenter.realtime import Event, groups
from crm.models import Case, Conversation, Message

MESSAGE_CREATED = "message.created"
CONVERSATION_CREATED = "conversation.created"
CONVERSATION_STATUS_CHANGED = "conversation.status_changed"
CASE_CREATED = "case.created"
CASE_RESOLVED = "case.resolved"


def conversation_groups(conversation: Conversation) -> list[str]:
    """Everyone who follows a conversation: its room, its agent, its queue, supervisors."""
    targets = [groups.conversation(conversation.pk), groups.supervisors()]
    if conversation.assigned_agent_id:
        targets.append(groups.agent(conversation.assigned_agent_id))
    if conversation.queue_id:
        targets.append(groups.queue(conversation.queue_id))
    return targets


def message_created(message: Message) -> Event:
    return Event(
        type=MESSAGE_CREATED,
        id=message.pk,
        ts=message.created_at,
        data={
            "message_id": message.pk,
            "conversation_id": message.conversation_id,
            "direction": message.direction,
            "sender_kind": message.sender_kind,
        },
    )


def conversation_created(conversation: Conversation) -> Event:
    return Event(
        type=CONVERSATION_CREATED,
        data={"conversation_id": conversation.pk, "channel_kind": conversation.channel_kind},
    )


def conversation_status_changed(conversation: Conversation, *, previous: str) -> Event:
    return Event(
        type=CONVERSATION_STATUS_CHANGED,
        data={"conversation_id": conversation.pk, "status": conversation.status, "previous": previous},
    )


def case_event(case: Case, *, type: str) -> Event:
    return Event(type=type, data={"case_id": case.pk, "number": case.number, "status": case.status})


def case_groups(case: Case) -> list[str]:
    targets = [groups.supervisors()]
    if case.owner_id:
        targets.append(groups.agent(case.owner_id))
    return targets


CASE_UPDATED = "case.updated"
NOTIFICATION_CREATED = "notification.created"
DISCUSSION_POSTED = "discussion.posted"


def notification_created(notification) -> Event:
    return Event(
        type=NOTIFICATION_CREATED,
        data={
            "notification_id": notification.pk,
            "kind": notification.kind,
            "case_id": notification.case_id,
            "text": notification.text,
        },
    )


def discussion_posted(post, *, case: Case) -> Event:
    return Event(type=DISCUSSION_POSTED, data={"post_id": post.pk, "case_id": case.pk})


def discussion_groups(discussion) -> list[str]:
    return [groups.agent(user_id) for user_id in discussion.participants.values_list("pk", flat=True)]


CONVERSATION_ASSIGNED = "conversation.assigned"


def conversation_assigned(conversation: Conversation, *, previous_agent_id: int | None) -> Event:
    return Event(
        type=CONVERSATION_ASSIGNED,
        data={
            "conversation_id": conversation.pk,
            "agent_id": conversation.assigned_agent_id,
            "previous_agent_id": previous_agent_id,
            "queue_id": conversation.queue_id,
            "status": conversation.status,
        },
    )

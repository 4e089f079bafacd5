"""Real-time events of routing: their types, payloads and target groups."""

from __future__ import annotations

from contactcenter.realtime import Event, groups

WORKITEM_OFFERED = "workitem.offered"
WORKITEM_OFFER_ENDED = "workitem.offer_ended"
WORKITEM_FLAGGED = "workitem.flagged"
AGENT_PRESENCE_CHANGED = "agent.presence_changed"
QUEUE_STATS = "queue.stats"
CONSULT_REQUESTED = "consult.requested"


def workitem_offered(item, *, auto_accept: bool) -> Event:
    conversation = item.conversation
    return Event(
        type=WORKITEM_OFFERED,
        data={
            "workitem_id": item.pk,
            "conversation_id": item.conversation_id,
            "queue_id": item.queue_id,
            "queue_name": item.queue.name,
            "channel_kind": conversation.channel_kind,
            "subject": conversation.subject,
            "priority": item.priority,
            "sentiment": item.sentiment,
            "expires_at": item.offer_expires_at.isoformat() if item.offer_expires_at else None,
            "timeout_seconds": item.work_stream.offer_timeout_seconds,
            "auto_accept": auto_accept,
        },
    )


def workitem_offer_ended(item, *, agent_id: int, outcome: str) -> Event:
    return Event(
        type=WORKITEM_OFFER_ENDED,
        data={"workitem_id": item.pk, "conversation_id": item.conversation_id, "agent_id": agent_id, "outcome": outcome},
    )


def workitem_flagged(item) -> Event:
    return Event(
        type=WORKITEM_FLAGGED,
        data={"workitem_id": item.pk, "conversation_id": item.conversation_id, "queue_id": item.queue_id,
              "decline_count": item.decline_count},
    )


def agent_presence_changed(profile) -> Event:
    return Event(
        type=AGENT_PRESENCE_CHANGED,
        data={
            "agent_id": profile.user_id,
            "presence_id": profile.presence_id,
            "presence": profile.presence.name,
            "base": profile.presence.base,
            "manual": profile.presence_manual,
        },
    )


def queue_stats(stats: dict) -> Event:
    return Event(type=QUEUE_STATS, data=stats)


def consult_requested(item, *, consultant_id: int, requested_by_id: int) -> Event:
    return Event(
        type=CONSULT_REQUESTED,
        data={"workitem_id": item.pk, "conversation_id": item.conversation_id, "agent_id": consultant_id,
              "requested_by": requested_by_id},
    )


def agent_groups(agent_id: int) -> list[str]:
    return [groups.agent(agent_id), groups.supervisors()]


def queue_groups(queue_id: int) -> list[str]:
    return [groups.queue(queue_id), groups.supervisors()]

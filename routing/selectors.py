"""Routing reads, restricted to what the acting user may see.

Supervisors see every work item; agents see items offered or assigned to
them and items waiting in the queues they belong to.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count, Min, Prefetch, Q, QuerySet
from django.utils import timezone

from contactcenter.permissions import is_staff_member, is_supervisor
from routing.choices import ParticipantRole, WorkItemStatus
from routing.models import (
    AgentProfile,
    AgentShift,
    ConversationSession,
    Participant,
    Presence,
    Queue,
    RoutingDiagnostic,
    WorkItem,
)


def workitems_visible_to(user) -> QuerySet[WorkItem]:
    qs = WorkItem.objects.select_related("queue", "work_stream", "agent", "conversation__contact")
    if is_supervisor(user):
        return qs
    if not is_staff_member(user):
        return qs.none()
    return qs.filter(Q(agent=user) | Q(status=WorkItemStatus.QUEUED, queue__in=user.queues.values("pk")))


def workitems_pickable(*, user) -> QuerySet[WorkItem]:
    """Open work items an agent may pick: queued in their queues, oldest first within priority."""
    return (
        workitems_visible_to(user)
        .filter(status=WorkItemStatus.QUEUED, queue__in=user.queues.values("pk"))
        .order_by("queue__priority", "priority", "order_at")
    )


def diagnostics_for(*, user, workitem_id: int) -> list[RoutingDiagnostic]:
    if not workitems_visible_to(user).filter(pk=workitem_id).exists():
        return []
    return list(RoutingDiagnostic.objects.filter(workitem_id=workitem_id).order_by("created_at", "id"))


def _sessions(qs: QuerySet[ConversationSession]) -> list[ConversationSession]:
    return list(
        qs.select_related("queue", "agent")
        .prefetch_related(Prefetch("participants", queryset=Participant.objects.select_related("agent")))
        .order_by("started_at", "id")
    )


def sessions_of(conversation) -> list[ConversationSession]:
    """A conversation's sessions in order (E.69), with queue, primary agent and participants loaded."""
    return _sessions(ConversationSession.objects.filter(conversation=conversation))


def sessions_for(*, user, workitem_id: int) -> list[ConversationSession]:
    """The sessions of a work item the user may see (none otherwise)."""
    if not workitems_visible_to(user).filter(pk=workitem_id).exists():
        return []
    return _sessions(ConversationSession.objects.filter(workitem_id=workitem_id))


def queue_stats(*, queue_ids: list[int] | None = None) -> list[dict]:
    """Per queue: items queued/offered/assigned, flagged, longest wait (s) and staffed agents. Two queries."""
    queues = Queue.objects.all() if queue_ids is None else Queue.objects.filter(pk__in=queue_ids)
    now = timezone.now()
    counts = {
        row["queue_id"]: row
        for row in WorkItem.objects.filter(
            queue__in=queues, status__in=[WorkItemStatus.QUEUED, WorkItemStatus.OFFERED, WorkItemStatus.ASSIGNED]
        )
        .values("queue_id")
        .annotate(
            queued=Count("pk", filter=Q(status=WorkItemStatus.QUEUED)),
            offered=Count("pk", filter=Q(status=WorkItemStatus.OFFERED)),
            assigned=Count("pk", filter=Q(status=WorkItemStatus.ASSIGNED)),
            flagged=Count("pk", filter=Q(flagged=True)),
            oldest=Min("queued_at", filter=Q(status=WorkItemStatus.QUEUED)),
        )
    }
    result = []
    for queue in queues.annotate(
        staffed=Count("members__routing_profile", filter=Q(
            members__routing_profile__presence__base__in=["available", "busy", "dnd"]
        ))
    ).order_by("priority", "name"):
        row = counts.get(queue.pk, {})
        oldest = row.get("oldest")
        result.append({
            "queue_id": queue.pk,
            "name": queue.name,
            "queued": row.get("queued", 0),
            "offered": row.get("offered", 0),
            "assigned": row.get("assigned", 0),
            "flagged": row.get("flagged", 0),
            "longest_wait_seconds": int((now - oldest).total_seconds()) if oldest else 0,
            "staffed_agents": queue.staffed,
        })
    return result


def agent_profiles_visible_to(user) -> QuerySet[AgentProfile]:
    qs = AgentProfile.objects.select_related("user", "presence")
    if is_supervisor(user):
        return qs
    if not is_staff_member(user):
        return qs.none()
    return qs.filter(user=user)


def shifts_visible_to(user) -> QuerySet[AgentShift]:
    """Supervisors see every agent's shift calendar; an agent sees their own."""
    qs = AgentShift.objects.select_related("agent")
    if is_supervisor(user):
        return qs
    if not is_staff_member(user):
        return qs.none()
    return qs.filter(agent=user)


def agent_status_for(*, user) -> dict:
    """The top bar's data: the profile (presence, load; None before routing first saw the user)
    and the selectable presences. Two queries."""
    profile = AgentProfile.objects.select_related("presence").filter(user=user).first()
    presences = list(Presence.objects.filter(selectable=True).order_by("-is_builtin", "base", "name"))
    return {"profile": profile, "presences": presences}


def offers_pending_for(*, user) -> list[WorkItem]:
    """Items currently offered to the user (the offer dialogs), oldest first."""
    return list(
        WorkItem.objects.select_related("queue", "work_stream", "conversation__contact")
        .filter(agent=user, status=WorkItemStatus.OFFERED)
        .order_by("offered_at", "id")[:10]
    )


def offer_pending_get(*, user, workitem_id: int) -> WorkItem | None:
    """The item if it is offered to ``user`` right now; None otherwise (also for anyone else's offer)."""
    return (
        WorkItem.objects.select_related("queue", "conversation__contact", "work_stream")
        .filter(pk=workitem_id, agent=user, status=WorkItemStatus.OFFERED)
        .first()
    )


def transfer_targets_for(*, user, conversation) -> dict:
    """Queues of the same kind and colleagues (other staff with a routing profile) to transfer or consult to."""
    item = WorkItem.objects.select_related("queue", "work_stream", "conversation").filter(
        conversation=conversation, status__in=[WorkItemStatus.QUEUED, WorkItemStatus.OFFERED, WorkItemStatus.ASSIGNED]
    ).first()
    if item is None:
        return {"workitem": None, "queues": [], "agents": []}
    queues = list(Queue.objects.filter(is_active=True, kind=item.queue.kind).order_by("priority", "name"))
    agents = list(
        get_user_model().objects.filter(is_active=True, routing_profile__isnull=False)
        .exclude(pk=user.pk).select_related("routing_profile__presence").order_by("username")[:200]
    )
    return {"workitem": item, "queues": queues, "agents": agents}


def consults_for(*, user) -> list:
    """Open consult invitations for ``user`` (side chats that hold no capacity) they have not left."""
    return list(
        Participant.objects.select_related("workitem__conversation__contact", "invited_by")
        .filter(agent=user, role=ParticipantRole.CONSULT, workitem__status=WorkItemStatus.ASSIGNED,
                left_at__isnull=True)
        .order_by("-id")[:10]
    )


def consult_get(*, user, conversation_id: int):
    """The user's consult participation in an open conversation they have not left, or None."""
    return (
        Participant.objects.select_related("workitem__conversation__contact", "invited_by")
        .filter(agent=user, role=ParticipantRole.CONSULT, workitem__conversation_id=conversation_id,
                workitem__status=WorkItemStatus.ASSIGNED, left_at__isnull=True)
        .order_by("-id").first()
    )

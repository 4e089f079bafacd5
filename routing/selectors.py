"""Routing reads, restricted to what the acting user may see.

Supervisors see every work item; agents see items offered or assigned to
them and items waiting in the queues they belong to.
"""

from __future__ import annotations

from django.db.models import Count, Min, Q, QuerySet
from django.utils import timezone

from contactcenter.permissions import is_staff_member, is_supervisor
from routing.choices import WorkItemStatus
from routing.models import AgentProfile, Queue, RoutingDiagnostic, WorkItem


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

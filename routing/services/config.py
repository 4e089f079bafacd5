"""Configuration changes that routing must react to (B.15: an agent joining a queue runs a cycle;
E.58: operating hours bring their locked out-of-hours pair)."""

from __future__ import annotations

from django.db import transaction

from routing.choices import OverflowAction, OverflowCondition, OverflowStage
from routing.models import OperatingHours, OverflowRule, Queue
from routing.services.engine import assignment_run
from routing.services.presence import agent_profile_ensure


def queue_member_add(*, queue: Queue, agent) -> None:
    """Add an agent to a queue (at the end of its round-robin order) and run a cycle for it.

    Side effects: the membership row; an AgentProfile if the agent had none; what ``assignment_run`` does.
    """
    with transaction.atomic():
        agent_profile_ensure(agent=agent)
        queue.members.add(agent)
    assignment_run(queue_ids=[queue.pk])


def queue_member_remove(*, queue: Queue, agent) -> None:
    """Remove an agent from a queue; work they already hold stays with them."""
    queue.members.remove(agent)


def queue_save(*, queue: Queue) -> Queue:
    """Save a queue's configuration (admin, API, demo data): a queue with operating hours gets its
    locked out-of-hours pair, one without loses it (E.58).

    Side effects: the Queue row; that OverflowRule created or deleted.
    """
    with transaction.atomic():
        queue.save()
        queue_hours_pair_sync(queue=queue)
    return queue


def queue_hours_pair_sync(*, queue: Queue) -> OverflowRule | None:
    """Give a queue with operating hours its locked "out of operating hours" pre-queue pair (E.58); take it
    away when the queue has none. Returns the pair, or None.

    ``queue_save`` calls it, and the admin again once a queue's inline pairs are
    saved (an edited inline row must not bring back a pair the hours no longer
    call for). An out-of-hours pair the queue already has is kept with its
    action; a new one assigns anyway.
    Rule-specific pairs (``OverflowRule.route_rule``) are not touched.
    Side effects: creates or deletes that OverflowRule row.
    """
    pair = {"queue": queue, "stage": OverflowStage.PRE_QUEUE, "condition": OverflowCondition.OUT_OF_HOURS}
    if queue.operating_hours_id is None:
        OverflowRule.objects.filter(**pair).delete()
        return None
    return OverflowRule.objects.get_or_create(**pair, defaults={"action": OverflowAction.ASSIGN_ANYWAY})[0]


def operating_hours_delete(*, hours: OperatingHours) -> None:
    """Delete a calendar: its queues become open 24×7 and lose their out-of-hours pair (E.58).

    Side effects: each queue's ``operating_hours`` cleared through ``queue_save``
    (which removes the pair); the OperatingHours and its holidays deleted.
    """
    with transaction.atomic():
        for queue in hours.queues.all():
            queue.operating_hours = None
            queue_save(queue=queue)
        hours.delete()

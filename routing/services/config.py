"""Configuration changes that routing must react to (B.15: an agent joining a queue runs a cycle)."""

from __future__ import annotations

from django.db import transaction

from routing.models import Queue
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

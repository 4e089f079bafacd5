"""Prioritization rulesets of custom-method queues (B.24, A.11).

A queue with the custom assignment method may order its waiting items in
buckets: an item lands in the first rule whose conditions hold and is sorted
within that bucket by the rule's order-by; items no rule takes form a last
bucket, oldest first. Affinity items still go first (B.19). Buckets are worked
out again every cycle from the items' current data, so raising a case's
priority moves its item at the next cycle.

Only the ``WINDOW`` longest-waiting items of a queue are ranked in a cycle;
the top N of them (B.16) are then locked for assignment.
"""

from __future__ import annotations

import math

from crm.choices import CasePriority
from routing import conditions
from routing.choices import AssignmentMethod, PrioritizationOrder
from routing.models import PrioritizationRule, Queue, WorkItem
from routing.services.cache import cached

WINDOW = 2000
UNMATCHED = "no prioritization rule matched"


def prioritization_rules(queue: Queue) -> list[PrioritizationRule]:
    """The queue's prioritization rules in order; none unless it uses the custom method."""
    if queue.assignment_method != AssignmentMethod.CUSTOM:
        return []
    return cached(("prioritization", queue.pk), lambda: list(queue.prioritization_rules.order_by("order", "id")))


def workitem_facts(item: WorkItem) -> dict:
    """What prioritization conditions read: the item's own fields and its records."""
    conversation = item.conversation
    contact = conversation.contact
    return {
        "channel": conversation.channel_kind,
        "subject": conversation.subject,
        "priority": item.priority,
        "sentiment": item.sentiment,
        "effort_minutes": item.effort_minutes,
        "context": conversation.context or {},
        "output": (item.attributes or {}).get("outputs", {}),
        "contact": contact,
        "account": contact.account if contact else None,
        "case": item.case,
    }


def _bucket_key(order_by: str, item: WorkItem) -> tuple:
    fifo = (item.order_at, item.pk)
    if order_by == PrioritizationOrder.PRIORITY:
        return (item.priority, *fifo)
    if order_by == PrioritizationOrder.CASE_PRIORITY:
        return (item.case.priority if item.case else CasePriority.LOW + 1, *fifo)
    if order_by == PrioritizationOrder.SENTIMENT:
        return (item.sentiment if item.sentiment is not None else 0, *fifo)
    if order_by == PrioritizationOrder.EFFORT:
        return (item.effort_minutes if item.effort_minutes is not None else math.inf, *fifo)
    return fifo


def prioritized(items: list[WorkItem], rules: list[PrioritizationRule]) -> list[tuple[WorkItem, str]]:
    """``items`` in prioritization order, each with the name of the bucket it landed in."""
    ranked: list[tuple[tuple, WorkItem, str]] = []
    for item in items:
        if item.affinity_agent_id:
            ranked.append(((0, 0, item.order_at, item.pk), item, "affinity"))
            continue
        facts = workitem_facts(item)
        for index, rule in enumerate(rules):
            if conditions.matches(rule.conditions, facts):
                ranked.append(((1, index, *_bucket_key(rule.order_by, item)), item, rule.name))
                break
        else:
            ranked.append(((1, len(rules), item.order_at, item.pk), item, UNMATCHED))
    ranked.sort(key=lambda entry: entry[0])
    return [(item, bucket) for _key, item, bucket in ranked]

"""Prioritization rulesets of custom queues (B.24, A.11) and the per-cycle item limit (B.16)."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from crm import services as crm_services
from crm.choices import CasePriority, ChannelKind
from routing import services
from routing.choices import (
    AssignmentMethod,
    BasePresence,
    DiagnosticStage,
    OrderBy,
    PrioritizationOrder,
    QueueKind,
    WorkItemStatus,
)
from routing.models import AgentProfile, AssignmentRule, PrioritizationRule, RoutingDiagnostic, WorkItem
from routing.tests import factories as f

pytestmark = pytest.mark.django_db


def custom_queue(name, *, members, priority=10):
    queue = f.queue(name, members=members, priority=priority, assignment_method=AssignmentMethod.CUSTOM)
    AssignmentRule.objects.create(queue=queue, name="Anyone with room", order_by=OrderBy.ROUND_ROBIN,
                                  conditions=[{"field": "capacity", "op": "available"}])
    return queue


def waiting(body="Hello", **kw) -> WorkItem:
    return services.conversation_enqueue(conversation=f.inbound(body, **kw))


def come_online(agent) -> list[tuple[int, str]]:
    """Make ``agent`` Available and return, in the order served, (work item id, bucket) of what they got."""
    AgentProfile.objects.filter(user=agent).update(presence=f.presence_builtin(BasePresence.AVAILABLE))
    services.assignment_run()
    served = RoutingDiagnostic.objects.filter(stage=DiagnosticStage.ASSIGNMENT, detail__agent=agent.pk).order_by("id")
    return [(d.workitem_id, d.detail.get("bucket")) for d in served]


def test_b24_items_land_in_the_first_matching_bucket_and_unmatched_items_come_last_oldest_first():
    alice = f.agent("alice", capacity=10, presence=BasePresence.OFFLINE)
    queue = custom_queue("Support", members=[alice])
    f.stream(fallback=queue)
    PrioritizationRule.objects.create(queue=queue, name="VIP", order=1,
                                      conditions=[{"field": "contact.is_vip", "op": "eq", "value": True}])
    PrioritizationRule.objects.create(queue=queue, name="Unhappy", order=2, order_by=PrioritizationOrder.SENTIMENT,
                                      conditions=[{"field": "sentiment", "op": "lt", "value": 0}])
    plain_old, annoyed, vip, furious, plain_new = (waiting(f"message {n}") for n in range(5))
    WorkItem.objects.filter(pk=annoyed.pk).update(sentiment=-1)
    WorkItem.objects.filter(pk=furious.pk).update(sentiment=-3)
    vip.conversation.contact.__class__.objects.filter(pk=vip.conversation.contact_id).update(is_vip=True)

    assert come_online(alice) == [
        (vip.pk, "VIP"),
        (furious.pk, "Unhappy"),  # sorted by sentiment within the bucket, though it came later
        (annoyed.pk, "Unhappy"),
        (plain_old.pk, "no prioritization rule matched"),
        (plain_new.pk, "no prioritization rule matched"),
    ]


def test_b24_raising_a_case_priority_moves_its_item_at_the_next_cycle():
    alice = f.agent("alice", capacity=1, presence=BasePresence.OFFLINE)
    supervisor = get_user_model().objects.create_user("sam")
    queue = custom_queue("Cases", members=[alice])
    f.stream(fallback=queue)
    PrioritizationRule.objects.create(queue=queue, name="High-priority cases", order_by=PrioritizationOrder.OLDEST,
                                      conditions=[{"field": "case.priority", "op": "eq", "value": CasePriority.HIGH}])
    older, newer = f.inbound("first"), f.inbound("second")
    cases = [crm_services.case_open_from_conversation(conversation=c, actor=supervisor) for c in (older, newer)]
    for conversation in (older, newer):
        services.conversation_enqueue(conversation=conversation)
    crm_services.case_update(case=cases[1], actor=supervisor, priority=CasePriority.HIGH)

    [(served, bucket)] = come_online(alice)

    assert served == WorkItem.objects.get(conversation=newer).pk and bucket == "High-priority cases"
    assert WorkItem.objects.get(conversation=older).status == WorkItemStatus.QUEUED


def test_a11_prioritized_queues_of_equal_priority_are_served_by_name():
    alice = f.agent("alice", capacity=1, presence=BasePresence.OFFLINE)
    zulu, alpha = custom_queue("Zulu", members=[alice]), custom_queue("Alpha", members=[alice])
    for queue in (zulu, alpha):
        PrioritizationRule.objects.create(queue=queue, name="Everything", order_by=PrioritizationOrder.OLDEST)
    f.stream(fallback=zulu)
    f.stream(channel=ChannelKind.SMS, fallback=alpha)
    waiting("older, in Zulu")
    in_alpha = waiting("newer, in Alpha", channel=ChannelKind.SMS)

    assert come_online(alice) == [(in_alpha.pk, "Everything")]


def test_b19_affinity_items_bypass_prioritization():
    alice = f.agent("alice", capacity=1, presence=BasePresence.OFFLINE)
    queue = custom_queue("Support", members=[alice])
    f.stream(fallback=queue)
    PrioritizationRule.objects.create(queue=queue, name="Urgent", order_by=PrioritizationOrder.PRIORITY,
                                      conditions=[{"field": "priority", "op": "lte", "value": 10}])
    waiting("urgent and old")
    returning = waiting("returning customer")
    WorkItem.objects.filter(pk=returning.pk).update(affinity_agent=alice)

    assert come_online(alice) == [(returning.pk, "affinity")]


def test_b16_a_cycle_serves_at_most_n_items_of_a_record_queue(settings):
    settings.ROUTING_RECORD_ITEMS_PER_CYCLE = 2
    alice = f.agent("alice", capacity=10, presence=BasePresence.OFFLINE)
    f.stream(channel=ChannelKind.EMAIL, kind=QueueKind.RECORD,
             fallback=f.queue("Cases", kind=QueueKind.RECORD, members=[alice]))
    items = [waiting(f"case {n}", channel=ChannelKind.EMAIL, address=f"c{n}@example.com") for n in range(3)]

    assert [pk for pk, _bucket in come_online(alice)] == [items[0].pk, items[1].pk]
    services.assignment_run()  # the rest waits for the next cycle
    assert WorkItem.objects.get(pk=items[2].pk).status == WorkItemStatus.OFFERED


def test_prioritization_rules_are_validated_through_the_api(supervisor):
    api = APIClient()
    api.force_authenticate(supervisor)
    fifo = f.queue("Plain")
    custom = custom_queue("Custom", members=[])
    url = "/api/v1/routing/prioritization-rules/"

    not_custom = api.post(url, {"queue": fifo.pk, "name": "VIP"}, format="json")
    reads_text = api.post(url, {"queue": custom.pk, "name": "Angry", "conditions": [
        {"field": "text", "op": "contains", "value": "angry"}]}, format="json")
    created = api.post(url, {"queue": custom.pk, "name": "VIP", "order_by": "sentiment", "conditions": [
        {"field": "contact.is_vip", "op": "eq", "value": True}]}, format="json")

    assert not_custom.status_code == 400 and "queue" in not_custom.json()["error"]["fields"]
    assert reads_text.status_code == 400 and "conditions" in reads_text.json()["error"]["fields"]
    assert created.status_code == 201, created.content
    assert PrioritizationRule.objects.get().order_by == PrioritizationOrder.SENTIMENT

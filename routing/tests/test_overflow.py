"""Rule-specific overflow (E.59), re-evaluation after a transfer (E.61) and batched in-queue overflow (E.62)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from crm.choices import ConversationStatus
from routing import services
from routing.choices import OverflowAction, OverflowCondition, OverflowStage, QueueKind, WorkItemStatus
from routing.models import OperatingHours, OverflowRule, RouteRule, WorkItem
from routing.services import cache
from routing.services.sweep import OVERFLOW_BATCH_SIZE
from routing.tests import factories as f

pytestmark = pytest.mark.django_db
PREMIUM = [{"field": "context.plan", "op": "eq", "value": "premium"}]


def premium(body="hello"):
    return f.inbound(body, context={"plan": "premium"})


def in_queue(owner, *, threshold, action, target=None):
    field = "route_rule" if isinstance(owner, RouteRule) else "queue"
    return OverflowRule.objects.create(
        **{field: owner}, stage=OverflowStage.IN_QUEUE, condition=OverflowCondition.WAIT_EXCEEDS,
        threshold=threshold, action=action, target_queue=target,
    )


def test_e59_rule_specific_overflow_replaces_queue_overflow():
    main = f.queue("Main")
    OverflowRule.objects.create(queue=main, condition=OverflowCondition.ITEM_LIMIT, threshold=1,
                                action=OverflowAction.END, message="We're very busy.")
    stream = f.stream(fallback=f.queue("Fallback"))
    vip = RouteRule.objects.create(work_stream=stream, name="Premium", order=1, queue=main, conditions=PREMIUM)
    RouteRule.objects.create(work_stream=stream, name="Everyone", order=2, queue=main)
    OverflowRule.objects.create(route_rule=vip, condition=OverflowCondition.ITEM_LIMIT, threshold=3,
                                action=OverflowAction.END, message="Premium line is full.")

    first = services.conversation_enqueue(conversation=f.inbound("one"))
    plain = services.conversation_enqueue(conversation=f.inbound("two"))
    second_vip = services.conversation_enqueue(conversation=premium())
    third_vip = services.conversation_enqueue(conversation=premium())
    fourth_vip = services.conversation_enqueue(conversation=premium())

    assert first.status == WorkItemStatus.QUEUED and first.route_rule.name == "Everyone"
    assert plain.status == WorkItemStatus.ABANDONED  # the queue's limit of 1
    assert second_vip.status == third_vip.status == WorkItemStatus.QUEUED  # the rule's limit of 3 instead
    assert second_vip.queue == main and second_vip.route_rule == vip
    assert fourth_vip.status == WorkItemStatus.ABANDONED
    assert fourth_vip.conversation.messages.filter(body="Premium line is full.").exists()
    route = second_vip.diagnostics.get(stage="route_to_queue").detail
    assert route["matched"][0]["overflow_pairs"] == {"route_rule": vip.pk}
    assert plain.diagnostics.get(stage="route_to_queue").detail["matched"][0]["overflow_pairs"] == {"queue": main.pk}
    assert fourth_vip.diagnostics.get(stage="overflow").detail["overflow_pairs"] == {"route_rule": vip.pk}
    assert plain.diagnostics.get(stage="overflow").detail["overflow_pairs"] == {"queue": main.pk}


def test_e55_rule_specific_pre_queue_check_runs_once_and_a_transfer_drops_the_rule():
    after_hours = f.queue("After hours")
    main = f.queue("Main", operating_hours=OperatingHours.objects.create(name="Never", weekly={}))
    stream = f.stream(fallback=f.queue("Fallback"))
    vip = RouteRule.objects.create(work_stream=stream, name="Premium", queue=main, conditions=PREMIUM)
    OverflowRule.objects.create(route_rule=vip, condition=OverflowCondition.OUT_OF_HOURS,
                                action=OverflowAction.TRANSFER_QUEUE, target_queue=after_hours)
    conversation = premium()

    item = services.conversation_enqueue(conversation=conversation)
    again = services.conversation_enqueue(conversation=conversation)

    assert item.pk == again.pk and item.queue == after_hours
    assert item.diagnostics.filter(stage="overflow").count() == 1
    assert item.route_rule is None  # moved by overflow: After hours' own pairs apply from now on


def test_a8_fallback_items_get_no_route_rule_and_no_overflow():
    closed = OperatingHours.objects.create(name="Never", weekly={})
    fallback = f.queue("Fallback", operating_hours=closed)
    OverflowRule.objects.filter(queue=fallback, condition=OverflowCondition.OUT_OF_HOURS).update(
        action=OverflowAction.END)  # E.58: the pair came with the hours
    stream = f.stream(fallback=fallback)
    vip = RouteRule.objects.create(work_stream=stream, name="Premium", queue=f.queue("Main"), conditions=PREMIUM)
    OverflowRule.objects.create(route_rule=vip, condition=OverflowCondition.ITEM_LIMIT, threshold=1,
                                action=OverflowAction.END)

    item = services.conversation_enqueue(conversation=f.inbound("no plan"))

    assert item.queue == fallback and item.status == WorkItemStatus.QUEUED and item.route_rule is None
    assert not item.diagnostics.filter(stage="overflow").exists()


def test_e59_in_queue_overflow_uses_the_rule_pairs_while_the_item_stays_in_its_queue():
    main, backup, vip_backup = f.queue("Main"), f.queue("Backup"), f.queue("VIP backup")
    in_queue(main, threshold=300, action=OverflowAction.TRANSFER_QUEUE, target=backup)
    stream = f.stream(fallback=f.queue("Fallback"))
    vip = RouteRule.objects.create(work_stream=stream, name="Premium", order=1, queue=main, conditions=PREMIUM)
    RouteRule.objects.create(work_stream=stream, name="Everyone", order=2, queue=main)
    rule_pair = in_queue(vip, threshold=120, action=OverflowAction.TRANSFER_QUEUE, target=vip_backup)
    vip_item = services.conversation_enqueue(conversation=premium())
    plain_item = services.conversation_enqueue(conversation=f.inbound("hi"))

    report = services.routing_sweep(now=timezone.now() + timedelta(seconds=130))
    vip_item.refresh_from_db()
    plain_item.refresh_from_db()
    assert report.overflowed == 1
    assert vip_item.queue == vip_backup and vip_item.route_rule is None
    assert plain_item.queue == main
    assert vip_item.diagnostics.get(stage="overflow").detail == {
        "rule": rule_pair.pk, "overflow_pairs": {"route_rule": vip.pk}}

    services.routing_sweep(now=timezone.now() + timedelta(seconds=301))
    vip_item.refresh_from_db()
    plain_item.refresh_from_db()
    assert plain_item.queue == backup
    assert vip_item.queue == vip_backup  # VIP backup has no pairs of its own: it stays


def test_e61_after_a_transfer_the_new_queue_pairs_apply(supervisor):
    main, other, backup = f.queue("Main"), f.queue("Other"), f.queue("Backup")
    in_queue(other, threshold=600, action=OverflowAction.TRANSFER_QUEUE, target=backup)
    stream = f.stream(fallback=f.queue("Fallback"))
    vip = RouteRule.objects.create(work_stream=stream, name="Premium", queue=main, conditions=PREMIUM)
    in_queue(vip, threshold=120, action=OverflowAction.END)
    item = services.conversation_enqueue(conversation=premium())
    assert item.route_rule == vip

    services.conversation_transfer(conversation=item.conversation, actor=supervisor, to_queue=other)
    services.routing_sweep(now=timezone.now() + timedelta(seconds=130))
    item.refresh_from_db()
    assert item.status == WorkItemStatus.QUEUED and item.queue == other and item.route_rule is None

    services.routing_sweep(now=timezone.now() + timedelta(seconds=601))
    item.refresh_from_db()
    assert item.queue == backup
    assert item.conversation.status == ConversationStatus.OPEN


def test_e59_changed_rule_pairs_take_effect_when_the_configuration_cache_expires(monkeypatch):
    main = f.queue("Main")
    stream = f.stream(fallback=f.queue("Fallback"))
    vip = RouteRule.objects.create(work_stream=stream, name="Premium", queue=main, conditions=PREMIUM)
    assert services.conversation_enqueue(conversation=premium()).status == WorkItemStatus.QUEUED
    OverflowRule.objects.create(route_rule=vip, condition=OverflowCondition.ITEM_LIMIT, threshold=1,
                                action=OverflowAction.END)
    later = cache.time.monotonic() + settings.ROUTING_CONFIG_CACHE_SECONDS + 1
    monkeypatch.setattr(cache.time, "monotonic", lambda: later)

    item = services.conversation_enqueue(conversation=premium())

    assert item.status == WorkItemStatus.ABANDONED
    assert item.diagnostics.get(stage="overflow").detail["overflow_pairs"] == {"route_rule": vip.pk}


def test_e59_rule_specific_pairs_are_validated_like_queue_pairs():
    messaging, voice_queue = f.queue(), f.queue(kind=QueueKind.VOICE)
    stream = f.stream()
    rule = RouteRule.objects.create(work_stream=stream, name="Any", queue=messaging)
    with pytest.raises(ValidationError) as both:
        OverflowRule(queue=messaging, route_rule=rule, condition=OverflowCondition.ITEM_LIMIT, threshold=5,
                     action=OverflowAction.END).full_clean()
    assert "route_rule" in both.value.message_dict
    with pytest.raises(ValidationError) as neither:
        OverflowRule(condition=OverflowCondition.ITEM_LIMIT, threshold=5, action=OverflowAction.END).full_clean()
    assert "route_rule" in neither.value.message_dict
    with pytest.raises(ValidationError) as action:
        OverflowRule(route_rule=rule, condition=OverflowCondition.OUT_OF_HOURS,
                     action=OverflowAction.VOICEMAIL).full_clean()  # E.57: not a messaging action
    assert "action" in action.value.message_dict
    with pytest.raises(ValidationError) as wait:
        OverflowRule(route_rule=rule, stage=OverflowStage.IN_QUEUE, condition=OverflowCondition.WAIT_EXCEEDS,
                     threshold=30, action=OverflowAction.END).full_clean()  # E.61: messaging 1 min .. 2 days
    assert "threshold" in wait.value.message_dict
    with pytest.raises(ValidationError) as target:
        OverflowRule(route_rule=rule, condition=OverflowCondition.ITEM_LIMIT, threshold=5,
                     action=OverflowAction.TRANSFER_QUEUE, target_queue=voice_queue).full_clean()
    assert "target_queue" in target.value.message_dict
    OverflowRule(route_rule=rule, stage=OverflowStage.IN_QUEUE, condition=OverflowCondition.WAIT_EXCEEDS,
                 threshold=120, action=OverflowAction.END).full_clean()


def test_e59_api_creates_reads_and_updates_rule_specific_overflow(supervisor):
    api = APIClient()
    api.force_authenticate(supervisor)
    base = "/api/v1/routing/overflow-rules/"
    main = f.queue("Main")
    rule = RouteRule.objects.create(work_stream=f.stream(), name="Premium", queue=main)
    OverflowRule.objects.create(queue=main, condition=OverflowCondition.ITEM_LIMIT, threshold=5,
                                action=OverflowAction.END)

    created = api.post(base, {"route_rule": rule.pk, "stage": "pre_queue", "condition": "item_limit",
                              "threshold": 10, "action": "end", "message": "Full"}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["route_rule"] == rule.pk and created.json()["queue"] is None
    listed = api.get(base, {"route_rule": rule.pk}).json()
    assert [r["id"] for r in listed["results"]] == [created.json()["id"]]
    changed = api.patch(f"{base}{created.json()['id']}/", {"threshold": 20}, format="json")
    assert changed.status_code == 200 and changed.json()["threshold"] == 20

    both = api.post(base, {"queue": main.pk, "route_rule": rule.pk, "condition": "item_limit", "threshold": 5,
                           "action": "end"}, format="json")
    assert both.status_code == 400 and "route_rule" in both.json()["error"]["fields"]
    too_high = api.patch(f"{base}{created.json()['id']}/", {"threshold": 101}, format="json")
    assert too_high.status_code == 400 and "threshold" in too_high.json()["error"]["fields"]


def test_e59_admin_edits_rule_specific_overflow_inline(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    main = f.queue("Main")
    stream = f.stream()
    rule = RouteRule.objects.create(work_stream=stream, name="Premium", queue=main)
    url = reverse("admin:routing_routerule_change", args=[rule.pk])
    assert client.get(url).status_code == 200
    form = {
        "work_stream": stream.pk, "name": "Premium", "order": 0, "conditions": "[]", "queue": main.pk, "split": "[]",
        "overflow_rules-TOTAL_FORMS": 1, "overflow_rules-INITIAL_FORMS": 0,
        "overflow_rules-0-stage": "in_queue", "overflow_rules-0-condition": "wait_exceeds",
        "overflow_rules-0-threshold": 30, "overflow_rules-0-action": "end", "overflow_rules-0-order": 0,
    }
    refused = client.post(url, form)
    assert refused.status_code == 200 and not OverflowRule.objects.exists()  # 30 s is below E.61's minute

    response = client.post(url, {**form, "overflow_rules-0-threshold": 120})
    assert response.status_code == 302, response.content.decode()[:2000]
    pair = OverflowRule.objects.get()
    assert pair.route_rule == rule and pair.queue is None and pair.threshold == 120


def _waiting_items(queue, count, *, stream, waited_seconds):
    now = timezone.now()
    items = []
    for i in range(count):
        conversation = f.inbound(f"{queue.name} {i}")
        items.append(WorkItem.objects.create(
            conversation=conversation, work_stream=stream, queue=queue, order_at=now,
            queued_at=now - timedelta(seconds=waited_seconds + count - i),
        ))
    return items


def _history(queue, *, stream, wait_seconds):
    """One assigned item of the past, which gives ``queue`` its predicted wait."""
    agent = f.agent()
    done = timezone.now() - timedelta(hours=1)
    WorkItem.objects.create(
        conversation=f.inbound("earlier"), work_stream=stream, queue=queue, status=WorkItemStatus.COMPLETED,
        agent=agent, order_at=done, queued_at=done, assigned_at=done + timedelta(seconds=wait_seconds),
        completed_at=done + timedelta(seconds=wait_seconds + 60),
    )


def test_e62_more_than_twenty_overflowing_items_go_in_batches_lowest_wait_queues_first():
    slow, fast, backup = f.queue("Slow"), f.queue("Fast"), f.queue("Backup")
    stream = f.stream(fallback=backup)
    _history(slow, stream=stream, wait_seconds=900)
    _history(fast, stream=stream, wait_seconds=20)
    for queue in (slow, fast):
        in_queue(queue, threshold=60, action=OverflowAction.TRANSFER_QUEUE, target=backup)
    slow_items = _waiting_items(slow, 15, stream=stream, waited_seconds=120)
    fast_items = _waiting_items(fast, 10, stream=stream, waited_seconds=90)

    report = services.routing_sweep()

    assert OVERFLOW_BATCH_SIZE == 20
    assert report.overflowed == 25 and report.overflow_batches == 2
    moved = list(WorkItem.objects.filter(diagnostics__stage="overflow").order_by("diagnostics__id")
                 .values_list("pk", flat=True))
    assert moved[:10] == [item.pk for item in fast_items]  # the lowest-wait queue first, longest waits first
    assert moved[10:] == [item.pk for item in slow_items]
    assert set(WorkItem.objects.filter(pk__in=moved).values_list("queue", flat=True)) == {backup.pk}

"""Classification rulesets, route-to-queue rules, percentage split, overflow and operating hours (A, E)."""

from collections import Counter
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from crm.choices import ChannelKind, ConversationStatus
from crm.models import Account
from routing import conditions, hours, services
from routing.choices import BasePresence, OverflowAction, OverflowCondition, OverflowStage, QueueKind, WorkItemStatus
from routing.models import (
    ClassificationRule,
    ClassificationRuleset,
    Holiday,
    OperatingHours,
    OverflowRule,
    RouteRule,
    WorkStream,
)
from routing.services.cache import config_cache_clear
from routing.services.classification import _split_pick
from routing.tests import factories as f

pytestmark = pytest.mark.django_db


def ruleset(stream, name="Rules", order=0):
    return ClassificationRuleset.objects.create(work_stream=stream, name=name, order=order)


def test_first_matching_rule_per_ruleset_and_later_rulesets_read_outputs():
    orders = f.queue("Orders & Returns")
    vip = f.queue("VIP")
    stream = f.stream(fallback=f.queue("General"))
    intent = ruleset(stream, "Intent", order=1)
    ClassificationRule.objects.create(ruleset=intent, name="Returns", order=1, outputs={"intent": "returns"},
                                      conditions=[{"field": "text", "op": "contains_any", "value": ["refund", "return"]}])
    ClassificationRule.objects.create(ruleset=intent, name="Anything", order=2, outputs={"intent": "other"})
    routing_rules = ruleset(stream, "Tiering", order=2)
    ClassificationRule.objects.create(ruleset=routing_rules, name="VIP returns", outputs={"priority": 1, "tier": "vip"},
                                      conditions=[{"field": "output.intent", "op": "eq", "value": "returns"},
                                                  {"field": "contact.account.tier", "op": "in", "value": ["gold"]}])
    RouteRule.objects.create(work_stream=stream, name="VIP", order=1, queue=vip,
                             conditions=[{"field": "output.tier", "op": "eq", "value": "vip"}])
    RouteRule.objects.create(work_stream=stream, name="Returns", order=2, queue=orders,
                             conditions=[{"field": "output.intent", "op": "eq", "value": "returns"}])

    plain = services.conversation_enqueue(conversation=f.inbound("I want a refund for my TV"))
    conversation = f.inbound("I want to return my laptop")
    contact = conversation.contact
    contact.account = Account.objects.create(name="Contoso", tier="gold")
    contact.save()
    gold = services.conversation_enqueue(conversation=conversation)
    other = services.conversation_enqueue(conversation=f.inbound("Hello there"))

    assert plain.queue == orders and plain.priority == 10
    assert gold.queue == vip and gold.priority == 1
    assert other.queue.name == "General"
    trace = gold.diagnostics.get(stage="classification").detail
    assert [m["rule"] for m in trace["matched"]] == ["Returns", "VIP returns"]
    assert gold.diagnostics.get(stage="route_to_queue").summary == "Queue VIP by rule VIP"
    assert other.diagnostics.get(stage="route_to_queue").detail == {"fallback": "no route rule matched"}


def test_prechat_context_vip_and_sentiment_conditions():
    angry_q, vip_q = f.queue("Escalations"), f.queue("VIP")
    stream = f.stream(fallback=f.queue("General"))
    RouteRule.objects.create(work_stream=stream, name="Angry", order=1, queue=angry_q,
                             conditions=[{"field": "sentiment", "op": "lte", "value": -2}])
    RouteRule.objects.create(work_stream=stream, name="VIP or premium pre-chat", order=2, queue=vip_q,
                             conditions=[{"field": "context.plan", "op": "eq", "value": "premium"}])
    angry = services.conversation_enqueue(
        conversation=f.inbound("This is terrible, awful service, I hate it and I am furious!"))
    premium = services.conversation_enqueue(conversation=f.inbound("Hi", context={"plan": "Premium"}))
    assert angry.queue == angry_q and angry.sentiment <= -2
    assert premium.queue == vip_q


@pytest.mark.slow
def test_semantic_similarity_condition_uses_the_embedding_provider():
    tech = f.queue("Technical Support")
    stream = f.stream(fallback=f.queue("General"))
    RouteRule.objects.create(work_stream=stream, name="Tech", queue=tech, conditions=[
        {"field": "text", "op": "similar",
         "value": {"examples": ["my laptop will not turn on", "the screen stays black"], "threshold": 0.5}}])
    broken = services.conversation_enqueue(conversation=f.inbound("My notebook doesn't power on anymore"))
    billing = services.conversation_enqueue(conversation=f.inbound("Can I pay my invoice by bank transfer?"))
    assert broken.queue == tech
    assert billing.queue.name == "General"


def test_classification_error_falls_back_without_overflow():
    closed = OperatingHours.objects.create(name="Never", weekly={})
    fallback = f.queue("General", operating_hours=closed)
    # E.58: the hours brought the queue's out-of-hours pair; only its action is set here.
    OverflowRule.objects.filter(queue=fallback, condition=OverflowCondition.OUT_OF_HOURS).update(
        action=OverflowAction.END, message="We are closed")
    stream = f.stream(fallback=fallback)
    ClassificationRule.objects.create(ruleset=ruleset(stream), name="Broken",
                                      conditions=[{"field": "sentiment", "op": "gt", "value": "x"}])
    item = services.conversation_enqueue(conversation=f.inbound("hi"))
    assert item.queue == fallback and item.status == WorkItemStatus.QUEUED  # A.8: no overflow evaluation


def test_percentage_split_shares_within_two_points():
    a, b, c = f.queue("A"), f.queue("B"), f.queue("C")
    split = [{"queue": a.pk, "percent": 50}, {"queue": b.pk, "percent": 30}, {"queue": c.pk, "percent": 20}]
    shares = Counter(_split_pick(split, key) for key in range(10_000))
    assert abs(shares[a.pk] / 100 - 50) <= 2
    assert abs(shares[b.pk] / 100 - 30) <= 2
    assert abs(shares[c.pk] / 100 - 20) <= 2


def test_split_validation_requires_one_to_five_queues_summing_to_100():
    with pytest.raises(ValidationError):
        conditions.validate_split([{"queue": 1, "percent": 50}, {"queue": 2, "percent": 40}])
    with pytest.raises(ValidationError):
        conditions.validate_split([{"queue": i, "percent": 10} for i in range(6)] + [{"queue": 9, "percent": 40}])
    conditions.validate_split([{"queue": 1, "percent": 60}, {"queue": 2, "percent": 40}])


def test_condition_validation_rejects_a_third_related_level_and_unknown_operators():
    conditions.validate_conditions([{"field": "contact.account.tier", "op": "eq", "value": "gold"}])
    with pytest.raises(ValidationError):
        conditions.validate_conditions([{"field": "contact.account.owner.username", "op": "eq", "value": "x"}])
    with pytest.raises(ValidationError):
        conditions.validate_conditions([{"field": "channel", "op": "like", "value": "x"}])
    with pytest.raises(ValidationError):
        conditions.validate_conditions([{"field": "password", "op": "eq", "value": "x"}])


def test_ruleset_limit_of_ten_per_work_stream():
    stream = f.stream()
    for i in range(10):
        ruleset(stream, f"R{i}")
    with pytest.raises(ValidationError):
        ClassificationRuleset(work_stream=stream, name="R11").full_clean()


def test_work_stream_validation():
    voice_queue = f.queue(kind=QueueKind.VOICE)
    with pytest.raises(ValidationError):
        WorkStream(name="Calls", channel_kind=ChannelKind.VOICE, kind=QueueKind.VOICE, distribution_mode="pick",
                   fallback_queue=voice_queue).full_clean()
    stream = f.stream()
    stream.distribution_mode = "pick"
    with pytest.raises(ValidationError):
        stream.full_clean()
    with pytest.raises(ValidationError):
        WorkStream(name="Chat", channel_kind=ChannelKind.WEBCHAT, kind=QueueKind.MESSAGING,
                   fallback_queue=voice_queue).full_clean()


NINE_TO_FIVE = {day: [["09:00", "17:00"]] for day in ["mon", "tue", "wed", "thu", "fri"]}


def test_operating_hours_time_zone_dst_and_holidays():
    berlin = OperatingHours.objects.create(name="Berlin", timezone="Europe/Berlin", weekly=NINE_TO_FIVE)
    # Monday 2026-07-06 08:30 UTC is 10:30 in Berlin (CEST, UTC+2); in January 08:30 UTC is 09:30 (CET).
    assert hours.is_open(berlin, datetime(2026, 7, 6, 8, 30, tzinfo=dt_timezone.utc))
    assert not hours.is_open(berlin, datetime(2026, 7, 6, 15, 30, tzinfo=dt_timezone.utc))  # 17:30 local
    assert hours.is_open(berlin, datetime(2026, 1, 5, 15, 30, tzinfo=dt_timezone.utc))  # 16:30 local
    assert not hours.is_open(berlin, datetime(2026, 7, 4, 10, 0, tzinfo=dt_timezone.utc))  # Saturday
    Holiday.objects.create(hours=berlin, date=date(2026, 7, 6), name="Company day")
    assert not hours.is_open(berlin, datetime(2026, 7, 6, 8, 30, tzinfo=dt_timezone.utc))
    assert hours.next_opening(berlin, datetime(2026, 7, 6, 8, 30, tzinfo=dt_timezone.utc)).date() == date(2026, 7, 7)
    assert hours.is_open(None, timezone.now())  # no calendar: 24×7
    with pytest.raises(ValidationError):
        hours.validate_weekly({"mon": [["17:00", "09:00"]]})


def _always(open_: bool) -> OperatingHours:
    weekly = {d: [["00:00", "24:00"]] for d in hours.DAYS} if open_ else {}
    return OperatingHours.objects.create(name=f"open={open_}", weekly=weekly)


@pytest.mark.parametrize("is_open", [True, False])
def test_pre_queue_overflow_out_of_hours_transfers_only_when_closed(is_open):
    after_hours = f.queue("After hours")
    main = f.queue("Main", operating_hours=_always(is_open))
    OverflowRule.objects.filter(queue=main, condition=OverflowCondition.OUT_OF_HOURS).update(
        action=OverflowAction.TRANSFER_QUEUE, target_queue=after_hours)
    stream = f.stream(fallback=f.queue("Fallback"))
    RouteRule.objects.create(work_stream=stream, name="Main", queue=main)
    item = services.conversation_enqueue(conversation=f.inbound("hello"))
    assert item.queue == (main if is_open else after_hours)
    assert item.diagnostics.filter(stage="overflow").exists() is (not is_open)


def test_pre_queue_item_limit_ends_the_conversation_with_a_message():
    main = f.queue("Main")
    OverflowRule.objects.create(queue=main, condition=OverflowCondition.ITEM_LIMIT, threshold=1,
                                action=OverflowAction.END, message="We're very busy; please try again later.")
    stream = f.stream(fallback=f.queue("Fallback"))
    RouteRule.objects.create(work_stream=stream, name="Main", queue=main)
    first = services.conversation_enqueue(conversation=f.inbound("one"))
    second = services.conversation_enqueue(conversation=f.inbound("two"))
    assert first.status == WorkItemStatus.QUEUED
    assert second.status == WorkItemStatus.ABANDONED and second.outcome == "overflow_end"
    conversation = second.conversation
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.CLOSED
    assert conversation.messages.filter(body__startswith="We're very busy").exists()


def test_first_matched_queue_not_overflowing_wins():
    full, spare = f.queue("Full"), f.queue("Spare")
    OverflowRule.objects.create(queue=full, condition=OverflowCondition.ITEM_LIMIT, threshold=1,
                                action=OverflowAction.END)
    stream = f.stream(fallback=f.queue("Fallback"))
    RouteRule.objects.create(work_stream=stream, name="Full", order=1, queue=full)
    RouteRule.objects.create(work_stream=stream, name="Spare", order=2, queue=spare)
    assert services.conversation_enqueue(conversation=f.inbound("one")).queue == full
    assert services.conversation_enqueue(conversation=f.inbound("two")).queue == spare


def test_voice_callback_and_voicemail_actions():
    voice = f.queue("Voice", kind=QueueKind.VOICE)
    OverflowRule.objects.create(queue=voice, condition=OverflowCondition.OUT_OF_HOURS,
                                action=OverflowAction.VOICEMAIL)
    voice.operating_hours = _always(False)
    services.queue_save(queue=voice)
    f.stream(channel=ChannelKind.VOICE, kind=QueueKind.VOICE, fallback=f.queue("VoiceFallback", kind=QueueKind.VOICE))
    RouteRule.objects.create(work_stream=WorkStream.objects.get(channel_kind="voice"), name="All", queue=voice)
    item = services.conversation_enqueue(conversation=f.inbound("", channel=ChannelKind.VOICE))
    assert item.outcome == "voicemail" and not item.auto_assign and item.status == WorkItemStatus.QUEUED


def test_overflow_rule_validation_ranges():
    messaging, voice = f.queue(), f.queue(kind=QueueKind.VOICE)
    with pytest.raises(ValidationError):
        OverflowRule(queue=messaging, stage=OverflowStage.IN_QUEUE, condition=OverflowCondition.WAIT_EXCEEDS,
                     threshold=30, action=OverflowAction.END).full_clean()  # messaging: 1 min .. 2 days
    with pytest.raises(ValidationError):
        OverflowRule(queue=voice, stage=OverflowStage.IN_QUEUE, condition=OverflowCondition.WAIT_EXCEEDS,
                     threshold=2 * 3600, action=OverflowAction.END).full_clean()  # voice: up to 60 min
    with pytest.raises(ValidationError):
        OverflowRule(queue=messaging, condition=OverflowCondition.OUT_OF_HOURS,
                     action=OverflowAction.VOICEMAIL).full_clean()  # not a messaging action
    with pytest.raises(ValidationError):
        OverflowRule(queue=messaging, condition=OverflowCondition.ITEM_LIMIT, threshold=101,
                     action=OverflowAction.END).full_clean()
    OverflowRule(queue=messaging, stage=OverflowStage.IN_QUEUE, condition=OverflowCondition.WAIT_EXCEEDS,
                 threshold=120, action=OverflowAction.END).full_clean()


def test_in_queue_overflow_transfers_items_waiting_too_long():
    alice = f.agent("alice", presence=BasePresence.OFFLINE)
    backup = f.queue("Backup", members=[alice])
    main = f.queue("Main")
    OverflowRule.objects.create(queue=main, stage=OverflowStage.IN_QUEUE, condition=OverflowCondition.WAIT_EXCEEDS,
                                threshold=300, action=OverflowAction.TRANSFER_QUEUE, target_queue=backup)
    f.stream(fallback=main)
    item = services.conversation_enqueue(conversation=f.inbound("hello"))
    services.routing_sweep(now=timezone.now() + timedelta(seconds=60))
    item.refresh_from_db()
    assert item.queue == main
    services.presence_set(agent=alice, presence="available")
    report = services.routing_sweep(now=timezone.now() + timedelta(seconds=301))
    item.refresh_from_db()
    assert report.overflowed == 1 and item.queue == backup
    assert item.agent == alice and item.status == WorkItemStatus.OFFERED


def test_a6_a_supervisor_reroute_appends_newly_attached_skills_and_moves_the_item(supervisor, agent):
    english, billing = f.skill("English"), f.skill("Billing")
    first, second = f.queue("First"), f.queue("Second")
    stream = f.stream(fallback=first)
    language = ClassificationRuleset.objects.create(work_stream=stream, name="Language", order=1)
    rule = ClassificationRule.objects.create(ruleset=language, name="English", skills=[{"skill": english.pk, "rating": 3}])
    item = services.conversation_enqueue(conversation=f.inbound("I was charged twice"))
    assert item.required_skills == [{"skill": english.pk, "rating": 3}] and item.queue == first

    rule.skills = [{"skill": english.pk, "rating": 7}]
    rule.save()
    topic = ClassificationRuleset.objects.create(work_stream=stream, name="Topic", order=2)
    ClassificationRule.objects.create(ruleset=topic, name="Billing", skills=[{"skill": billing.pk, "rating": 2}],
                                      conditions=[{"field": "text", "op": "contains", "value": "charged"}])
    RouteRule.objects.create(work_stream=stream, name="Billing questions", queue=second,
                             conditions=[{"field": "text", "op": "contains", "value": "charged"}])
    config_cache_clear()
    api = APIClient()

    api.force_authenticate(agent)
    assert api.post(f"/api/v1/routing/work-items/{item.pk}/reroute/").status_code in (403, 404)
    api.force_authenticate(supervisor)
    response = api.post(f"/api/v1/routing/work-items/{item.pk}/reroute/")

    assert response.status_code == 200, response.json()
    item.refresh_from_db()
    assert item.required_skills == [{"skill": english.pk, "rating": 3}, {"skill": billing.pk, "rating": 2}]
    assert item.queue == second and item.conversation.queue_id == second.pk
    assert item.diagnostics.filter(summary__startswith="Re-routed by").exists()


def test_a6_an_assigned_item_cannot_be_rerouted(supervisor):
    alice = f.agent("alice")
    f.stream(fallback=f.queue(members=[alice]), auto_accept=True)
    item = services.conversation_enqueue(conversation=f.inbound("Hello"))
    api = APIClient()
    api.force_authenticate(supervisor)

    response = api.post(f"/api/v1/routing/work-items/{item.pk}/reroute/")

    assert response.status_code == 409 and response.json()["error"]["code"] == "work_item_taken"

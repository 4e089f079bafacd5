"""Assignment methods, skills, ordering, affinity and declines (REFERENCE B and C), as small scenarios."""

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.choices import ChannelKind, ConversationStatus
from routing import services
from routing.choices import AssignmentMethod, BasePresence, OrderBy, SkillMatch, WorkItemStatus
from routing.models import (
    AgentCapacity,
    AgentProfile,
    AssignmentRule,
    CapacityProfile,
    ClassificationRule,
    ClassificationRuleset,
    QueueAgentMark,
)
from routing.tests import factories as f

pytestmark = pytest.mark.django_db


def enqueue(body="Hello", **kw):
    return services.conversation_enqueue(conversation=f.inbound(body, **kw))


def set_presence(user, base):
    AgentProfile.objects.filter(user=user).update(presence=f.presence_builtin(base))


def test_enqueue_offers_to_a_queue_member_and_is_idempotent(published):
    alice = f.agent("alice")
    support = f.queue("Support", members=[alice])
    f.stream(fallback=support)
    conversation = f.inbound("Where is my order?")

    item = services.conversation_enqueue(conversation=conversation)
    again = services.conversation_enqueue(conversation=conversation)

    assert again.pk == item.pk
    assert item.status == WorkItemStatus.OFFERED and item.agent == alice and item.queue == support
    assert f.profile_of(alice).used_units == 1
    offered = published.of_type("workitem.offered")
    assert len(offered) == 1
    event, groups = offered[0]
    assert groups == [f"agent.{alice.pk}"]
    assert event["data"]["conversation_id"] == conversation.pk
    assert event["data"]["timeout_seconds"] == 120
    conversation.refresh_from_db()
    assert conversation.queue == support and conversation.status == ConversationStatus.OPEN


def test_accepting_an_offer_assigns_the_conversation(published):
    alice = f.agent("alice")
    f.stream(fallback=f.queue(members=[alice]))
    item = enqueue()

    services.offer_accept(workitem=item, agent=alice)

    item.refresh_from_db()
    conversation = item.conversation
    conversation.refresh_from_db()
    assert item.status == WorkItemStatus.ASSIGNED
    assert conversation.assigned_agent == alice and conversation.status == ConversationStatus.ACTIVE
    assert conversation.assigned_at is not None
    assigned = published.of_type("conversation.assigned")
    assert assigned and f"agent.{alice.pk}" in assigned[0][1]


def test_auto_accept_assigns_directly():
    alice = f.agent("alice")
    f.stream(fallback=f.queue(members=[alice]), auto_accept=True)
    item = enqueue()
    assert item.status == WorkItemStatus.ASSIGNED
    assert item.conversation.assigned_agent_id == alice.pk


def test_highest_capacity_prefers_most_remaining_then_round_robin():
    small, big = f.agent("small", capacity=2), f.agent("big", capacity=5)
    f.stream(fallback=f.queue(members=[small, big]))
    assert enqueue().agent == big  # 5 free vs 2
    AgentProfile.objects.filter(user=big).update(capacity_units=3, used_units=1)
    # now both have 2 free; small never got work from this queue → round robin picks small
    assert enqueue().agent == small


def test_round_robin_follows_last_assignment_per_queue():
    a, b, c = f.agent("a"), f.agent("b"), f.agent("c")
    q = f.queue(members=[a, b, c], assignment_method=AssignmentMethod.ROUND_ROBIN)
    f.stream(fallback=q)
    day = datetime(2026, 1, 5, tzinfo=dt_timezone.utc)
    for user, minute in [(b, 30), (c, 35), (a, 37)]:
        QueueAgentMark.objects.create(queue=q, agent=user, last_assigned_at=day.replace(hour=10, minute=minute))
    assert enqueue().agent == b  # 10:30 first
    assert enqueue().agent == c  # then 10:35
    assert enqueue().agent == a


def test_round_robin_starts_in_membership_order():
    a, b = f.agent("a"), f.agent("b")
    f.stream(fallback=f.queue(members=[a, b], assignment_method=AssignmentMethod.ROUND_ROBIN))
    assert [enqueue().agent for _ in range(3)] == [a, b, a]


def test_least_active_prefers_fewer_items_then_oldest_release():
    busy, idle_new, idle_old = f.agent("busy"), f.agent("idle_new"), f.agent("idle_old")
    AgentProfile.objects.filter(user=busy).update(active_items=1, used_units=1)
    now = timezone.now()
    AgentProfile.objects.filter(user=idle_new).update(last_released_at=now)
    AgentProfile.objects.filter(user=idle_old).update(last_released_at=now - timedelta(hours=1))
    f.stream(fallback=f.queue(members=[busy, idle_new, idle_old], assignment_method=AssignmentMethod.LEAST_ACTIVE))
    assert enqueue().agent == idle_old
    assert enqueue().agent == idle_new


def _skill_rule(stream, skills):
    ruleset = ClassificationRuleset.objects.create(work_stream=stream, name="Skills")
    ClassificationRule.objects.create(ruleset=ruleset, name="All", skills=skills)


def test_exact_skill_match_requires_every_skill_at_rating():
    laptops = f.skill("Laptops")
    weak, strong = f.agent("weak", capacity=10), f.agent("strong")
    f.give_skill(weak, laptops, 4)
    f.give_skill(strong, laptops, 6)
    stream = f.stream(fallback=f.queue(members=[weak, strong]), skill_match=SkillMatch.EXACT)
    _skill_rule(stream, [{"skill": laptops.pk, "rating": 5}])
    item = enqueue()
    assert item.agent == strong and item.required_skills == [{"skill": laptops.pk, "rating": 5}]
    set_presence(strong, BasePresence.OFFLINE)
    assert enqueue().status == WorkItemStatus.QUEUED  # weak lacks the rating: stays unassigned


def test_closest_match_orders_exact_then_overqualified_then_underqualified():
    skills = [f.skill(f"S{i}") for i in range(5)]
    required = [{"skill": s.pk, "rating": 5} for s in skills[:4]]
    exact, over, under = f.agent("exact", capacity=1), f.agent("over", capacity=1), f.agent("under", capacity=1)
    for s in skills[:4]:
        f.give_skill(exact, s, 5)
    for s in skills:
        f.give_skill(over, s, 5)
    for s in skills[:3]:
        f.give_skill(under, s, 5)
    stream = f.stream(fallback=f.queue(members=[under, over, exact]), skill_match=SkillMatch.CLOSEST)
    _skill_rule(stream, required)
    assert [enqueue().agent for _ in range(3)] == [exact, over, under]


def test_custom_rules_first_rule_with_an_agent_wins_ordered_by_proficiency():
    returns = f.skill("Returns")
    junior, senior_low, senior_high = f.agent("junior"), f.agent("senior_low"), f.agent("senior_high")
    for user, rating in [(junior, 9), (senior_low, 3), (senior_high, 8)]:
        f.give_skill(user, returns, rating)
    AgentProfile.objects.filter(user__in=[senior_low, senior_high]).update(attributes={"level": "senior"})
    q = f.queue(members=[junior, senior_low, senior_high], assignment_method=AssignmentMethod.CUSTOM)
    AssignmentRule.objects.create(queue=q, name="Seniors", order=1, order_by=OrderBy.MOST_PROFICIENT,
                                  conditions=[{"field": "agent.level", "op": "eq", "value": "senior"}])
    AssignmentRule.objects.create(queue=q, name="Anyone", order=2, order_by=OrderBy.ROUND_ROBIN)
    stream = f.stream(fallback=q)
    _skill_rule(stream, [{"skill": returns.pk, "rating": 2}])
    assert enqueue().agent == senior_high
    set_presence(senior_high, BasePresence.OFFLINE)
    set_presence(senior_low, BasePresence.OFFLINE)
    assert enqueue().agent == junior  # no senior reachable: the second rule answers


def test_nearest_proficiency_prefers_the_smallest_surplus():
    s1, s2 = f.skill("Phones"), f.skill("Billing")
    carlos, eric = f.agent("carlos"), f.agent("eric")
    for user, (r1, r2) in [(carlos, (2, 3)), (eric, (3, 4))]:
        f.give_skill(user, s1, r1)
        f.give_skill(user, s2, r2)
    q = f.queue(members=[eric, carlos], assignment_method=AssignmentMethod.CUSTOM)
    AssignmentRule.objects.create(queue=q, name="Nearest", order_by=OrderBy.NEAREST_PROFICIENCY,
                                  conditions=[{"field": "skills", "op": "exact", "value": []}])
    stream = f.stream(fallback=q)
    _skill_rule(stream, [{"skill": s1.pk, "rating": 2}, {"skill": s2.pk, "rating": 3}])
    assert enqueue().agent == carlos


def test_higher_priority_queue_is_served_first_then_fifo():
    alice = f.agent("alice", capacity=1, presence=BasePresence.OFFLINE)
    low = f.queue("Low", priority=5, members=[alice])
    high = f.queue("High", priority=1, members=[alice])
    f.stream(fallback=low)
    f.stream(channel=ChannelKind.SMS, fallback=high)
    older_low = enqueue()
    newer_high = enqueue(channel=ChannelKind.SMS)
    services.presence_set(agent=alice, presence="available")
    older_low.refresh_from_db()
    newer_high.refresh_from_db()
    assert newer_high.agent == alice and older_low.status == WorkItemStatus.QUEUED


def test_fifo_within_a_queue_and_item_priority_first():
    alice = f.agent("alice", capacity=1, presence=BasePresence.OFFLINE)
    stream = f.stream(fallback=f.queue(members=[alice]))
    ruleset = ClassificationRuleset.objects.create(work_stream=stream, name="Urgency")
    ClassificationRule.objects.create(ruleset=ruleset, name="Urgent", outputs={"priority": 1},
                                      conditions=[{"field": "text", "op": "contains", "value": "urgent"}])
    first, urgent = enqueue("first"), enqueue("this is urgent")
    services.presence_set(agent=alice, presence="available")
    urgent.refresh_from_db()
    first.refresh_from_db()
    assert urgent.status == WorkItemStatus.OFFERED and first.status == WorkItemStatus.QUEUED


def test_presence_not_allowed_gets_no_offer():
    alice = f.agent("alice", presence=BasePresence.AWAY)
    f.stream(fallback=f.queue(members=[alice]))
    item = enqueue()
    assert item.status == WorkItemStatus.QUEUED
    explanation = services.workitem_explain(workitem=item)
    assert explanation["rejected"] == [{"agent": alice.pk, "reasons": ["presence away"]}]


def test_decline_returns_the_item_and_prefers_another_agent(published):
    alice, bob = f.agent("alice"), f.agent("bob")
    f.stream(fallback=f.queue(members=[alice, bob]))
    item = enqueue()
    first = item.agent
    other = bob if first == alice else alice
    item = services.offer_decline(workitem=item, agent=first, reason="on a break")
    item.refresh_from_db()
    assert item.agent == other and item.decline_count == 1
    assert f.profile_of(first).used_units == 0
    ended = published.of_type("workitem.offer_ended")
    assert ended[0][0]["data"]["outcome"] == "rejected"


def test_declines_up_to_the_limit_flag_the_item_for_supervisors(published):
    alice = f.agent("alice")
    f.stream(fallback=f.queue(members=[alice]), decline_limit=3)
    item = enqueue()
    for _ in range(3):
        item.refresh_from_db()
        assert item.status == WorkItemStatus.OFFERED and item.agent == alice  # nobody else: re-offered
        services.offer_decline(workitem=item, agent=alice)
    item.refresh_from_db()
    assert item.status == WorkItemStatus.QUEUED and item.flagged and not item.auto_assign
    assert item.decline_count == 3
    assert published.of_type("workitem.flagged")
    assert services.assignment_run() == []
    services.workitem_pick(workitem=item, agent=alice)  # still manually pickable
    item.refresh_from_db()
    assert item.status == WorkItemStatus.ASSIGNED


def test_offer_timeout_in_sweep_counts_as_decline_and_can_set_inactive():
    alice = f.agent("alice")
    f.stream(fallback=f.queue(members=[alice]), missed_offer_sets_inactive=True, decline_limit=5)
    item = enqueue()
    report = services.routing_sweep(now=timezone.now() + timedelta(seconds=121))
    item.refresh_from_db()
    assert report.offers_timed_out == 1
    assert item.decline_count == 1 and item.offers.filter(outcome="timed_out").count() == 1
    assert f.profile_of(alice).presence.base == BasePresence.INACTIVE
    assert item.status == WorkItemStatus.QUEUED  # Inactive agents get no more offers


def test_affinity_returning_customer_goes_to_previous_agent_even_when_full():
    alice, bob = f.agent("alice", capacity=1), f.agent("bob", capacity=5)
    f.stream(channel=ChannelKind.SMS, fallback=f.queue(members=[alice, bob]), kind="messaging")
    AgentProfile.objects.filter(user=bob).update(presence=f.presence_builtin("offline"))
    item = enqueue(channel=ChannelKind.SMS, address="+12024189001")
    services.offer_accept(workitem=item, agent=alice)
    services.conversation_park(conversation=item.conversation, actor=alice)
    assert f.profile_of(alice).used_units == 0
    other = enqueue(channel=ChannelKind.SMS, address="+12024189002")  # fills alice
    services.offer_accept(workitem=other, agent=alice)
    set_presence(bob, BasePresence.AVAILABLE)
    f.inbound("I'm back", channel=ChannelKind.SMS, address="+12024189001")

    again = services.conversation_enqueue(conversation=item.conversation)

    assert again.pk == item.pk
    assert again.agent == alice and again.status == WorkItemStatus.OFFERED
    profile = f.profile_of(alice)
    assert profile.used_units == 2 and profile.forced_units == 1  # over capacity, recorded


def test_capacity_check_constraint_refuses_overbooking():
    alice = f.agent("alice", capacity=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        AgentProfile.objects.filter(user=alice).update(used_units=3)
    AgentProfile.objects.filter(user=alice).update(used_units=3, forced_units=1)  # recorded force: allowed


def test_capacity_never_exceeded_by_offers():
    alice = f.agent("alice", capacity=2)
    f.stream(fallback=f.queue(members=[alice]))
    items = [enqueue() for _ in range(3)]
    assert [i.status for i in items] == [WorkItemStatus.OFFERED, WorkItemStatus.OFFERED, WorkItemStatus.QUEUED]
    assert f.profile_of(alice).used_units == 2


def test_force_assign_beyond_capacity_is_recorded(supervisor):
    alice = f.agent("alice", capacity=1)
    f.stream(fallback=f.queue(members=[alice]))
    first, second = enqueue(), enqueue()
    services.workitem_force_assign(workitem=second, agent=alice, actor=supervisor)
    profile = f.profile_of(alice)
    second.refresh_from_db()
    assert second.status == WorkItemStatus.ASSIGNED and second.forced_units == 1
    assert profile.used_units == 2 and profile.forced_units == 1
    assert second.diagnostics.filter(summary__startswith="Force-assigned").exists()
    with pytest.raises(services.workitems.NotPermitted):
        services.workitem_force_assign(workitem=first, agent=alice, actor=alice)


def test_pick_mode_items_wait_for_a_member_to_pick():
    alice, outsider_agent = f.agent("alice"), f.agent("zed")
    f.stream(fallback=f.queue(members=[alice]), distribution_mode="pick")
    item = enqueue()
    assert item.status == WorkItemStatus.QUEUED
    with pytest.raises(services.workitems.NotQueueMember):
        services.workitem_pick(workitem=item, agent=outsider_agent)
    services.workitem_pick(workitem=item, agent=alice)
    item.refresh_from_db()
    assert item.status == WorkItemStatus.ASSIGNED and item.conversation.assigned_agent_id == alice.pk
    with pytest.raises(services.workitems.WorkItemTaken):
        services.workitem_pick(workitem=item, agent=alice)


def test_d43_an_item_with_several_capacity_profiles_needs_room_in_all_and_takes_one_of_each():
    chats, vip = CapacityProfile.objects.create(name="Chats", default_limit=2), CapacityProfile.objects.create(
        name="VIP", default_limit=1)
    alice, bob = f.agent("alice", capacity=10), f.agent("bob", capacity=10)
    stream = f.stream(fallback=f.queue(members=[alice, bob]))
    stream.capacity_profiles.add(chats)
    ruleset = ClassificationRuleset.objects.create(work_stream=stream, name="VIP")
    ClassificationRule.objects.create(ruleset=ruleset, name="Everyone is VIP", capacity_profile=vip)

    first, second, third = enqueue("one"), enqueue("two"), enqueue("three")

    assert sorted(first.capacity_profiles) == sorted([chats.pk, vip.pk])
    assert {first.agent, second.agent} == {alice, bob}
    assert third.status == WorkItemStatus.QUEUED  # both agents' VIP profile is full
    usage = {(u.agent.user.username, u.profile.name): u.used for u in AgentCapacity.objects.select_related(
        "agent__user", "profile")}
    assert usage == {("alice", "Chats"): 1, ("alice", "VIP"): 1, ("bob", "Chats"): 1, ("bob", "VIP"): 1}

"""Presence, wrap-up blocking, transfers, consults, release, completion and visibility."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from crm import selectors as crm_selectors
from crm import services as crm_services
from crm.choices import CaseStatus, ChannelKind, ConversationStatus
from crm.models import Conversation
from routing import exceptions, selectors, services
from routing.choices import BasePresence, QueueKind, WorkItemStatus, WrapUpMode
from routing.models import AgentProfile, AutoCloseTimer, OperatingHours, Presence
from routing.services.cache import config_cache_clear
from routing.services.presence import presence_builtin
from routing.tests import factories as f

pytestmark = pytest.mark.django_db


def assigned_item(agent, **stream_fields):
    f.stream(fallback=f.queue(members=[agent]), **stream_fields)
    item = services.conversation_enqueue(conversation=f.inbound("Hi"))
    services.offer_accept(workitem=item, agent=agent)
    item.refresh_from_db()
    return item


def test_presence_follows_load_available_busy_dnd(published):
    alice = f.agent("alice", capacity=2)
    f.stream(fallback=f.queue(members=[alice]), decline_limit=1)  # a declined item is not re-offered
    first = services.conversation_enqueue(conversation=f.inbound("one"))
    assert f.profile_of(alice).presence.base == BasePresence.BUSY
    services.conversation_enqueue(conversation=f.inbound("two"))
    assert f.profile_of(alice).presence.base == BasePresence.DND
    services.offer_decline(workitem=first, agent=alice)
    assert f.profile_of(alice).presence.base == BasePresence.BUSY
    changes = [e["data"]["base"] for e, _g in published.of_type("agent.presence_changed")]
    assert changes[:3] == ["busy", "dnd", "busy"]


def test_manual_presence_sticks_and_available_hands_back_to_the_load(published):
    alice = f.agent("alice", capacity=2, presence=BasePresence.OFFLINE)
    lunch = Presence.objects.create(name="Lunch", base=BasePresence.AWAY)
    f.stream(fallback=f.queue(members=[alice]), decline_limit=1)
    item = services.conversation_enqueue(conversation=f.inbound("one"))
    assert item.status == WorkItemStatus.QUEUED

    services.presence_set(agent=alice, presence="available")  # becoming available runs a cycle
    item.refresh_from_db()
    assert item.agent == alice and f.profile_of(alice).presence.base == BasePresence.BUSY

    profile = services.presence_set(agent=alice, presence=lunch)
    assert profile.presence == lunch and profile.presence_manual
    event, groups = published.of_type("agent.presence_changed")[-1]
    assert event["data"]["presence"] == "Lunch" and event["data"]["base"] == "away"
    assert f"agent.{alice.pk}" in groups and "supervisors" in groups
    services.offer_decline(workitem=item, agent=alice)
    assert f.profile_of(alice).presence == lunch  # a manual status does not follow the load


def test_inactive_cannot_be_chosen_by_hand():
    alice = f.agent("alice")
    with pytest.raises(exceptions.PresenceNotSelectable):
        services.presence_set(agent=alice, presence="inactive")
    assert services.presence_set(agent=alice, presence="inactive", system=True).presence.base == "inactive"


@pytest.mark.parametrize(
    ("mode", "seconds", "held_in_wrap_up"),
    [(WrapUpMode.ALWAYS, 0, True), (WrapUpMode.NEVER, 0, False), (WrapUpMode.CUSTOM, 60, True)],
)
def test_wrap_up_capacity_blocking(mode, seconds, held_in_wrap_up):
    alice = f.agent("alice", capacity=1)
    item = assigned_item(alice, wrap_up_mode=mode, wrap_up_seconds=seconds)
    services.conversation_end(conversation=item.conversation, actor=alice)
    item.conversation.refresh_from_db()
    assert item.conversation.status == ConversationStatus.WRAP_UP
    assert (f.profile_of(alice).used_units == 1) is held_in_wrap_up
    if mode == WrapUpMode.CUSTOM:
        services.routing_sweep(now=timezone.now() + timedelta(seconds=30))
        assert f.profile_of(alice).used_units == 1
        services.routing_sweep(now=timezone.now() + timedelta(seconds=61))
        assert f.profile_of(alice).used_units == 0
    services.workitem_complete(conversation=item.conversation, actor=alice)
    item.refresh_from_db()
    item.conversation.refresh_from_db()
    assert item.status == WorkItemStatus.COMPLETED and item.conversation.status == ConversationStatus.CLOSED
    assert f.profile_of(alice).used_units == 0


def test_capacity_freed_by_completion_assigns_the_next_item():
    alice = f.agent("alice", capacity=1)
    item = assigned_item(alice)
    waiting = services.conversation_enqueue(conversation=f.inbound("next"))
    assert waiting.status == WorkItemStatus.QUEUED
    services.workitem_complete(conversation=item.conversation, actor=alice)
    waiting.refresh_from_db()
    assert waiting.status == WorkItemStatus.OFFERED and waiting.agent == alice


def test_conversation_closed_elsewhere_is_reconciled_by_the_sweep():
    alice = f.agent("alice", capacity=1)
    item = assigned_item(alice)
    crm_services.conversation_close(conversation=item.conversation, actor=alice)
    report = services.routing_sweep()
    item.refresh_from_db()
    assert report.reconciled == 1 and item.status == WorkItemStatus.COMPLETED
    assert f.profile_of(alice).used_units == 0


@pytest.mark.parametrize("close", ["resolve", "cancel"])
def test_d46_a_resolved_or_cancelled_case_releases_its_capacity(close, supervisor):
    alice = f.agent("alice", capacity=1)
    f.stream(channel=ChannelKind.EMAIL, kind=QueueKind.RECORD,
             fallback=f.queue("Cases", kind=QueueKind.RECORD, members=[alice]))
    conversation = f.inbound("My invoice is wrong", channel=ChannelKind.EMAIL, address="ann@example.com")
    case = crm_services.case_open_from_conversation(conversation=conversation, actor=supervisor)
    item = services.conversation_enqueue(conversation=conversation)
    services.offer_accept(workitem=item, agent=alice)
    if close == "resolve":
        crm_services.case_resolve(case=case, actor=alice, resolution="Credit note sent.")
    else:
        crm_services.case_update(case=case, actor=alice, status=CaseStatus.CANCELLED)

    report = services.routing_sweep()

    item.refresh_from_db()
    assert report.reconciled == 1 and item.status == WorkItemStatus.COMPLETED
    assert f.profile_of(alice).used_units == 0


def test_e67_auto_close_timers_have_the_reference_defaults():
    assert services.auto_close_timers() == {
        ("chat", "open"): 20, ("chat", "wrap_up"): 15,
        ("voice", "open"): 30 * 24 * 60, ("voice", "active"): 120, ("voice", "wrap_up"): 24 * 60,
        ("async", "open"): 30 * 24 * 60, ("async", "active"): 30 * 24 * 60, ("async", "wrap_up"): 24 * 60,
    }


def test_e67_a_supervisor_edits_a_timer_in_minutes_and_the_sweep_uses_it(supervisor, agent):
    timer = AutoCloseTimer.objects.get(family="chat", status="open")
    url = f"/api/v1/routing/auto-close-timers/{timer.pk}/"
    supervisor_api, agent_api = APIClient(), APIClient()
    supervisor_api.force_authenticate(supervisor)
    agent_api.force_authenticate(agent)

    assert agent_api.patch(url, {"minutes": 5}, format="json").status_code == 403
    assert supervisor_api.patch(url, {"minutes": 0}, format="json").status_code == 400
    assert supervisor_api.delete(url).status_code == 405
    changed = supervisor_api.patch(url, {"minutes": 5, "family": "voice"}, format="json")
    assert changed.status_code == 200 and changed.json()["family"] == "chat" and changed.json()["minutes"] == 5

    config_cache_clear()  # other processes see the change within ROUTING_CONFIG_CACHE_SECONDS
    f.stream(fallback=f.queue())
    item = services.conversation_enqueue(conversation=f.inbound("anyone?"))
    services.routing_sweep(now=timezone.now() + timedelta(minutes=6))
    item.refresh_from_db()
    assert item.status == WorkItemStatus.ABANDONED


def test_chat_left_open_is_auto_closed_after_twenty_minutes():
    f.stream(fallback=f.queue())
    item = services.conversation_enqueue(conversation=f.inbound("anyone?"))
    services.routing_sweep(now=timezone.now() + timedelta(minutes=19))
    item.refresh_from_db()
    assert item.status == WorkItemStatus.QUEUED
    services.routing_sweep(now=timezone.now() + timedelta(minutes=21))
    item.refresh_from_db()
    assert item.status == WorkItemStatus.ABANDONED
    assert Conversation.objects.get(pk=item.conversation_id).status == ConversationStatus.CLOSED


def test_transfer_to_queue_keeps_skills_and_reroutes(supervisor):
    alice, bob = f.agent("alice"), f.agent("bob")
    item = assigned_item(alice)
    item.required_skills = [{"skill": f.skill().pk, "rating": 1}]
    item.skill_match = "closest"
    item.save()
    billing = f.queue("Billing", members=[bob])
    services.conversation_transfer(conversation=item.conversation, actor=alice, to_queue=billing, note="Billing question")
    item.refresh_from_db()
    assert item.queue == billing and item.agent == bob and item.status == WorkItemStatus.OFFERED
    assert item.skill_match == "closest" and len(item.required_skills) == 1
    assert f.profile_of(alice).used_units == 0
    assert item.conversation.messages.filter(direction="internal", body="Billing question").exists()


def test_transfer_refuses_other_queue_kinds_and_closed_queues():
    alice = f.agent("alice")
    item = assigned_item(alice)
    with pytest.raises(exceptions.QueueKindMismatch):
        services.conversation_transfer(conversation=item.conversation, actor=alice, to_queue=f.queue(kind=QueueKind.VOICE))
    closed = f.queue("Closed", operating_hours=OperatingHours.objects.create(name="Never", weekly={}))
    with pytest.raises(exceptions.QueueClosed):
        services.conversation_transfer(conversation=item.conversation, actor=alice, to_queue=closed)
    with pytest.raises(exceptions.InvalidTransfer):
        services.conversation_transfer(conversation=item.conversation, actor=alice)


def test_transfer_to_agent_respects_capacity_unless_supervisor(supervisor):
    alice, bob = f.agent("alice"), f.agent("bob", capacity=0)
    item = assigned_item(alice)
    with pytest.raises(exceptions.AgentAtCapacity):
        services.conversation_transfer(conversation=item.conversation, actor=alice, to_agent=bob)
    services.conversation_transfer(conversation=item.conversation, actor=supervisor, to_agent=bob)
    item.refresh_from_db()
    assert item.agent == bob and item.forced_units == 1
    assert Conversation.objects.get(pk=item.conversation_id).assigned_agent == bob


def test_consult_uses_no_capacity(published):
    alice, bob = f.agent("alice"), f.agent("bob")
    item = assigned_item(alice)
    services.conversation_consult(conversation=item.conversation, actor=alice, consultant=bob)
    assert f.profile_of(bob).used_units == 0
    event, groups = published.of_type("consult.requested")[0]
    assert f"agent.{bob.pk}" in groups and event["data"]["workitem_id"] == item.pk


def test_release_puts_the_item_back_and_reroutes():
    alice = f.agent("alice")
    item = assigned_item(alice)
    AgentProfile.objects.filter(user=alice).update(presence=presence_builtin("away"))
    services.workitem_release(workitem=item, actor=alice, reason="Need to step away")
    item.refresh_from_db()
    conversation = Conversation.objects.get(pk=item.conversation_id)
    assert item.status == WorkItemStatus.QUEUED and item.agent is None
    assert conversation.status == ConversationStatus.OPEN and conversation.assigned_agent is None
    assert f.profile_of(alice).used_units == 0


def test_agent_sees_conversations_waiting_in_own_queues_only(agent, other_agent):
    queue = f.queue(members=[agent])
    f.stream(fallback=queue)
    services.agent_profile_ensure(agent=agent)
    item = services.conversation_enqueue(conversation=f.inbound("waiting"))
    assert crm_selectors.conversation_get(user=agent, conversation_id=item.conversation_id) is not None
    assert crm_selectors.conversation_get(user=other_agent, conversation_id=item.conversation_id) is None
    assert list(selectors.workitems_pickable(user=agent)) == [item]
    assert list(selectors.workitems_pickable(user=other_agent)) == []


def test_agent_joining_a_queue_gets_waiting_work():
    f.stream(fallback=(queue := f.queue()))
    item = services.conversation_enqueue(conversation=f.inbound("hello"))
    alice = f.agent("alice")
    services.queue_member_add(queue=queue, agent=alice)
    item.refresh_from_db()
    assert item.agent == alice


def test_effort_falls_back_then_learns_from_closed_conversations():
    cold = services.effort_predict(channel=ChannelKind.WEBCHAT, queue_id=None, text="hello")
    assert cold.source == "fallback" and cold.minutes == 8.0 and cold.confidence == 0.2
    assert services.effort_model_train() is None
    now = timezone.now()
    for i in range(40):
        conversation = f.inbound("x" * (10 + i * 20))
        minutes = 2 + i * 0.5
        Conversation.objects.filter(pk=conversation.pk).update(
            status=ConversationStatus.CLOSED, assigned_at=now - timedelta(minutes=minutes), closed_at=now
        )
    model = services.effort_model_train()
    assert model.sample_count == 40 and model.r_squared > 0.5
    short = services.effort_predict(channel=ChannelKind.WEBCHAT, queue_id=None, text="x" * 10)
    long = services.effort_predict(channel=ChannelKind.WEBCHAT, queue_id=None, text="x" * 800)
    assert short.source == "model" and long.minutes > short.minutes and 0 < long.confidence <= 1


def test_queue_stats_counts_and_longest_wait():
    alice = f.agent("alice", capacity=1)
    queue = f.queue("Stats", members=[alice])
    f.stream(fallback=queue)
    for _ in range(3):
        services.conversation_enqueue(conversation=f.inbound("hi"))
    stats = selectors.queue_stats(queue_ids=[queue.pk])[0]
    assert stats["queued"] == 2 and stats["offered"] == 1 and stats["staffed_agents"] == 1


def test_missing_heartbeat_sets_the_agent_offline(published):
    alice = f.agent("alice")
    services.presence_heartbeat(agent=alice)
    services.routing_sweep(now=timezone.now() + timedelta(seconds=30))
    assert f.profile_of(alice).presence.base == BasePresence.AVAILABLE
    report = services.routing_sweep(now=timezone.now() + timedelta(seconds=61))
    assert report.went_offline == 1 and f.profile_of(alice).presence.base == BasePresence.OFFLINE


def test_e65_a_disconnected_agents_live_chats_and_offers_go_back_to_the_queue_but_async_work_stays():
    alice, bob = f.agent("alice"), f.agent("bob", presence=BasePresence.OFFLINE)
    queue = f.queue(members=[alice, bob])
    f.stream(fallback=queue)
    f.stream(channel=ChannelKind.SMS, fallback=queue)
    chat = services.conversation_enqueue(conversation=f.inbound("Hi from the web"))
    services.offer_accept(workitem=chat, agent=alice)
    sms = services.conversation_enqueue(conversation=f.inbound("Hi by text", channel=ChannelKind.SMS))
    services.offer_accept(workitem=sms, agent=alice)
    offered = services.conversation_enqueue(conversation=f.inbound("Anyone?"))
    services.presence_heartbeat(agent=alice)
    AgentProfile.objects.filter(user=bob).update(presence=presence_builtin(BasePresence.AVAILABLE))

    services.routing_sweep(now=timezone.now() + timedelta(seconds=61))

    for item in (chat, sms, offered):
        item.refresh_from_db()
    assert chat.agent == bob and chat.status == WorkItemStatus.OFFERED
    assert offered.agent == bob and offered.status == WorkItemStatus.OFFERED
    assert sms.agent == alice and sms.status == WorkItemStatus.ASSIGNED
    assert f.profile_of(alice).used_units == 1


def test_e65_signing_out_gives_live_chats_back_to_the_queue(client):
    alice, bob = f.agent("alice"), f.agent("bob", presence=BasePresence.OFFLINE)
    f.stream(fallback=f.queue(members=[alice, bob]))
    chat = services.conversation_enqueue(conversation=f.inbound("Hi from the web"))
    services.offer_accept(workitem=chat, agent=alice)
    client.force_login(alice)
    AgentProfile.objects.filter(user=bob).update(presence=presence_builtin(BasePresence.AVAILABLE))

    client.post("/logout/")

    chat.refresh_from_db()
    assert chat.agent == bob and chat.status == WorkItemStatus.OFFERED
    assert f.profile_of(alice).presence.base == BasePresence.OFFLINE and f.profile_of(alice).used_units == 0


def test_d46_a_resolved_case_does_not_end_a_live_chat(supervisor):
    alice = f.agent("alice")
    f.stream(fallback=f.queue(members=[alice]))
    conversation = f.inbound("Is my refund done?")
    case = crm_services.case_open_from_conversation(conversation=conversation, actor=supervisor)
    item = services.conversation_enqueue(conversation=conversation)
    services.offer_accept(workitem=item, agent=alice)
    crm_services.case_resolve(case=case, actor=alice, resolution="Refunded.")

    services.routing_sweep()

    item.refresh_from_db()
    assert item.status == WorkItemStatus.ASSIGNED and f.profile_of(alice).used_units == 1


def test_d50_signing_in_starts_in_the_default_presence_and_signing_out_goes_offline(client):
    alice = f.agent("alice", presence=BasePresence.OFFLINE)
    alice.set_password("pw-alice")
    alice.save()
    lunch = Presence.objects.create(name="Back soon", base=BasePresence.AWAY)
    bob = f.agent("bob", presence=BasePresence.OFFLINE, default_presence=lunch)
    bob.set_password("pw-bob")
    bob.save()

    client.post("/login/", {"username": "alice", "password": "pw-alice"})
    assert f.profile_of(alice).presence.base == BasePresence.AVAILABLE  # no default: Available
    client.post("/logout/")
    assert f.profile_of(alice).presence.base == BasePresence.OFFLINE
    client.post("/login/", {"username": "bob", "password": "pw-bob"})
    assert f.profile_of(bob).presence == lunch

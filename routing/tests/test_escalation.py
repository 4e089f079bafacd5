"""D.48 escalation of a chat to a call (the built-in Escalation profile) and D.54 the session limit."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from crm.choices import ChannelKind, MessageDirection, SenderKind
from crm.models import Message, TimelineEvent
from routing import exceptions, services
from routing.choices import QueueKind, WorkItemStatus
from routing.models import AgentCapacity, AssignmentRule, CapacityProfile, Participant, WorkItem
from routing.services.presence import escalation_profile
from routing.tests import factories as f

pytestmark = pytest.mark.django_db
API = "/api/v1/routing"
HTMX = {"HTTP_HX_REQUEST": "true"}


def enqueue(body="Hello", **kw):
    return services.conversation_enqueue(conversation=f.inbound(body, **kw))


def handled_chat(agent, queue):
    """A web chat in ``queue`` that ``agent`` has accepted (the queue's only free member)."""
    item = enqueue("Can we talk on the phone?")
    assert item.agent == agent, item
    services.offer_accept(workitem=item, agent=agent)
    item.refresh_from_db()
    return item


def escalation_used(agent) -> int:
    usage = AgentCapacity.objects.filter(agent__user=agent, profile=escalation_profile()).first()
    return usage.used if usage else 0


def rejection_reasons(item, agent) -> list[str]:
    trace = services.workitem_explain(workitem=item)
    return next((r["reasons"] for r in trace["rejected"] if r["agent"] == agent.pk), [])


@pytest.fixture
def alice():
    return f.agent("alice", capacity=3)


@pytest.fixture
def chat_queue(alice):
    queue = f.queue("Chat", members=[alice])
    f.stream(fallback=queue)
    return queue


@pytest.fixture
def email_queue(alice):
    queue = f.queue("Email", kind=QueueKind.RECORD, members=[alice])
    f.stream(channel=ChannelKind.EMAIL, kind=QueueKind.RECORD, fallback=queue)
    return queue


# --- D.48 -------------------------------------------------------------------------


def test_d48_escalation_profile_is_built_in_with_limit_one():
    profile = CapacityProfile.objects.get(name="Escalation")
    assert profile.is_builtin and profile.default_limit == 1 and profile.reset == "immediate"


def test_d48_call_start_attaches_escalation_and_records_voice_call_started(alice, chat_queue):
    item = handled_chat(alice, chat_queue)

    services.conversation_call_start(conversation=item.conversation, actor=alice, mode="voice")

    item.refresh_from_db()
    assert item.call_mode == "voice" and escalation_profile().pk in item.capacity_profiles
    assert escalation_used(alice) == 1
    note = Message.objects.filter(conversation=item.conversation, sender_kind=SenderKind.SYSTEM).last()
    assert note.body == "Voice call started" and note.direction == MessageDirection.INTERNAL
    assert TimelineEvent.objects.filter(conversation=item.conversation, summary="Voice call started").exists()
    with pytest.raises(exceptions.CallInProgress):
        services.conversation_call_start(conversation=item.conversation, actor=alice, mode="video")


def test_d48_agent_in_a_call_gets_no_chat_or_voice_offers_but_still_gets_email(alice, chat_queue, email_queue):
    f.stream(channel=ChannelKind.VOICE, kind=QueueKind.VOICE,
             fallback=f.queue("Phones", kind=QueueKind.VOICE, members=[alice]))
    alice_profile = f.profile_of(alice)
    alice_profile.capacity_units = 4
    alice_profile.save(update_fields=["capacity_units"])
    item = handled_chat(alice, chat_queue)
    services.conversation_call_start(conversation=item.conversation, actor=alice, mode="video")

    chat = enqueue("Anyone there?")
    voice = enqueue("", channel=ChannelKind.VOICE)
    email = enqueue("Invoice question", channel=ChannelKind.EMAIL, address="carol@example.com")

    assert chat.status == WorkItemStatus.QUEUED and voice.status == WorkItemStatus.QUEUED
    assert "in a call" in rejection_reasons(chat, alice)
    assert "in a call" in rejection_reasons(voice, alice)
    assert email.status == WorkItemStatus.OFFERED and email.agent == alice

    services.conversation_call_end(conversation=item.conversation, actor=alice)

    chat.refresh_from_db()
    item.refresh_from_db()
    assert chat.status == WorkItemStatus.OFFERED and chat.agent == alice
    assert item.call_mode == "" and escalation_profile().pk not in item.capacity_profiles
    assert escalation_used(alice) == 0
    assert Message.objects.filter(conversation=item.conversation, body="Video call ended").exists()


def test_d48_in_a_call_blocks_affinity_offers_too(alice, chat_queue):
    item = handled_chat(alice, chat_queue)
    services.conversation_call_start(conversation=item.conversation, actor=alice, mode="voice")
    returning = enqueue("Me again")
    returning.affinity_agent = alice
    returning.save(update_fields=["affinity_agent"])

    services.assignment_run(queue_ids=[chat_queue.pk])

    returning.refresh_from_db()
    assert returning.status == WorkItemStatus.QUEUED
    assert "in a call" in rejection_reasons(returning, alice)


def test_d48_only_the_handling_agent_starts_or_ends_the_call(alice, chat_queue, supervisor):
    item = handled_chat(alice, chat_queue)
    for actor in (f.agent("bob"), supervisor):
        with pytest.raises(exceptions.NotHandlingAgent):
            services.conversation_call_start(conversation=item.conversation, actor=actor, mode="voice")
    services.conversation_call_start(conversation=item.conversation, actor=alice, mode="voice")
    with pytest.raises(exceptions.NotHandlingAgent):
        services.conversation_call_end(conversation=item.conversation, actor=supervisor)
    with pytest.raises(exceptions.InvalidCallMode):
        services.conversation_call_start(conversation=item.conversation, actor=alice, mode="fax")


def test_d48_a_call_needs_an_active_chat_and_an_agent_not_already_in_a_call(alice, chat_queue, email_queue):
    first = handled_chat(alice, chat_queue)
    second = handled_chat(alice, chat_queue)
    services.conversation_call_start(conversation=first.conversation, actor=alice, mode="voice")
    with pytest.raises(exceptions.AgentInCall):
        services.conversation_call_start(conversation=second.conversation, actor=alice, mode="voice")
    with pytest.raises(exceptions.NoCallInProgress):
        services.conversation_call_end(conversation=second.conversation, actor=alice)
    email = enqueue("Invoice", channel=ChannelKind.EMAIL, address="dan@example.com")
    services.offer_accept(workitem=email, agent=alice)
    services.conversation_call_end(conversation=first.conversation, actor=alice)
    with pytest.raises(exceptions.CallNotAvailable):
        services.conversation_call_start(conversation=email.conversation, actor=alice, mode="voice")


def test_d48_the_call_follows_the_item_on_transfer_to_an_agent(alice, chat_queue):
    bob = f.agent("bob")
    item = handled_chat(alice, chat_queue)
    services.conversation_call_start(conversation=item.conversation, actor=alice, mode="voice")

    services.conversation_transfer(conversation=item.conversation, actor=alice, to_agent=bob)

    item.refresh_from_db()
    assert item.agent == bob and item.call_mode == "voice"
    assert escalation_used(alice) == 0 and escalation_used(bob) == 1
    chat_queue.members.add(bob)
    waiting = enqueue("Hello?")
    assert waiting.agent == alice  # Bob, now in the call, is not offered chats
    assert "in a call" in rejection_reasons(waiting, bob)


def test_d48_the_call_follows_the_item_through_a_queue_transfer(alice, chat_queue):
    bob = f.agent("bob")
    escalations = f.queue("Escalations", members=[bob])
    item = handled_chat(alice, chat_queue)
    services.conversation_call_start(conversation=item.conversation, actor=alice, mode="voice")

    services.conversation_transfer(conversation=item.conversation, actor=alice, to_queue=escalations)

    item.refresh_from_db()
    assert item.status == WorkItemStatus.OFFERED and item.agent == bob and item.call_mode == "voice"
    assert escalation_used(alice) == 0 and escalation_used(bob) == 1


def test_d48_a_call_cannot_be_transferred_to_an_agent_already_in_a_call(alice, chat_queue):
    bob = f.agent("bob")
    chat_queue.members.add(bob)
    mine = handled_chat(alice, chat_queue)
    theirs = handled_chat(bob, chat_queue)
    services.conversation_call_start(conversation=mine.conversation, actor=alice, mode="voice")
    services.conversation_call_start(conversation=theirs.conversation, actor=bob, mode="voice")
    with pytest.raises(exceptions.AgentInCall):
        services.conversation_transfer(conversation=mine.conversation, actor=alice, to_agent=bob)


def test_d48_wrap_up_releases_the_escalation_with_the_rest_of_the_capacity(alice, chat_queue):
    item = handled_chat(alice, chat_queue)
    services.conversation_call_start(conversation=item.conversation, actor=alice, mode="voice")
    services.conversation_end(conversation=item.conversation, actor=alice)
    assert escalation_used(alice) == 1  # wrap-up blocks capacity until the close (the default mode)

    services.conversation_wrap_up(conversation=item.conversation, actor=alice, disposition_codes=[])

    assert escalation_used(alice) == 0 and f.profile_of(alice).used_units == 0


def test_d48_a_released_chat_leaves_its_call_behind(alice, chat_queue):
    item = handled_chat(alice, chat_queue)
    services.conversation_call_start(conversation=item.conversation, actor=alice, mode="voice")
    bob = f.agent("bob", presence="offline")
    chat_queue.members.add(bob)

    services.presence_set(agent=alice, presence="offline")
    services.workitem_release(workitem=item, actor=alice, reason="going home")
    services.presence_set(agent=bob, presence="available")

    item.refresh_from_db()
    assert item.agent == bob and item.call_mode == "" and escalation_profile().pk not in item.capacity_profiles
    assert escalation_used(alice) == 0 and escalation_used(bob) == 0


def test_d48_builtin_escalation_profile_cannot_be_deleted_or_edited_via_api(supervisor):
    api = APIClient()
    api.force_authenticate(supervisor)
    profile = escalation_profile()

    edited = api.patch(f"{API}/capacity-profiles/{profile.pk}/", {"default_limit": 5}, format="json")
    deleted = api.delete(f"{API}/capacity-profiles/{profile.pk}/")

    assert edited.status_code == 403 and edited.json()["error"]["code"] == "not_permitted"
    assert deleted.status_code == 403
    profile.refresh_from_db()
    assert profile.default_limit == 1
    created = api.post(f"{API}/capacity-profiles/", {"name": "Returns", "is_builtin": True}, format="json")
    assert created.status_code == 201 and created.json()["is_builtin"] is False
    stream = api.post(f"{API}/work-streams/", {
        "name": "Chat", "channel_kind": "webchat", "kind": "messaging", "fallback_queue": f.queue().pk,
        "capacity_profiles": [profile.pk],
    }, format="json")
    assert stream.status_code == 400 and "capacity_profiles" in stream.json()["error"]["fields"]


def test_d48_builtin_escalation_profile_is_read_only_in_admin(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    profile = escalation_profile()
    url = reverse("admin:routing_capacityprofile_change", args=[profile.pk])
    assert client.post(url, {"name": "Renamed", "default_limit": 3}).status_code == 403
    delete = reverse("admin:routing_capacityprofile_delete", args=[profile.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    profile.refresh_from_db()
    assert profile.name == "Escalation" and profile.default_limit == 1


def test_d48_workspace_call_control_for_the_handling_agent_only(alice, chat_queue, supervisor):
    item = handled_chat(alice, chat_queue)
    client = Client()
    client.force_login(alice)
    start = reverse("routing:conversation-call-start", args=[item.conversation_id])
    end = reverse("routing:conversation-call-end", args=[item.conversation_id])
    page = client.get(f"/conversations/{item.conversation_id}/").content.decode()
    assert "Start voice call" in page

    started = client.post(start, {"mode": "voice"}, **HTMX)

    assert started.status_code == 200 and "End call" in started.content.decode()
    item.refresh_from_db()
    assert item.call_mode == "voice"
    assert json.loads(started["HX-Trigger"])["agent-bar-refresh"] is True
    assert client.post(start, {"mode": "fax"}, **HTMX).status_code == 422
    other = Client()
    other.force_login(supervisor)  # sees the conversation, but the call is the handling agent's
    assert other.post(end, **HTMX).status_code == 403
    assert "End call" not in other.get(f"/conversations/{item.conversation_id}/").content.decode()

    ended = client.post(end, **HTMX)

    assert ended.status_code == 200 and "Start voice call" in ended.content.decode()
    item.refresh_from_db()
    assert item.call_mode == ""


def test_d48_call_start_and_end_over_the_api(alice, chat_queue):
    item = handled_chat(alice, chat_queue)
    api = APIClient()
    api.force_authenticate(alice)

    started = api.post(f"{API}/work-items/{item.pk}/call/start/", {"mode": "video"}, format="json")
    assert started.status_code == 200 and started.json()["call_mode"] == "video"
    again = api.post(f"{API}/work-items/{item.pk}/call/start/", {"mode": "video"}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "call_in_progress"
    bad = api.post(f"{API}/work-items/{item.pk}/call/start/", {"mode": "fax"}, format="json")
    assert bad.status_code == 400 and "mode" in bad.json()["error"]["fields"]
    ended = api.post(f"{API}/work-items/{item.pk}/call/end/", format="json")
    assert ended.status_code == 200 and ended.json()["call_mode"] == ""


# --- D.54 -------------------------------------------------------------------------


@pytest.fixture
def two_sessions(settings):
    settings.ROUTING_MAX_SESSIONS_PER_AGENT = 2


def test_d54_engine_offers_no_more_than_the_session_limit(two_sessions):
    alice = f.agent("alice", capacity=5)
    queue = f.queue(members=[alice])
    f.stream(fallback=queue)
    first, second, third = enqueue("one"), enqueue("two"), enqueue("three")

    assert first.agent == alice and second.agent == alice
    assert third.status == WorkItemStatus.QUEUED
    assert "session limit" in rejection_reasons(third, alice)
    assert f.profile_of(alice).active_items == 2


def test_d54_custom_assignment_rules_do_not_lift_the_limit(two_sessions):
    alice = f.agent("alice", capacity=5)
    queue = f.queue(members=[alice], assignment_method="custom")
    AssignmentRule.objects.create(queue=queue, name="Anyone", conditions=[])
    f.stream(fallback=queue)
    first, second, third = enqueue("one"), enqueue("two"), enqueue("three")

    assert first.agent == alice and second.agent == alice and third.status == WorkItemStatus.QUEUED
    assert "session limit" in rejection_reasons(third, alice)


def test_d54_one_cycle_stops_at_the_limit(two_sessions):
    alice = f.agent("alice", capacity=5)
    queue = f.queue(members=[alice])
    f.stream(fallback=queue)
    alice_profile = f.profile_of(alice)
    alice_profile.presence = f.presence_builtin("offline")
    alice_profile.save(update_fields=["presence"])
    items = [enqueue(str(n)) for n in range(4)]
    assert all(i.status == WorkItemStatus.QUEUED for i in items)

    services.presence_set(agent=alice, presence="available")

    assert WorkItem.objects.filter(agent=alice, status=WorkItemStatus.OFFERED).count() == 2


def test_d54_consults_count_as_sessions_and_affinity_does_not_lift_the_limit(two_sessions, supervisor):
    alice = f.agent("alice", capacity=5)
    bob = f.agent("bob", capacity=5)
    chat_queue = f.queue("Chat", members=[alice])
    f.stream(fallback=chat_queue)
    mine = handled_chat(alice, chat_queue)
    theirs = enqueue("Bob's customer")
    services.workitem_force_assign(workitem=theirs, agent=bob, actor=supervisor)
    services.conversation_consult(conversation=theirs.conversation, actor=bob, consultant=alice)

    returning = enqueue("Me again")
    returning.affinity_agent = alice
    returning.save(update_fields=["affinity_agent"])
    services.assignment_run(queue_ids=[chat_queue.pk])

    returning.refresh_from_db()
    assert mine.agent == alice and returning.status == WorkItemStatus.QUEUED
    assert "session limit" in rejection_reasons(returning, alice)


def test_d54_pick_force_assign_transfer_and_consult_are_refused_at_the_limit(two_sessions, supervisor):
    alice = f.agent("alice", capacity=5)
    bob = f.agent("bob", capacity=5, presence="offline")
    queue = f.queue(members=[alice, bob])
    f.stream(fallback=queue)
    first = enqueue("one")
    enqueue("two")  # offered to alice: her second session
    services.offer_accept(workitem=first, agent=alice)
    waiting = enqueue("three")
    assert waiting.status == WorkItemStatus.QUEUED

    with pytest.raises(exceptions.SessionLimitReached):
        services.workitem_pick(workitem=waiting, agent=alice)
    with pytest.raises(exceptions.SessionLimitReached):
        services.workitem_force_assign(workitem=waiting, agent=alice, actor=supervisor)
    services.workitem_pick(workitem=waiting, agent=bob)
    with pytest.raises(exceptions.SessionLimitReached):
        services.conversation_transfer(conversation=waiting.conversation, actor=supervisor, to_agent=alice)
    with pytest.raises(exceptions.SessionLimitReached):
        services.conversation_consult(conversation=waiting.conversation, actor=bob, consultant=alice)
    assert not Participant.objects.filter(agent=alice).exists()
    assert f.profile_of(alice).active_items == 2


def test_d54_api_and_workspace_explain_the_session_limit(two_sessions, supervisor):
    alice = f.agent("alice", capacity=5)
    queue = f.queue(members=[alice])
    f.stream(fallback=queue)
    enqueue("one"), enqueue("two")
    waiting = enqueue("three")
    api = APIClient()
    api.force_authenticate(alice)

    picked = api.post(f"{API}/work-items/{waiting.pk}/pick/")
    api.force_authenticate(supervisor)
    forced = api.post(f"{API}/work-items/{waiting.pk}/force-assign/", {"agent": alice.pk}, format="json")

    assert picked.status_code == 409 and picked.json()["error"]["code"] == "session_limit"
    assert forced.status_code == 409 and "2 sessions" in forced.json()["error"]["message"]
    client = Client()
    client.force_login(alice)
    response = client.post(reverse("routing:workitem-pick", args=[waiting.pk]), **HTMX)
    assert response.status_code == 422 and "2 sessions" in response.content.decode()

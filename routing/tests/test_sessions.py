"""Conversation sessions (E.69): every conversation has 1..n sessions, each with its participants and
a closure reason; a new session starts on escalation, transfer, reject, timeout, release and force-assign."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from crm import services as crm_services
from crm.choices import ChannelKind
from routing import selectors, services
from routing.choices import (
    OverflowAction,
    OverflowCondition,
    OverflowStage,
    ParticipantRole,
    SessionClosure,
    WorkItemStatus,
)
from routing.models import AgentProfile, ConversationSession, OperatingHours, OverflowRule, RouteRule, WorkItem
from routing.services.engine import assignment_run
from routing.services.presence import presence_builtin
from routing.tests import factories as f
from routing.tests.scenarios import populate

pytestmark = pytest.mark.django_db
BASE = "/api/v1/routing"


def offered_item(agent, **stream_fields):
    f.stream(fallback=f.queue(members=[agent]), **stream_fields)
    item = services.conversation_enqueue(conversation=f.inbound("Hi"))
    assert item.status == WorkItemStatus.OFFERED
    return item


def assigned_item(agent, **stream_fields):
    item = offered_item(agent, **stream_fields)
    services.offer_accept(workitem=item, agent=agent)
    item.refresh_from_db()
    return item


def history(item) -> list[tuple]:
    """(queue, agent, closure reason) of each session of the item's conversation, oldest first."""
    return [(s.queue_id, s.agent_id, s.closure_reason) for s in selectors.sessions_of(item.conversation)]


def open_sessions(item) -> int:
    return ConversationSession.objects.filter(conversation_id=item.conversation_id, ended_at__isnull=True).count()


def test_e69_escalation_into_routing_opens_the_first_session_and_the_offer_gives_it_its_agent():
    queue = f.queue()
    f.stream(fallback=queue)
    item = services.conversation_enqueue(conversation=f.inbound("Nobody here yet"))
    assert history(item) == [(queue.pk, None, "")]

    alice = f.agent("alice")
    queue.members.add(alice)
    services.assignment_run(queue_ids=[queue.pk])
    services.offer_accept(workitem=item, agent=alice)
    assert history(item) == [(queue.pk, alice.pk, "")]
    session = ConversationSession.objects.get(conversation_id=item.conversation_id)
    assert session.workitem_id == item.pk and session.ended_at is None


def test_e69_a_reject_ends_the_session_as_agent_reject_and_opens_the_next():
    alice = f.agent("alice")
    item = offered_item(alice, decline_limit=1)
    services.offer_decline(workitem=item, agent=alice, reason="Not my topic")
    assert history(item) == [(item.queue_id, alice.pk, SessionClosure.AGENT_REJECT), (item.queue_id, None, "")]
    assert open_sessions(item) == 1


def test_e69_an_offer_timeout_ends_the_session_as_agent_timeout_and_opens_the_next():
    alice = f.agent("alice")
    item = offered_item(alice, decline_limit=1, offer_timeout_seconds=30)
    services.offer_timeout(workitem=item, now=timezone.now() + timedelta(seconds=31))
    assert history(item) == [(item.queue_id, alice.pk, SessionClosure.AGENT_TIMEOUT), (item.queue_id, None, "")]


def test_e69_an_agent_transfer_to_a_queue_ends_the_session_as_agent_transferred():
    alice = f.agent("alice")
    item = assigned_item(alice)
    billing = f.queue("Billing")
    services.conversation_transfer(conversation=item.conversation, actor=alice, to_queue=billing)
    assert history(item) == [(item.queue_id, alice.pk, SessionClosure.AGENT_TRANSFERRED), (billing.pk, None, "")]


def test_e69_a_supervisor_transfer_to_an_agent_opens_the_next_session_with_that_agent(supervisor):
    alice, bob = f.agent("alice"), f.agent("bob")
    item = assigned_item(alice)
    services.conversation_transfer(conversation=item.conversation, actor=supervisor, to_agent=bob)
    assert history(item) == [
        (item.queue_id, alice.pk, SessionClosure.SUPERVISOR_TRANSFER_TO_AGENT), (item.queue_id, bob.pk, ""),
    ]


def test_e69_an_agent_transfer_to_an_agent_is_agent_transferred():
    alice, bob = f.agent("alice"), f.agent("bob")
    item = assigned_item(alice)
    services.conversation_transfer(conversation=item.conversation, actor=alice, to_agent=bob)
    assert history(item)[0][2] == SessionClosure.AGENT_TRANSFERRED and history(item)[1][1] == bob.pk


def test_e69_a_force_assign_ends_the_session_and_opens_one_for_the_assignee(supervisor):
    alice, bob = f.agent("alice"), f.agent("bob")
    item = offered_item(alice)
    services.workitem_force_assign(workitem=item, agent=bob, actor=supervisor)
    assert history(item) == [
        (item.queue_id, alice.pk, SessionClosure.SUPERVISOR_FORCE_ASSIGN), (item.queue_id, bob.pk, ""),
    ]


def test_e69_a_pick_gives_the_queued_session_its_agent():
    queue = f.queue()
    f.stream(fallback=queue)
    item = services.conversation_enqueue(conversation=f.inbound("Anyone?"))
    alice = f.agent("alice")
    queue.members.add(alice)
    services.workitem_pick(workitem=item, agent=alice)
    assert history(item) == [(queue.pk, alice.pk, "")]


def test_e69_a_release_ends_the_session_as_released_to_queue():
    alice = f.agent("alice", presence="away")
    queue = f.queue(members=[alice])
    f.stream(fallback=queue)
    item = services.conversation_enqueue(conversation=f.inbound("Hi"))
    services.workitem_pick(workitem=item, agent=alice)
    services.workitem_release(workitem=item, actor=alice, reason="Stepping away")
    assert history(item) == [(queue.pk, alice.pk, SessionClosure.RELEASED_TO_QUEUE), (queue.pk, None, "")]


def test_e69_wrap_up_ends_the_last_session_as_agent_ended_and_leaves_none_open():
    alice = f.agent("alice")
    item = assigned_item(alice)
    services.conversation_end(conversation=item.conversation, actor=alice)
    assert open_sessions(item) == 1  # wrap-up is part of the agent's session
    services.conversation_wrap_up(conversation=item.conversation, actor=alice, disposition_codes=[])
    assert history(item) == [(item.queue_id, alice.pk, SessionClosure.AGENT_ENDED)]
    assert open_sessions(item) == 0


def test_e69_a_customer_closing_the_chat_is_customer_ended_once_the_sweep_reconciles():
    alice = f.agent("alice")
    item = assigned_item(alice)
    crm_services.conversation_close(conversation=item.conversation, actor=None, reason="The customer ended the chat")
    services.routing_sweep()
    assert history(item) == [(item.queue_id, alice.pk, SessionClosure.CUSTOMER_ENDED)]


def test_e69_a_user_closing_the_conversation_elsewhere_is_a_force_close(supervisor):
    alice = f.agent("alice")
    item = assigned_item(alice)
    crm_services.conversation_close(conversation=item.conversation, actor=supervisor)
    services.routing_sweep()
    assert history(item) == [(item.queue_id, alice.pk, SessionClosure.FORCE_CLOSE)]
    assert open_sessions(item) == 0


def test_e69_the_auto_close_timer_ends_the_session_as_auto_closed():
    f.stream(fallback=f.queue())
    item = services.conversation_enqueue(conversation=f.inbound("anyone?"))
    services.routing_sweep(now=timezone.now() + timedelta(minutes=21))
    assert history(item) == [(item.queue_id, None, SessionClosure.AUTO_CLOSED)]


def test_e69_pre_queue_overflow_end_records_one_session_closed_by_overflow():
    queue = f.queue("Main", operating_hours=OperatingHours.objects.create(name="Never", weekly={}))
    # E.58: the hours brought a locked out-of-hours pair; its action is set to end.
    OverflowRule.objects.filter(queue=queue, condition=OverflowCondition.OUT_OF_HOURS).update(
        action=OverflowAction.END, message="We're closed.")
    RouteRule.objects.create(work_stream=f.stream(fallback=f.queue("Fallback")), name="Everyone", queue=queue)
    item = services.conversation_enqueue(conversation=f.inbound("hello"))
    assert item.status == WorkItemStatus.ABANDONED
    assert history(item) == [(queue.pk, None, SessionClosure.OVERFLOW)]


def test_e69_in_queue_overflow_to_another_queue_ends_the_session_and_opens_one_there():
    main, backup = f.queue("Main"), f.queue("Backup")
    OverflowRule.objects.create(queue=main, stage=OverflowStage.IN_QUEUE, condition=OverflowCondition.WAIT_EXCEEDS,
                                threshold=60, action=OverflowAction.TRANSFER_QUEUE, target_queue=backup)
    f.stream(fallback=main)
    item = services.conversation_enqueue(conversation=f.inbound("hello"))
    services.routing_sweep(now=timezone.now() + timedelta(seconds=61))
    assert history(item) == [(main.pk, None, SessionClosure.OVERFLOW), (backup.pk, None, "")]


def test_e69_one_conversation_has_three_sessions_after_a_decline_and_a_transfer():
    alice, bob = f.agent("alice"), f.agent("bob")
    queue = f.queue(members=[alice])
    f.stream(fallback=queue, decline_limit=2)
    item = services.conversation_enqueue(conversation=f.inbound("Refund please"))
    AgentProfile.objects.filter(user=alice).update(presence=presence_builtin("away"))
    services.offer_decline(workitem=item, agent=alice)
    queue.members.add(bob)
    services.assignment_run(queue_ids=[queue.pk])
    item.refresh_from_db()
    assert item.agent == bob
    services.offer_accept(workitem=item, agent=bob)
    billing = f.queue("Billing")
    services.conversation_transfer(conversation=item.conversation, actor=bob, to_queue=billing)

    assert history(item) == [
        (queue.pk, alice.pk, SessionClosure.AGENT_REJECT),
        (queue.pk, bob.pk, SessionClosure.AGENT_TRANSFERRED),
        (billing.pk, None, ""),
    ]
    first, second, third = selectors.sessions_of(item.conversation)
    assert first.ended_at == second.started_at and second.ended_at == third.started_at


def test_e69_a_consult_joins_the_current_session_and_leaves_when_it_ends(supervisor):
    alice, bob, carol = f.agent("alice"), f.agent("bob"), f.agent("carol")
    item = assigned_item(alice)
    participant = services.conversation_consult(conversation=item.conversation, actor=alice, consultant=bob)
    current = ConversationSession.objects.get(conversation_id=item.conversation_id, ended_at__isnull=True)
    assert participant.session == current and participant.role == ParticipantRole.CONSULT
    assert [p.agent for p in selectors.sessions_of(item.conversation)[0].participants.all()] == [bob]

    services.conversation_transfer(conversation=item.conversation, actor=supervisor, to_agent=carol)
    participant.refresh_from_db()
    current.refresh_from_db()
    assert participant.left_at == current.ended_at is not None


def test_e69_a_customer_returning_to_a_parked_conversation_starts_a_new_session():
    alice = f.agent("alice")
    f.stream(channel=ChannelKind.SMS, fallback=f.queue(members=[alice]))
    conversation = f.inbound("Order 42?", channel=ChannelKind.SMS, address="+12025550101")
    item = services.conversation_enqueue(conversation=conversation)
    services.offer_accept(workitem=item, agent=alice)
    services.conversation_park(conversation=conversation, actor=alice)
    f.inbound("Me again", channel=ChannelKind.SMS, address="+12025550101")
    services.conversation_enqueue(conversation=conversation)
    sessions = history(item)
    assert sessions[0] == (item.queue_id, alice.pk, SessionClosure.RELEASED_TO_QUEUE) and len(sessions) == 2
    assert open_sessions(item) == 1


def test_e69_a_conversation_has_at_most_one_open_session():
    f.stream(fallback=f.queue())
    item = services.conversation_enqueue(conversation=f.inbound("hello"))
    with pytest.raises(IntegrityError), transaction.atomic():
        ConversationSession.objects.create(conversation_id=item.conversation_id, workitem=item,
                                           queue_id=item.queue_id, started_at=timezone.now())


def test_e69_a_closed_session_needs_a_closure_reason():
    f.stream(fallback=f.queue())
    item = services.conversation_enqueue(conversation=f.inbound("hello"))
    with pytest.raises(IntegrityError), transaction.atomic():
        ConversationSession.objects.filter(workitem=item).update(ended_at=timezone.now())


def test_e69_the_api_shows_a_work_items_sessions_to_those_who_may_see_it(supervisor, other_agent):
    alice, bob = f.agent("alice"), f.agent("bob")
    item = offered_item(alice, decline_limit=1)
    services.offer_decline(workitem=item, agent=alice)
    services.workitem_force_assign(workitem=item, agent=bob, actor=supervisor)
    services.conversation_consult(conversation=item.conversation, actor=bob, consultant=alice)

    api = APIClient()
    api.force_authenticate(supervisor)
    sessions = api.get(f"{BASE}/work-items/{item.pk}/sessions/").json()
    assert [(s["agent"], s["closure_reason"]) for s in sessions] == [
        (alice.pk, "agent_reject"), (None, "supervisor_force_assign"), (bob.pk, ""),
    ]
    assert sessions[0]["queue_name"] == item.queue.name and sessions[0]["ended_at"]
    assert [(p["agent"], p["role"]) for p in sessions[2]["participants"]] == [(alice.pk, "consult")]

    api.force_authenticate(other_agent)
    assert api.get(f"{BASE}/work-items/{item.pk}/sessions/").status_code == 404


def test_e69_the_sessions_endpoint_query_count_does_not_grow_with_sessions(supervisor, django_assert_max_num_queries):
    alice = f.agent("alice")
    item = assigned_item(alice)
    api = APIClient()
    api.force_authenticate(supervisor)
    with CaptureQueriesContext(connection) as few:
        api.get(f"{BASE}/work-items/{item.pk}/sessions/")
    for _round in range(3):
        services.workitem_release(workitem=item, actor=alice)
        item.refresh_from_db()
        if item.status == WorkItemStatus.OFFERED:
            services.offer_accept(workitem=item, agent=alice)
        services.conversation_consult(conversation=item.conversation, actor=alice, consultant=f.agent())
    assert len(history(item)) == 4
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api.get(f"{BASE}/work-items/{item.pk}/sessions/").json()) == 4


def _queued_population(prefix: str, items: int) -> list[int]:
    """``items`` queued work items, each with its open session (``populate`` opens them), and room for all."""
    return populate(agents=items, items=items, queues=1, capacity=1, queues_per_agent=1, prefix=prefix)["queues"]


def test_e69_the_assignment_cycle_gives_sessions_their_agents_without_a_query_per_item(django_assert_max_num_queries):
    small, large = _queued_population("five", 5), _queued_population("fifty", 50)
    with CaptureQueriesContext(connection) as five:
        assert len(assignment_run(queue_ids=small)) == 5
    with django_assert_max_num_queries(len(five.captured_queries)):
        assert len(assignment_run(queue_ids=large)) == 50
    offered = ConversationSession.objects.filter(queue_id__in=large, ended_at__isnull=True)
    assert offered.filter(agent__isnull=True).count() == 0
    assert set(offered.values_list("agent_id", flat=True)) == set(
        WorkItem.objects.filter(queue_id__in=large).values_list("agent_id", flat=True))


def test_e69_the_data_migration_gives_each_open_work_item_one_session():
    alice = f.agent("alice")
    item = assigned_item(alice)
    services.conversation_consult(conversation=item.conversation, actor=alice, consultant=f.agent("bob"))
    ConversationSession.objects.all().delete()
    done = services.conversation_enqueue(conversation=f.inbound("other"))
    services.workitem_complete(conversation=done.conversation, actor=alice)
    ConversationSession.objects.filter(workitem=done).delete()

    migration = importlib.import_module("routing.migrations.0015_sessions_for_open_workitems")
    migration.open_sessions(apps, None)
    migration.open_sessions(apps, None)

    session = ConversationSession.objects.get()
    assert (session.workitem_id, session.agent_id, session.ended_at) == (item.pk, alice.pk, None)
    assert [p.agent.username for p in session.participants.all()] == ["bob"]


def test_e69_a_consultant_who_leaves_the_side_chat_leaves_the_session():
    alice, bob = f.agent("alice"), f.agent("bob")
    item = assigned_item(alice)
    services.conversation_consult(conversation=item.conversation, actor=alice, consultant=bob)
    client = Client()
    client.force_login(bob)
    url = f"/workspace/conversations/{item.conversation_id}/consult/"
    assert f'hx-post="{url}leave/"' in client.get("/").content.decode()

    response = client.post(f"{url}leave/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200 and response.content == b""
    participant = selectors.sessions_of(item.conversation)[0].participants.get()
    assert participant.left_at is not None and open_sessions(item) == 1
    assert selectors.consults_for(user=bob) == []
    assert client.post(f"{url}reply/", {"body": "late"}, HTTP_HX_REQUEST="true").status_code == 404
    assert client.post(f"{url}leave/", HTTP_HX_REQUEST="true").status_code == 404


def test_e69_the_admin_shows_a_work_items_sessions_read_only(admin_client):
    alice = f.agent("alice")
    item = offered_item(alice, decline_limit=1)
    services.offer_decline(workitem=item, agent=alice)
    page = admin_client.get(f"/admin/routing/workitem/{item.pk}/change/").content.decode()
    assert "Agent rejected the offer" in page
    assert 'name="sessions-0-closure_reason"' not in page  # shown, not editable

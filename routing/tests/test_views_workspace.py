"""The routing side of the agent workspace over HTTP: presence, offers, pick, transfer, consult, end, wrap-up."""

import json

import pytest
from django.test import Client

from crm.choices import ConversationStatus, MessageDirection
from crm.models import Conversation, DispositionCode, Message, WrapUpPolicy
from routing import services
from routing.choices import BasePresence, OfferOutcome, WorkItemStatus
from routing.models import Offer, Presence, WorkItem
from routing.services.presence import presence_builtin
from routing.tests import factories as f

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def signed_in_offline(user) -> Client:
    """Signing in makes an agent Available (D.50); this one then steps away, so nothing is pushed to them."""
    client = client_for(user)
    services.presence_set(agent=user, presence=BasePresence.OFFLINE)
    return client


@pytest.fixture
def alice():
    return f.agent("alice", capacity=2)


@pytest.fixture
def bob():
    return f.agent("bob", capacity=2)


@pytest.fixture
def offered(alice, bob):
    """A web chat offered to Alice (Bob, in another queue, is a colleague to transfer to)."""
    f.stream(fallback=f.queue("Support", members=[alice]))
    f.queue("Returns", members=[bob])
    item = services.conversation_enqueue(conversation=f.inbound("My Pulse Buds will not pair"))
    assert item.status == WorkItemStatus.OFFERED and item.agent == alice
    return item


@pytest.fixture
def assigned(offered, alice):
    services.offer_accept(workitem=offered, agent=alice)
    offered.refresh_from_db()
    return offered


def test_presence_selector_lists_custom_presences_and_sets_presence(alice):
    lunch = Presence.objects.create(name="Lunch", base=BasePresence.AWAY)
    client = client_for(alice)
    html = client.get("/").content.decode()
    assert 'id="presence-select"' in html and ">Lunch</option>" in html and "Load" in html

    response = client.post("/workspace/presence/", {"presence": lunch.pk}, **HTMX)
    assert response.status_code == 200
    assert f.profile_of(alice).presence == lunch
    assert 'data-presence="Lunch"' in response.content.decode()

    inactive = presence_builtin(BasePresence.INACTIVE)
    assert client.post("/workspace/presence/", {"presence": inactive.pk}, **HTMX).status_code == 422
    assert f.profile_of(alice).presence == lunch


def test_offer_dialog_shows_customer_channel_queue_wait_and_countdown(offered, alice):
    html = client_for(alice).get("/").content.decode()
    assert f'id="offer-{offered.pk}"' in html and 'role="alertdialog"' in html
    assert "Support" in html and "Web chat" in html and "data-countdown=" in html and "data-since=" in html


def test_accepting_an_offer_assigns_and_opens_the_session(offered, alice, published):
    response = client_for(alice).post(f"/workspace/offers/{offered.pk}/accept/", **HTMX)
    assert response.status_code == 200
    trigger = json.loads(response["HX-Trigger"])
    assert trigger["session-open"]["id"] == offered.conversation_id
    offered.refresh_from_db()
    assert offered.status == WorkItemStatus.ASSIGNED
    assert offered.conversation.assigned_agent == alice
    # The agent's other open workspaces drop the dialog too.
    [(event, groups)] = published.of_type("workitem.offer_ended")
    assert event["data"]["outcome"] == "accepted" and f"agent.{alice.pk}" in groups


def test_declining_needs_a_reason_and_records_it(offered, alice):
    client = client_for(alice)
    assert client.post(f"/workspace/offers/{offered.pk}/decline/", {"reason": "other"}, **HTMX).status_code == 422
    response = client.post(f"/workspace/offers/{offered.pk}/decline/", {"reason": "skills", "detail": "Needs Spanish"},
                           **HTMX)
    assert response.status_code == 200
    offer = Offer.objects.get(workitem=offered, agent=alice, outcome=OfferOutcome.REJECTED)
    assert offer.reason == "Outside my skills: Needs Spanish"


def test_an_agent_cannot_answer_another_agents_offer(offered, bob):
    client = client_for(bob)
    assert client.post(f"/workspace/offers/{offered.pk}/accept/", **HTMX).status_code == 404
    assert client.post(f"/workspace/offers/{offered.pk}/decline/", {"reason": "busy"}, **HTMX).status_code == 404
    offered.refresh_from_db()
    assert offered.status == WorkItemStatus.OFFERED and offered.agent_id != bob.pk


def test_pick_mode_lists_open_items_in_my_queues_and_picks(alice, bob):
    picker = f.agent("carol")
    picker_client = signed_in_offline(picker)
    f.stream(fallback=f.queue("Pick", members=[picker]))
    item = services.conversation_enqueue(conversation=f.inbound("Anyone there?"))
    assert item.status == WorkItemStatus.QUEUED
    assert f"pickable-{item.pk}" in picker_client.get("/workspace/queue-work/").content.decode()
    assert f"pickable-{item.pk}" not in client_for(bob).get("/workspace/queue-work/").content.decode()
    assert client_for(bob).post(f"/workspace/queue-work/{item.pk}/pick/", **HTMX).status_code == 404

    response = picker_client.post(f"/workspace/queue-work/{item.pk}/pick/", **HTMX)
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"])["session-open"]["id"] == item.conversation_id
    item.refresh_from_db()
    assert item.status == WorkItemStatus.ASSIGNED and item.agent == picker


def test_transfer_to_an_agent_with_a_note(assigned, alice, bob):
    html = client_for(alice).get(f"/conversations/{assigned.conversation_id}/", **HTMX).content.decode()
    assert f'id="routing-actions-{assigned.conversation_id}"' in html and "bob" in html

    response = client_for(alice).post(
        f"/workspace/conversations/{assigned.conversation_id}/transfer/",
        {"agent": bob.pk, "note": "Customer wants a replacement"}, **HTMX,
    )
    assert response.status_code == 200 and "transferred to bob" in response.content.decode()
    assigned.refresh_from_db()
    assert assigned.agent == bob and assigned.conversation.assigned_agent == bob
    assert f.profile_of(alice).used_units == 0 and f.profile_of(bob).used_units == 1
    note = Message.objects.get(conversation=assigned.conversation, body="Customer wants a replacement")
    assert note.direction == MessageDirection.INTERNAL
    # Bob sees it, with its history.
    html = client_for(bob).get(f"/conversations/{assigned.conversation_id}/", **HTMX).content.decode()
    assert "My Pulse Buds will not pair" in html and "Customer wants a replacement" in html


def test_transfer_needs_exactly_one_target(assigned, alice, bob):
    url = f"/workspace/conversations/{assigned.conversation_id}/transfer/"
    assert client_for(alice).post(url, {"note": "x"}, **HTMX).status_code == 422


def test_an_agent_cannot_transfer_end_or_wrap_up_a_conversation_not_theirs(assigned, bob):
    client = client_for(bob)
    base = f"/workspace/conversations/{assigned.conversation_id}"
    assert client.post(f"{base}/transfer/", {"agent": bob.pk}, **HTMX).status_code == 404
    assert client.post(f"{base}/end/", **HTMX).status_code == 404
    assert client.post(f"{base}/wrap-up/", **HTMX).status_code == 404
    assert client.post(f"{base}/consult/", {"agent": bob.pk}, **HTMX).status_code == 404
    assigned.refresh_from_db()
    assert assigned.agent_id != bob.pk


def test_a_queue_member_who_does_not_handle_it_gets_403(alice, bob):
    f.stream(fallback=f.queue("Both", members=[alice, bob]))
    f.profile_of(alice)
    services.presence_set(agent=alice, presence="offline")
    services.presence_set(agent=bob, presence="offline")
    item = services.conversation_enqueue(conversation=f.inbound("Queued"))
    assert item.status == WorkItemStatus.QUEUED  # visible to both as an open item in their queue
    url = f"/workspace/conversations/{item.conversation_id}/transfer/"
    assert client_for(bob).post(url, {"agent": alice.pk}, **HTMX).status_code == 403


def test_consult_invites_a_colleague_into_a_side_chat_without_capacity(assigned, alice, bob):
    url = f"/workspace/conversations/{assigned.conversation_id}/consult/"
    response = client_for(alice).post(url, {"agent": bob.pk, "note": "Is a refund OK?"}, **HTMX)
    assert response.status_code == 200 and "Consult sent to bob" in response.content.decode()
    assert f.profile_of(bob).used_units == 0
    home = client_for(bob).get("/").content.decode()
    assert f'id="consult-{assigned.conversation_id}"' in home and "alice asks you about" in home

    reply = client_for(bob).post(f"{url}reply/", {"body": "Yes, within 30 days"}, **HTMX)
    assert reply.status_code == 200
    answer = Message.objects.get(conversation=assigned.conversation, body="Yes, within 30 days")
    assert answer.direction == MessageDirection.INTERNAL and answer.sender_user == bob
    # Someone not consulted cannot post into the side chat.
    carol = f.agent("carol")
    assert client_for(carol).post(f"{url}reply/", {"body": "hi"}, **HTMX).status_code == 404


def test_end_goes_through_routing_and_wrap_up_frees_capacity(assigned, alice):
    WrapUpPolicy.objects.create(disposition_required=True, max_dispositions=1)
    code = DispositionCode.objects.create(code="resolved", label="Resolved", category="Outcome")
    client = client_for(alice)
    base = f"/workspace/conversations/{assigned.conversation_id}"
    response = client.post(f"{base}/end/", **HTMX)
    assert response.status_code == 200
    assigned.conversation.refresh_from_db()
    assert assigned.conversation.status == ConversationStatus.WRAP_UP
    assert f.profile_of(alice).used_units == 1  # held during wrap-up (default mode)
    assert Message.objects.filter(conversation=assigned.conversation, metadata__event="conversation.ended").exists()

    assert client.post(f"{base}/wrap-up/", {"notes": "done"}, **HTMX).status_code == 422  # code required
    response = client.post(f"{base}/wrap-up/", {"codes": [code.pk], "notes": "Re-paired"}, **HTMX)
    assert response.status_code == 200
    assigned.refresh_from_db()
    assigned.conversation.refresh_from_db()
    assert assigned.conversation.status == ConversationStatus.CLOSED
    assert list(assigned.conversation.disposition_codes.all()) == [code]
    assert assigned.status == WorkItemStatus.COMPLETED
    assert f.profile_of(alice).used_units == 0


def test_end_without_a_work_item_still_ends_through_crm(agent):
    conversation = f.inbound("No routing here")
    Conversation.objects.filter(pk=conversation.pk).update(assigned_agent=agent, status=ConversationStatus.ACTIVE)
    assert not WorkItem.objects.filter(conversation=conversation).exists()
    response = client_for(agent).post(f"/workspace/conversations/{conversation.pk}/end/", **HTMX)
    assert response.status_code == 200
    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.WRAP_UP
    assert conversation.messages.filter(metadata__event="conversation.ended").exists()


def test_workspace_views_need_a_staff_member(outsider, offered):
    client = client_for(outsider)
    assert client.get("/workspace/agent-bar/").status_code == 403
    assert client.post(f"/workspace/offers/{offered.pk}/accept/").status_code == 403
    assert Client().get("/workspace/queue-work/").status_code == 302


def test_queue_work_query_count_does_not_grow(alice, django_assert_max_num_queries):
    picker = f.agent("carol")
    client = signed_in_offline(picker)
    f.stream(fallback=f.queue("Pick", members=[picker]))
    for n in range(3):
        services.conversation_enqueue(conversation=f.inbound(f"few {n}"))
    with django_assert_max_num_queries(8) as few:
        client.get("/workspace/queue-work/")
    for n in range(15):
        services.conversation_enqueue(conversation=f.inbound(f"many {n}"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/workspace/queue-work/").content.decode()
    assert html.count('id="pickable-') == 18

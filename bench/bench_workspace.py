"""Agent workspace page timings: server time p50/p95 and query counts with 500 conversations and 50 agents.

Run with ``make bench``; prints one line per view.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contactcenter.choices import Role
from crm import services
from crm.choices import ChannelKind, ConversationStatus, DeliveryStatus, MessageDirection, SenderKind
from crm.models import Case, Contact, ContactIdentity, Conversation, Message

pytestmark = pytest.mark.django_db

AGENTS = 50
CONVERSATIONS = 500
MESSAGES_PER_CONVERSATION = 6
CASES = 300
ROUNDS = 40
TARGET_P95_MS = 100


def _population():
    User = get_user_model()
    agents_group = Group.objects.get_or_create(name=Role.AGENT)[0]
    agents = User.objects.bulk_create(
        [User(username=f"bench-agent-{n}", first_name="Agent", last_name=str(n)) for n in range(AGENTS)]
    )
    agents_group.user_set.add(*agents)
    supervisor = User.objects.create_user(username="bench-supervisor", password="x")
    supervisor.groups.add(Group.objects.get_or_create(name=Role.SUPERVISOR)[0])
    contacts = Contact.objects.bulk_create(
        [Contact(first_name="Customer", last_name=str(n), email=f"bench{n}@example.com") for n in range(CONVERSATIONS)]
    )
    identities = ContactIdentity.objects.bulk_create(
        [ContactIdentity(contact=c, kind=ChannelKind.WEBCHAT, address=f"bench-{c.pk}") for c in contacts]
    )
    now = timezone.now()
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(
                channel_kind=ChannelKind.WEBCHAT, identity=identity, contact=identity.contact,
                assigned_agent=agents[n % AGENTS], status=ConversationStatus.ACTIVE,
                last_message_at=now, last_customer_message_at=now, first_queued_at=now, assigned_at=now,
                context={"pre_chat": {"Order number": f"NW-{n:05d}"}},
            )
            for n, identity in enumerate(identities)
        ]
    )
    messages = []
    for conversation in conversations:
        for m in range(MESSAGES_PER_CONVERSATION):
            inbound = m % 2 == 0
            messages.append(
                Message(
                    conversation=conversation, channel_kind=ChannelKind.WEBCHAT,
                    direction=MessageDirection.INBOUND if inbound else MessageDirection.OUTBOUND,
                    sender_kind=SenderKind.CUSTOMER if inbound else SenderKind.AGENT,
                    sender_user=None if inbound else conversation.assigned_agent,
                    body=f"Message {m} about order {conversation.context['pre_chat']['Order number']}",
                    delivery_status=DeliveryStatus.RECEIVED if inbound else DeliveryStatus.DELIVERED,
                )
            )
    Message.objects.bulk_create(messages)
    for n in range(CASES):
        services.case_create(
            contact=contacts[n], subject=f"Bench case {n}", actor=supervisor, owner=agents[n % AGENTS],
            resolve_by=now + timedelta(hours=n % 48 - 4),
        )
    return agents[0], supervisor, conversations[0]


def _measure(client: Client, label: str, request) -> None:
    request()  # warm caches and connections
    timings, queries = [], 0
    for _ in range(ROUNDS):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = request()
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (label, response.status_code)
        queries = len(captured.captured_queries)
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    flag = "ok" if p95 <= TARGET_P95_MS else f"over {TARGET_P95_MS} ms target"
    print(f"workspace {label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, {queries} queries ({flag})")


def test_workspace_views(client):
    agent, supervisor, conversation = _population()
    htmx = {"HTTP_HX_REQUEST": "true"}
    case = Case.objects.filter(owner=agent).first()
    print(f"\nworkspace bench: {AGENTS} agents, {CONVERSATIONS} conversations, "
          f"{CONVERSATIONS * MESSAGES_PER_CONVERSATION} messages, {CASES} cases")

    client.force_login(agent)
    _measure(client, "home (agent)", lambda: client.get("/"))
    _measure(client, "worklist fragment", lambda: client.get("/workspace/worklist/", **htmx))
    _measure(client, "session fragment", lambda: client.get(f"/conversations/{conversation.pk}/", **htmx))
    _measure(client, "quick replies", lambda: client.get(f"/conversations/{conversation.pk}/quick-replies/?q=", **htmx))
    _measure(
        client, "send reply",
        lambda: client.post(f"/conversations/{conversation.pk}/messages/", {"body": "On it."}, **htmx),
    )
    _measure(client, "case page", lambda: client.get(f"/cases/{case.pk}/"))
    client.force_login(supervisor)
    _measure(client, "case list (supervisor, all open)", lambda: client.get("/cases/?view=all"))
    _measure(client, "case list (breaching SLA)", lambda: client.get("/cases/?view=breaching"))

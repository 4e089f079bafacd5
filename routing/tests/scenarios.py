"""Large routing populations built with bulk inserts, for the concurrency test and the benchmark."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q
from django.utils import timezone

from crm.choices import ChannelKind
from crm.models import Contact, ContactIdentity, Conversation
from routing.choices import BasePresence, WorkItemStatus
from routing.models import AgentProfile, ConversationSession, Queue, WorkItem, WorkStream
from routing.services.presence import presence_builtin


def populate(*, agents: int, items: int, queues: int, capacity: int, queues_per_agent: int = 2, prefix: str = "p") -> dict:
    """``agents`` available agents, each a member of ``queues_per_agent`` of ``queues`` queues, and
    ``items`` queued work items spread evenly over the queues (no assignment yet)."""
    qs = [Queue.objects.create(name=f"{prefix} queue {i}", priority=1 + i % 3) for i in range(queues)]
    stream = WorkStream.objects.create(name=f"{prefix} chat", channel_kind=ChannelKind.WEBCHAT, fallback_queue=qs[0],
                                       allowed_presences=[BasePresence.AVAILABLE, BasePresence.BUSY,
                                                          BasePresence.DND])
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"{prefix}-agent-{i}") for i in range(agents)])
    available = presence_builtin(BasePresence.AVAILABLE)
    AgentProfile.objects.bulk_create([
        AgentProfile(user=u, presence=available, presence_manual=True, capacity_units=capacity) for u in users
    ])
    through = Queue.members.through
    through.objects.bulk_create([
        through(queue_id=qs[(i + k) % queues].pk, user_id=u.pk)
        for i, u in enumerate(users) for k in range(queues_per_agent)
    ])
    contacts = Contact.objects.bulk_create([Contact(first_name=f"C{i}") for i in range(items)])
    identities = ContactIdentity.objects.bulk_create([
        ContactIdentity(contact=c, kind=ChannelKind.WEBCHAT, address=f"{prefix}-visitor-{c.pk}") for c in contacts
    ])
    now = timezone.now()
    conversations = Conversation.objects.bulk_create([
        Conversation(channel_kind=ChannelKind.WEBCHAT, identity=ident, contact_id=ident.contact_id,
                     queue_id=qs[i % queues].pk, last_customer_message_at=now, last_message_at=now)
        for i, ident in enumerate(identities)
    ])
    items = WorkItem.objects.bulk_create([
        WorkItem(conversation=c, work_stream=stream, queue_id=c.queue_id, order_at=now + timedelta(microseconds=i),
                 queued_at=now, overflow_checked=True)
        for i, c in enumerate(conversations)
    ], batch_size=2000)
    ConversationSession.objects.bulk_create([
        ConversationSession(conversation_id=item.conversation_id, workitem=item, queue_id=item.queue_id, started_at=now)
        for item in items
    ], batch_size=2000)
    return {"queues": [q.pk for q in qs], "stream": stream.pk, "agents": [u.pk for u in users]}


def assignable_left(queue_ids: list[int]) -> bool:
    """Whether some queued item has a member of its queue with room for it."""
    room = Queue.members.through.objects.filter(
        user__routing_profile__used_units__lt=F("user__routing_profile__capacity_units"),
        queue_id__in=queue_ids,
    ).values("queue_id")
    return WorkItem.objects.filter(status=WorkItemStatus.QUEUED, queue_id__in=room).exists()


def violations(queue_ids: list[int]) -> dict:
    """Double assignments and capacity breaches, counted straight from the tables."""
    live = [WorkItemStatus.OFFERED, WorkItemStatus.ASSIGNED]
    double_offers = (
        WorkItem.objects.filter(queue_id__in=queue_ids)
        .annotate(n=Count("offers", filter=Q(offers__outcome__in=["pending", "accepted"])))
        .filter(n__gt=1).count()
    )
    over_capacity = AgentProfile.objects.filter(used_units__gt=F("capacity_units")).count()
    mismatched = 0
    held = dict(
        WorkItem.objects.filter(status__in=live).values("agent_id").annotate(n=Count("pk")).values_list("agent_id", "n")
    )
    for user_id, used in AgentProfile.objects.values_list("user_id", "used_units"):
        if used != held.get(user_id, 0):
            mismatched += 1
    return {"double_offers": double_offers, "over_capacity": over_capacity, "capacity_mismatch": mismatched}

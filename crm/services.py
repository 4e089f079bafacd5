"""CRM business operations. Every caller (views, API, consumers, tasks, admin) uses these.

Two locks keep ingest correct under concurrency, both transaction-scoped
PostgreSQL advisory locks:

* the *identity* lock serialises messages from one customer address, so two
  webhooks arriving at once resolve to one contact and one conversation;
* the *message order* lock is taken just before a message row is inserted and
  held until commit, so message ids become visible in increasing order. A
  client resuming "after id N" therefore never misses a smaller id that
  committed late.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from contactcenter.realtime import publish
from crm import events
from crm.choices import (
    ActivityStatus,
    CasePriority,
    CaseStatus,
    ChannelKind,
    ConversationStatus,
    DeliveryStatus,
    MessageDirection,
    SenderKind,
    TimelineKind,
)
from crm.exceptions import CaseAlreadyLinked, CaseClosed, ConversationClosed
from crm.models import Account, Activity, Case, Contact, ContactIdentity, Conversation, Message, TimelineEvent
from crm.validators import normalize_email, normalize_phone

MESSAGE_ORDER_LOCK = 0x6D7367  # "msg"
IDENTITY_LOCK_NAMESPACE = 0x696400  # "id"
SUMMARY_LENGTH = 200
CASE_NUMBER_SEQUENCE = "crm_case_number_seq"


@dataclass(frozen=True)
class IngestResult:
    message: Message
    conversation: Conversation
    created: bool
    conversation_created: bool


def _advisory_lock(key: int, subkey: int = 0) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [key, subkey])


def _crc(value: str) -> int:
    # pg_advisory_xact_lock(int, int) takes signed 32-bit keys.
    return zlib.crc32(value.encode()) - 2**31


def identity_normalize(*, channel_kind: str, address: str) -> str:
    """The canonical address of an identity: E.164 phones, lower-case email domains."""
    address = address.strip()
    if channel_kind in (ChannelKind.SMS, ChannelKind.VOICE):
        return normalize_phone(address)
    if channel_kind == ChannelKind.EMAIL:
        return normalize_email(address)
    return address


def _identity_resolve(*, channel_kind: str, address: str, contact_defaults: dict[str, Any]) -> ContactIdentity:
    identity = ContactIdentity.objects.select_related("contact").filter(kind=channel_kind, address=address).first()
    if identity:
        return identity
    contact = _contact_matching(channel_kind=channel_kind, address=address)
    if contact is None:
        fields = dict(contact_defaults)
        if channel_kind == ChannelKind.EMAIL:
            fields.setdefault("email", address)
        elif channel_kind in (ChannelKind.SMS, ChannelKind.VOICE):
            fields.setdefault("phone", address)
        contact = Contact.objects.create(**fields)
    return ContactIdentity.objects.create(contact=contact, kind=channel_kind, address=address)


def _contact_matching(*, channel_kind: str, address: str) -> Contact | None:
    """An existing contact a new address belongs to: same email, or same phone number."""
    if channel_kind == ChannelKind.EMAIL:
        return Contact.objects.filter(email__iexact=address).order_by("id").first()
    if channel_kind in (ChannelKind.SMS, ChannelKind.VOICE):
        return Contact.objects.filter(phone=address).order_by("id").first()
    return None


def _timeline_add(*, contact_id: int, kind: str, summary: str, actor=None, **links: Any) -> TimelineEvent:
    return TimelineEvent.objects.create(
        contact_id=contact_id, kind=kind, summary=summary[:SUMMARY_LENGTH], actor=actor, **links
    )


def _message_create(*, conversation: Conversation, **fields: Any) -> Message:
    _advisory_lock(MESSAGE_ORDER_LOCK)
    message = Message.objects.create(conversation=conversation, channel_kind=conversation.channel_kind, **fields)
    _timeline_add(
        contact_id=conversation.contact_id,
        kind=TimelineKind.MESSAGE if message.direction != MessageDirection.INTERNAL else TimelineKind.NOTE,
        summary=message.body,
        actor=message.sender_user,
        conversation=conversation,
        message=message,
    )
    publish(events.message_created(message), groups=events.conversation_groups(conversation))
    return message


def message_ingest(
    *,
    channel_kind: str,
    address: str,
    body: str,
    provider_message_id: str | None = None,
    channel_ref: str = "",
    html: str = "",
    attachments: list[dict[str, Any]] | None = None,
    contact_defaults: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    subject: str = "",
    metadata: dict[str, Any] | None = None,
) -> IngestResult:
    """Store one inbound customer message.

    In one transaction: resolve or create the contact by identity, find the
    live conversation of that identity or open one, store the message and
    append to the timeline. A repeated ``provider_message_id`` returns the
    stored message and changes nothing.

    Side effects: rows in Contact/ContactIdentity (new customers), Conversation
    (new thread), Message, TimelineEvent; after commit ``message.created`` (and
    ``conversation.created`` for a new thread) to the conversation's groups.
    Locks: the identity advisory lock, then the message order lock.
    """
    address = identity_normalize(channel_kind=channel_kind, address=address)
    with transaction.atomic():
        _advisory_lock(IDENTITY_LOCK_NAMESPACE, _crc(f"{channel_kind}:{address}"))
        if provider_message_id:
            existing = (
                Message.objects.select_related("conversation")
                .filter(channel_kind=channel_kind, provider_message_id=provider_message_id)
                .first()
            )
            if existing:
                return IngestResult(existing, existing.conversation, created=False, conversation_created=False)

        identity = _identity_resolve(
            channel_kind=channel_kind, address=address, contact_defaults=contact_defaults or {}
        )
        conversation = (
            Conversation.objects.select_for_update()
            .filter(identity=identity)
            .exclude(status=ConversationStatus.CLOSED)
            .first()
        )
        conversation_created = conversation is None
        now = timezone.now()
        if conversation is None:
            conversation = Conversation.objects.create(
                channel_kind=channel_kind,
                channel_ref=channel_ref,
                identity=identity,
                contact=identity.contact,
                subject=subject[:255],
                context=context or {},
            )
            _timeline_add(
                contact_id=conversation.contact_id,
                kind=TimelineKind.CONVERSATION_STARTED,
                summary=f"{conversation.get_channel_kind_display()} conversation started",
                conversation=conversation,
            )
            publish(events.conversation_created(conversation), groups=events.conversation_groups(conversation))
        elif context:
            conversation.context = {**conversation.context, **context}
        conversation.last_customer_message_at = now
        conversation.last_message_at = now
        conversation.save()

        message = _message_create(
            conversation=conversation,
            direction=MessageDirection.INBOUND,
            sender_kind=SenderKind.CUSTOMER,
            body=body,
            html=html,
            attachments=attachments or [],
            provider_message_id=provider_message_id,
            delivery_status=DeliveryStatus.RECEIVED,
            metadata=metadata or {},
        )
    return IngestResult(message, conversation, created=True, conversation_created=conversation_created)


def message_send(
    *,
    conversation: Conversation,
    sender,
    body: str,
    html: str = "",
    attachments: list[dict[str, Any]] | None = None,
    sender_kind: str = SenderKind.AGENT,
) -> Message:
    """Store an outbound message from an agent, supervisor, bot or the system.

    The first agent message stamps the conversation's (and its case's) first
    response time. Delivery to the customer's channel is the channel adapter's
    job; the message starts ``queued``.

    Side effects: Message, TimelineEvent; after commit ``message.created``.
    Raises ConversationClosed.
    """
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.status == ConversationStatus.CLOSED:
            raise ConversationClosed()
        now = timezone.now()
        fields = ["last_message_at"]
        conversation.last_message_at = now
        if sender_kind == SenderKind.AGENT and conversation.first_agent_response_at is None:
            conversation.first_agent_response_at = now
            fields.append("first_agent_response_at")
            if conversation.case_id:
                Case.objects.filter(pk=conversation.case_id, first_responded_at__isnull=True).update(
                    first_responded_at=now
                )
        conversation.save(update_fields=fields)
        return _message_create(
            conversation=conversation,
            direction=MessageDirection.OUTBOUND,
            sender_kind=sender_kind,
            sender_user=sender,
            body=body,
            html=html,
            attachments=attachments or [],
            delivery_status=DeliveryStatus.QUEUED,
        )


def note_add(*, conversation: Conversation, author, body: str, sender_kind: str = SenderKind.AGENT) -> Message:
    """Add an internal note: seen by colleagues and supervisors, never by the customer.

    Side effects: Message (direction internal), TimelineEvent; after commit ``message.created``.
    """
    with transaction.atomic():
        return _message_create(
            conversation=conversation,
            direction=MessageDirection.INTERNAL,
            sender_kind=sender_kind,
            sender_user=author,
            body=body,
            delivery_status=DeliveryStatus.DELIVERED,
        )


def _case_number() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [CASE_NUMBER_SEQUENCE])
        (value,) = cursor.fetchone()
    return f"CAS-{value:06d}"


def case_create(
    *,
    contact: Contact,
    subject: str,
    actor=None,
    description: str = "",
    priority: int = CasePriority.NORMAL,
    severity: int | None = None,
    owner=None,
    account: Account | None = None,
    first_response_by=None,
    resolve_by=None,
) -> Case:
    """Open a case for a contact.

    Side effects: Case (numbered from a database sequence), TimelineEvent;
    after commit ``case.created`` to supervisors and the owner.
    """
    with transaction.atomic():
        extra = {"severity": severity} if severity is not None else {}
        case = Case.objects.create(
            number=_case_number(),
            subject=subject[:255],
            description=description,
            priority=priority,
            contact=contact,
            account=account or contact.account,
            owner=owner,
            first_response_by=first_response_by,
            resolve_by=resolve_by,
            **extra,
        )
        _timeline_add(
            contact_id=contact.pk, kind=TimelineKind.CASE_OPENED, summary=f"{case.number} opened: {case.subject}",
            actor=actor, case=case,
        )
        publish(events.case_event(case, type=events.CASE_CREATED), groups=events.case_groups(case))
    return case


def case_open_from_conversation(
    *, conversation: Conversation, actor, subject: str = "", description: str = "", priority: int = CasePriority.NORMAL
) -> Case:
    """Open a case from a conversation and link them; the acting agent owns it.

    Without a subject the conversation's subject, or its first customer
    message, names the case. Raises CaseAlreadyLinked.
    Side effects: as ``case_create``, plus the conversation's case link.
    """
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().select_related("contact").get(pk=conversation.pk)
        if conversation.case_id:
            raise CaseAlreadyLinked()
        first = conversation.messages.filter(direction=MessageDirection.INBOUND).order_by("id").first()
        subject = subject or conversation.subject or (first.body if first else "") or "Conversation"
        case = case_create(
            contact=conversation.contact,
            subject=subject.splitlines()[0],
            description=description or (first.body if first else ""),
            priority=priority,
            owner=actor,
            actor=actor,
        )
        conversation.case = case
        conversation.save(update_fields=["case"])
        if conversation.first_agent_response_at:
            Case.objects.filter(pk=case.pk).update(first_responded_at=conversation.first_agent_response_at)
            case.first_responded_at = conversation.first_agent_response_at
    return case


def conversation_close(*, conversation: Conversation, actor, reason: str = "") -> Conversation:
    """Close a conversation for good (a closed conversation is never reopened).

    Side effects: Conversation status/closed_at, a system Message recording who
    closed it (the durable event clients replay), TimelineEvent; after commit
    ``message.created`` and ``conversation.status_changed``.
    Raises ConversationClosed.
    """
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.status == ConversationStatus.CLOSED:
            raise ConversationClosed()
        previous = conversation.status
        conversation.status = ConversationStatus.CLOSED
        conversation.closed_at = timezone.now()
        conversation.save(update_fields=["status", "closed_at"])
        who = str(actor) if actor else "the system"
        text = f"Conversation closed by {who}" + (f": {reason}" if reason else "")
        _message_create(
            conversation=conversation,
            direction=MessageDirection.INTERNAL,
            sender_kind=SenderKind.SYSTEM,
            sender_user=actor,
            body=text,
            delivery_status=DeliveryStatus.DELIVERED,
            metadata={"event": "conversation.closed", "previous_status": previous, "reason": reason},
        )
        _timeline_add(
            contact_id=conversation.contact_id, kind=TimelineKind.CONVERSATION_CLOSED, summary=text,
            actor=actor, conversation=conversation,
        )
        publish(
            events.conversation_status_changed(conversation, previous=previous),
            groups=events.conversation_groups(conversation),
        )
    return conversation


def case_resolve(*, case: Case, actor, resolution: str) -> Case:
    """Resolve a case with its resolution text; its open activities are cancelled.

    Side effects: Case status/resolution/resolved_at, Activity statuses,
    TimelineEvent; after commit ``case.resolved``. Raises CaseClosed.
    """
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status in CaseStatus.closed():
            raise CaseClosed()
        now = timezone.now()
        case.status = CaseStatus.RESOLVED
        case.resolution = resolution
        case.resolved_at = now
        case.save(update_fields=["status", "resolution", "resolved_at", "updated_at"])
        case.activities.filter(status=ActivityStatus.OPEN).update(status=ActivityStatus.CANCELLED, completed_at=now)
        _timeline_add(
            contact_id=case.contact_id, kind=TimelineKind.CASE_RESOLVED,
            summary=f"{case.number} resolved: {resolution}", actor=actor, case=case,
        )
        publish(events.case_event(case, type=events.CASE_RESOLVED), groups=events.case_groups(case))
    return case


def activity_create(
    *,
    actor,
    subject: str,
    kind: str,
    case: Case | None = None,
    contact: Contact | None = None,
    owner=None,
    due_at=None,
    description: str = "",
) -> Activity:
    """Schedule a task, call, email or appointment regarding a case or contact.

    Side effects: Activity, TimelineEvent.
    """
    contact = contact or (case.contact if case else None)
    with transaction.atomic():
        activity = Activity.objects.create(
            kind=kind, subject=subject, description=description, due_at=due_at,
            owner=owner or actor, case=case, contact=contact,
        )
        _timeline_add(
            contact_id=contact.pk, kind=TimelineKind.ACTIVITY,
            summary=f"{activity.get_kind_display()}: {subject}", actor=actor, case=case, activity=activity,
        )
    return activity


def contact_identity_add(*, contact: Contact, channel_kind: str, address: str) -> ContactIdentity:
    """Attach a channel address to a contact (normalised; unique across contacts)."""
    address = identity_normalize(channel_kind=channel_kind, address=address)
    return ContactIdentity.objects.create(contact=contact, kind=channel_kind, address=address)


from contactcenter.realtime import groups as realtime_groups  # noqa: E402


def _conversation_locked(conversation: Conversation) -> Conversation:
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.status == ConversationStatus.CLOSED:
        raise ConversationClosed()
    return conversation


def conversation_route(*, conversation: Conversation, queue_id: int | None) -> Conversation:
    """Put a conversation in a queue to wait for an agent: status open, no agent.

    Routing calls this when it queues, re-queues (release, transfer, customer
    returning) a conversation. Stamps ``first_queued_at`` once.
    Side effects: Conversation queue/status/assigned_agent; after commit
    ``conversation.status_changed`` when the status changed (sent also to the
    previous agent, who loses the conversation). Raises ConversationClosed.
    """
    with transaction.atomic():
        conversation = _conversation_locked(conversation)
        previous, previous_agent_id = conversation.status, conversation.assigned_agent_id
        conversation.queue_id = queue_id
        conversation.status = ConversationStatus.OPEN
        conversation.assigned_agent = None
        conversation.first_queued_at = conversation.first_queued_at or timezone.now()
        conversation.save(update_fields=["queue", "status", "assigned_agent", "first_queued_at"])
        if previous != conversation.status or previous_agent_id:
            targets = events.conversation_groups(conversation)
            if previous_agent_id:
                targets.append(realtime_groups.agent(previous_agent_id))
            publish(events.conversation_status_changed(conversation, previous=previous), groups=targets)
    return conversation


def conversation_assign(*, conversation: Conversation, agent, queue_id: int | None = None) -> Conversation:
    """Give a conversation to an agent: status active, ``assigned_at`` now.

    Routing decides who (offer accepted, pick, transfer, force-assign) and
    calls this; ``queue_id`` (when given) records the queue it came from.
    Side effects: Conversation assigned_agent/status/assigned_at/queue; after
    commit ``conversation.assigned`` to the conversation's groups and the
    previous agent. Raises ConversationClosed.
    """
    with transaction.atomic():
        conversation = _conversation_locked(conversation)
        previous_agent_id = conversation.assigned_agent_id
        conversation.assigned_agent = agent
        conversation.status = ConversationStatus.ACTIVE
        conversation.assigned_at = timezone.now()
        if queue_id is not None:
            conversation.queue_id = queue_id
        conversation.first_queued_at = conversation.first_queued_at or conversation.assigned_at
        conversation.save(update_fields=["assigned_agent", "status", "assigned_at", "queue", "first_queued_at"])
        targets = events.conversation_groups(conversation)
        if previous_agent_id and previous_agent_id != agent.pk:
            targets.append(realtime_groups.agent(previous_agent_id))
        publish(events.conversation_assigned(conversation, previous_agent_id=previous_agent_id), groups=targets)
    return conversation


#: E.65: the transitions ``conversation_status_set`` allows (closing goes through ``conversation_close``).
CONVERSATION_TRANSITIONS = {
    ConversationStatus.OPEN: {ConversationStatus.ACTIVE},
    ConversationStatus.ACTIVE: {ConversationStatus.WRAP_UP, ConversationStatus.OPEN, ConversationStatus.WAITING},
    ConversationStatus.WAITING: {ConversationStatus.ACTIVE, ConversationStatus.OPEN},
    ConversationStatus.WRAP_UP: set(),
}


def conversation_status_set(*, conversation: Conversation, status: str) -> Conversation:
    """Move a live conversation to ``status`` along the allowed transitions (active → wrap-up, waiting, ...).

    Side effects: Conversation status; after commit ``conversation.status_changed``.
    Raises ConversationClosed, InvalidConversationTransition.
    """
    from crm.exceptions import InvalidConversationTransition

    with transaction.atomic():
        conversation = _conversation_locked(conversation)
        previous = conversation.status
        if previous == status:
            return conversation
        if status not in CONVERSATION_TRANSITIONS.get(previous, set()):
            raise InvalidConversationTransition()
        conversation.status = status
        conversation.save(update_fields=["status"])
        publish(
            events.conversation_status_changed(conversation, previous=previous),
            groups=events.conversation_groups(conversation),
        )
    return conversation

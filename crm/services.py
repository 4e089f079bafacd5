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

import re
import zlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from contactcenter.choices import Role
from contactcenter.realtime import groups, publish
from crm import events
from crm.choices import (
    ActivityStatus,
    CasePriority,
    CaseStatus,
    ChannelKind,
    ConversationStatus,
    DeliveryStatus,
    MessageDirection,
    NotificationKind,
    SenderKind,
    TimelineKind,
)
from crm.exceptions import (
    CaseAlreadyLinked,
    CaseClosed,
    CaseMergeInvalid,
    CaseNotOnHold,
    ConversationClosed,
    ConversationNotLive,
    DispositionRequired,
    InvalidConversationTransition,
    TooManyDispositions,
)
from crm.models import (
    Account,
    Activity,
    CannedResponse,
    Case,
    CaseDiscussion,
    Contact,
    ContactIdentity,
    Conversation,
    DiscussionPost,
    DispositionCode,
    Message,
    Notification,
    SavedView,
    TimelineEvent,
    WrapUpPolicy,
)
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
    needs_routing: bool = False,
) -> IngestResult:
    """Store one inbound customer message.

    In one transaction: resolve or create the contact by identity, find the
    live conversation of that identity or open one, store the message and
    append to the timeline. ``needs_routing`` (the message needs a person)
    flags a conversation routing has not taken yet until routing has a work item for it
    (``conversation_routing_clear``), so a hand-off lost after commit is
    retried. A repeated ``provider_message_id`` returns the stored message
    and changes nothing.

    Side effects: rows in Contact/ContactIdentity (new customers), Conversation
    (new thread; ``needs_routing`` set when asked), Message, TimelineEvent;
    after commit ``message.created`` (and ``conversation.created`` for a new
    thread) to the conversation's groups.
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
        # Only a conversation routing has not taken yet waits to be routed; later messages of a
        # routed one reach routing through the hand-off, which handles its own work item.
        unrouted = conversation.queue_id is None and conversation.assigned_agent_id is None
        conversation.needs_routing = conversation.needs_routing or (needs_routing and unrouted)
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


# --- Directory and record edits (used by the REST API, the pages and the admin) ---

ACCOUNT_FIELDS = frozenset({"name", "domain", "tier", "owner"})
CONTACT_FIELDS = frozenset({"first_name", "last_name", "email", "phone", "language", "is_vip", "account", "attributes"})
CASE_FIELDS = frozenset(
    {"subject", "description", "status", "priority", "severity", "owner", "account", "first_response_by", "resolve_by"}
)
ACTIVITY_FIELDS = frozenset({"subject", "description", "due_at", "status", "owner", "kind"})


def _fields_check(fields: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(sorted(unknown))}")


def _contact_fields_normalize(fields: dict[str, Any]) -> dict[str, Any]:
    fields = dict(fields)
    if fields.get("email"):
        fields["email"] = normalize_email(fields["email"])
    if fields.get("phone"):
        fields["phone"] = normalize_phone(fields["phone"])
    return fields


def account_create(*, actor, name: str, **fields: Any) -> Account:
    """Add an organisation to the customer directory. Side effects: Account."""
    _fields_check(fields, ACCOUNT_FIELDS)
    with transaction.atomic():
        return Account.objects.create(name=name, **{**fields, "domain": fields.get("domain", "").strip().lower()})


def account_update(*, account: Account, actor, **fields: Any) -> Account:
    """Change an account's name, domain, tier or owner. Side effects: Account."""
    _fields_check(fields, ACCOUNT_FIELDS)
    if "domain" in fields:
        fields["domain"] = fields["domain"].strip().lower()
    with transaction.atomic():
        account = Account.objects.select_for_update().get(pk=account.pk)
        for name, value in fields.items():
            setattr(account, name, value)
        account.save()
    return account


def contact_create(*, actor, **fields: Any) -> Contact:
    """Add a customer; the phone is stored in E.164 and the email domain lower-cased.

    Channel identities are attached separately (``contact_identity_add``), and
    ingest matches a new address to this contact by its email or phone.
    Side effects: Contact. Raises ValidationError for an invalid phone or email.
    """
    _fields_check(fields, CONTACT_FIELDS)
    fields = _contact_fields_normalize(fields)
    with transaction.atomic():
        return Contact.objects.create(**fields)


def contact_update(*, contact: Contact, actor, **fields: Any) -> Contact:
    """Change a customer's details (normalised as in ``contact_create``). Side effects: Contact."""
    _fields_check(fields, CONTACT_FIELDS)
    fields = _contact_fields_normalize(fields)
    with transaction.atomic():
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        for name, value in fields.items():
            setattr(contact, name, value)
        contact.save()
    return contact


def case_update(*, case: Case, actor, **fields: Any) -> Case:
    """Edit an open case: details, status (not resolved — that is ``case_resolve``), owner, deadlines.

    Moving to or from *on hold* pauses and resumes the SLA timers as
    ``case_hold``/``case_resume`` do; cancelling cancels its open activities, as
    resolving does. Side effects: Case, Activity statuses on cancel, a
    TimelineEvent naming the changed fields; after commit ``case.updated`` to
    supervisors and the owner. Raises CaseClosed for a resolved or cancelled
    case; ValueError for status resolved.
    """
    _fields_check(fields, CASE_FIELDS)
    if fields.get("status") == CaseStatus.RESOLVED:
        raise ValueError("Resolve a case with case_resolve, which records the resolution.")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status in CaseStatus.closed():
            raise CaseClosed()
        previous_status = case.status
        changed = [name for name, value in fields.items() if getattr(case, name) != value]
        for name in changed:
            setattr(case, name, fields[name])
        if not changed:
            return case
        if case.status == CaseStatus.ON_HOLD and previous_status != CaseStatus.ON_HOLD:
            _hold_start(case)
        elif previous_status == CaseStatus.ON_HOLD and case.status != CaseStatus.ON_HOLD:
            _hold_end(case)
        case.save()
        if case.status == CaseStatus.CANCELLED:
            case.activities.filter(status=ActivityStatus.OPEN).update(
                status=ActivityStatus.CANCELLED, completed_at=timezone.now()
            )
        _timeline_add(
            contact_id=case.contact_id, kind=TimelineKind.CASE_CHANGED,
            summary=f"{case.number}: " + "; ".join(_case_change_described(case, name) for name in changed),
            actor=actor, case=case, data={"fields": changed},
        )
        publish(events.case_event(case, type=events.CASE_UPDATED), groups=events.case_groups(case))
    return case


def _case_change_described(case: Case, name: str) -> str:
    field = Case._meta.get_field(name)
    value = getattr(case, f"get_{name}_display")() if field.choices else getattr(case, name)
    return f"{field.verbose_name} → {value if value not in (None, '') else '—'}"


def activity_update(*, activity: Activity, actor, **fields: Any) -> Activity:
    """Edit an activity; completing it stamps ``completed_at`` and adds it to the timeline.

    Side effects: Activity, TimelineEvent when the status changes.
    """
    _fields_check(fields, ACTIVITY_FIELDS)
    with transaction.atomic():
        activity = Activity.objects.select_for_update().get(pk=activity.pk)
        previous = activity.status
        for name, value in fields.items():
            setattr(activity, name, value)
        if activity.status != previous:
            activity.completed_at = timezone.now() if activity.status != ActivityStatus.OPEN else None
        activity.save()
        if activity.status != previous and activity.contact_id:
            _timeline_add(
                contact_id=activity.contact_id, kind=TimelineKind.ACTIVITY,
                summary=f"{activity.get_kind_display()} {activity.get_status_display().lower()}: {activity.subject}",
                actor=actor, case=activity.case, activity=activity,
            )
    return activity


# --- Agent workspace: wrap-up, customer 360 edits, case work, collaboration ---

MENTION_RE = re.compile(r"(?<![\w@])@([\w.+-]+)")
LIVE_STATUSES = frozenset({ConversationStatus.OPEN, ConversationStatus.WAITING, ConversationStatus.ACTIVE})


def conversation_mark_read(*, conversation: Conversation, user) -> None:
    """Record that the assigned agent has seen every message so far (drives unread counts).

    Side effects: Conversation.agent_read_up_to (only ever moves forward).
    """
    if conversation.assigned_agent_id != user.pk:
        return
    last = conversation.messages.aggregate(last=Max("id"))["last"] or 0
    Conversation.objects.filter(pk=conversation.pk, agent_read_up_to__lt=last).update(agent_read_up_to=last)
    conversation.agent_read_up_to = max(conversation.agent_read_up_to, last)


def conversation_end(*, conversation: Conversation, actor) -> Conversation:
    """End the customer session: the conversation moves to wrap-up, where the agent records its outcome.

    Side effects: Conversation status, a system Message; after commit
    ``message.created`` and ``conversation.status_changed``.
    Raises ConversationNotLive.
    """
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.status not in LIVE_STATUSES:
            raise ConversationNotLive()
        previous = conversation.status
        conversation.status = ConversationStatus.WRAP_UP
        conversation.save(update_fields=["status"])
        _message_create(
            conversation=conversation,
            direction=MessageDirection.INTERNAL,
            sender_kind=SenderKind.SYSTEM,
            sender_user=actor,
            body=f"Conversation ended by {actor}; in wrap-up",
            delivery_status=DeliveryStatus.DELIVERED,
            metadata={"event": "conversation.ended", "previous_status": previous},
        )
        publish(
            events.conversation_status_changed(conversation, previous=previous),
            groups=events.conversation_groups(conversation),
        )
    return conversation


def conversation_wrap_up(
    *, conversation: Conversation, actor, disposition_codes: list[DispositionCode], notes: str = ""
) -> Conversation:
    """Record the outcome of a conversation (disposition codes, notes) and close it.

    The wrap-up policy decides whether a code is required and how many are
    allowed. Closing is ``conversation_close``; routing frees the agent's
    capacity when it sees the status change.

    Side effects: Conversation disposition codes, notes, wrapped_up_at, then
    everything ``conversation_close`` does. Raises DispositionRequired,
    TooManyDispositions, ConversationClosed.
    """
    policy = WrapUpPolicy.current()
    codes = list({code.pk: code for code in disposition_codes}.values())
    if policy.disposition_required and not codes:
        raise DispositionRequired()
    if len(codes) > policy.max_dispositions:
        raise TooManyDispositions(
            f"Choose at most {policy.max_dispositions} disposition code{'s' if policy.max_dispositions > 1 else ''}."
        )
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.status == ConversationStatus.CLOSED:
            raise ConversationClosed()
        conversation.wrap_up_notes = notes
        conversation.wrapped_up_at = timezone.now()
        conversation.save(update_fields=["wrap_up_notes", "wrapped_up_at"])
        conversation.disposition_codes.set(codes)
        if notes:
            _timeline_add(
                contact_id=conversation.contact_id, kind=TimelineKind.NOTE, summary=f"Wrap-up: {notes}",
                actor=actor, conversation=conversation,
            )
        label = ", ".join(code.label for code in codes)
        return conversation_close(conversation=conversation, actor=actor, reason=label)


def _hold_start(case: Case) -> None:
    case.on_hold_since = timezone.now()


def _hold_end(case: Case) -> timedelta:
    """Move the pending SLA deadlines later by the time the case was on hold; return that time."""
    paused = timezone.now() - case.on_hold_since if case.on_hold_since else timedelta(0)
    if case.first_response_by and case.first_responded_at is None:
        case.first_response_by += paused
    if case.resolve_by:
        case.resolve_by += paused
    case.on_hold_since = None
    return paused


def _case_changed(case: Case, *, actor, summary: str) -> None:
    _timeline_add(contact_id=case.contact_id, kind=TimelineKind.CASE_CHANGED, summary=summary, actor=actor, case=case)
    publish(events.case_event(case, type=events.CASE_UPDATED), groups=events.case_groups(case))


def case_hold(*, case: Case, actor, reason: str = "") -> Case:
    """Put a case on hold: its SLA timers stop until it resumes.

    Side effects: Case status/on_hold_since, TimelineEvent; after commit
    ``case.updated``. Raises CaseClosed.
    """
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status in CaseStatus.closed():
            raise CaseClosed()
        if case.status == CaseStatus.ON_HOLD:
            return case
        case.status = CaseStatus.ON_HOLD
        _hold_start(case)
        case.save(update_fields=["status", "on_hold_since", "updated_at"])
        _case_changed(case, actor=actor, summary=f"{case.number} put on hold" + (f": {reason}" if reason else ""))
    return case


def case_resume(*, case: Case, actor) -> Case:
    """Take a case off hold; its pending SLA deadlines move later by the time it was on hold.

    Side effects: Case status/deadlines, TimelineEvent; after commit
    ``case.updated``. Raises CaseNotOnHold.
    """
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if case.status != CaseStatus.ON_HOLD:
            raise CaseNotOnHold()
        case.status = CaseStatus.IN_PROGRESS
        paused = _hold_end(case)
        case.save()
        minutes = int(paused.total_seconds() // 60)
        _case_changed(case, actor=actor, summary=f"{case.number} resumed after {minutes} min on hold")
    return case


def case_note_add(*, case: Case, author, body: str) -> TimelineEvent:
    """Add a note to a case; it shows on the case and on the customer's timeline.

    Side effects: TimelineEvent (kind note, full text in ``data.body``).
    Raises CaseClosed: a resolved or cancelled case is read-only.
    """
    if case.status in CaseStatus.closed():
        raise CaseClosed()
    with transaction.atomic():
        return _timeline_add(
            contact_id=case.contact_id, kind=TimelineKind.NOTE, summary=body, actor=author, case=case,
            data={"body": body},
        )


def case_link_conversation(*, conversation: Conversation, case: Case, actor) -> Conversation:
    """Link a conversation to an existing open case of the same customer.

    Side effects: Conversation.case, the case's first response time,
    TimelineEvent; after commit ``case.updated``. Raises CaseAlreadyLinked,
    CaseClosed, CaseMergeInvalid (another customer's case).
    """
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        case = Case.objects.select_for_update().get(pk=case.pk)
        if conversation.case_id:
            raise CaseAlreadyLinked()
        if case.status in CaseStatus.closed():
            raise CaseClosed()
        if case.contact_id != conversation.contact_id:
            raise CaseMergeInvalid("The case belongs to another customer.")
        conversation.case = case
        conversation.save(update_fields=["case"])
        if conversation.first_agent_response_at and case.first_responded_at is None:
            case.first_responded_at = conversation.first_agent_response_at
            case.save(update_fields=["first_responded_at", "updated_at"])
        _case_changed(case, actor=actor, summary=f"{case.number}: conversation #{conversation.pk} linked")
    return conversation


def case_merge(*, source: Case, target: Case, actor) -> Case:
    """Merge a duplicate case into another: its conversations and activities move to the target.

    The source is cancelled and points at the target. Side effects: Case rows,
    Conversation and Activity links, TimelineEvents; after commit
    ``case.updated`` for both. Raises CaseMergeInvalid.
    """
    if source.pk == target.pk:
        raise CaseMergeInvalid("A case cannot be merged into itself.")
    with transaction.atomic():
        # Lock both in id order so two opposite merges cannot deadlock.
        rows = Case.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk")
        locked = {row.pk: row for row in rows}
        source, target = locked[source.pk], locked[target.pk]
        if source.status in CaseStatus.closed() or target.status in CaseStatus.closed():
            raise CaseMergeInvalid()
        Conversation.objects.filter(case=source).update(case=target)
        Activity.objects.filter(case=source).update(case=target)
        source.status = CaseStatus.CANCELLED
        source.merged_into = target
        source.resolution = f"Merged into {target.number}"
        source.resolved_at = timezone.now()
        source.save(update_fields=["status", "merged_into", "resolution", "resolved_at", "updated_at"])
        _case_changed(source, actor=actor, summary=f"{source.number} merged into {target.number}")
        _case_changed(target, actor=actor, summary=f"{target.number}: {source.number} merged into it")
    return target


def _staff_users():
    return get_user_model().objects.filter(is_active=True).filter(
        Q(is_superuser=True) | Q(groups__name__in=Role.values)
    ).distinct()


def _notify(*, recipient, kind: str, text: str, actor, case: Case | None = None) -> Notification:
    notification = Notification.objects.create(
        recipient=recipient, kind=kind, text=text[:300], actor=actor, case=case
    )
    publish(events.notification_created(notification), groups=[groups.agent(recipient.pk)])
    return notification


def case_summary_text(case: Case) -> str:
    """The plain summary colleagues see when invited into a case discussion."""
    lines = [
        f"{case.number}: {case.subject}",
        f"Customer: {case.contact}" + (f" ({case.account})" if case.account_id else ""),
        f"Status: {case.get_status_display()} · Priority: {case.get_priority_display()}"
        f" · Severity: {case.get_severity_display()}",
    ]
    if case.description:
        lines.append(case.description[:600])
    return "\n".join(lines)


def swarm_invite(*, case: Case, actor, invitees: list, note: str = "") -> CaseDiscussion:
    """Invite colleagues into the case's discussion (started with the case summary if new).

    Side effects: CaseDiscussion (once), participants, a DiscussionPost for
    ``note``, a Notification per new participant; after commit
    ``notification.created`` to each ``agent.<id>``.
    """
    with transaction.atomic():
        discussion, _created = CaseDiscussion.objects.get_or_create(
            case=case, defaults={"started_by": actor, "summary": case_summary_text(case)}
        )
        already = set(discussion.participants.values_list("pk", flat=True))
        new = [user for user in invitees if user.pk not in already and user.pk != actor.pk]
        discussion.participants.add(actor, *new)
        if note:
            DiscussionPost.objects.create(discussion=discussion, author=actor, body=note)
        for user in new:
            _notify(
                recipient=user, kind=NotificationKind.SWARM_INVITE, actor=actor, case=case,
                text=f"{actor} invited you to swarm on {case.number}: {case.subject}",
            )
    return discussion


def discussion_post(*, case: Case, author, body: str) -> DiscussionPost:
    """Post in a case discussion; ``@username`` mentions add and notify that colleague.

    Side effects: CaseDiscussion (if none yet), DiscussionPost, participants,
    Notifications; after commit ``notification.created`` per mention and
    ``discussion.posted`` to the participants.
    """
    with transaction.atomic():
        discussion, _created = CaseDiscussion.objects.get_or_create(
            case=case, defaults={"started_by": author, "summary": case_summary_text(case)}
        )
        discussion.participants.add(author)
        post = DiscussionPost.objects.create(discussion=discussion, author=author, body=body)
        usernames = set(MENTION_RE.findall(body))
        mentioned = list(_staff_users().filter(username__in=usernames).exclude(pk=author.pk)) if usernames else []
        if mentioned:
            discussion.participants.add(*mentioned)
        for user in mentioned:
            _notify(
                recipient=user, kind=NotificationKind.MENTION, actor=author, case=case,
                text=f"{author} mentioned you on {case.number}: {body[:200]}",
            )
        publish(events.discussion_posted(post, case=case), groups=events.discussion_groups(discussion))
    return post


def notifications_mark_read(*, user, notification_ids: list[int] | None = None) -> int:
    """Mark the user's notifications (all, or the given ones) read. Side effects: Notification rows."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    return unread.update(read_at=timezone.now())


def saved_view_save(*, owner, name: str, filters: dict[str, Any]) -> SavedView:
    """Create or replace the user's named case-list filter. Side effects: SavedView row."""
    view, _created = SavedView.objects.update_or_create(owner=owner, name=name[:60], defaults={"filters": filters})
    return view


# --- Routing's hand-offs: queue, assign, status transitions (routing decides, crm records) ---
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
                targets.append(groups.agent(previous_agent_id))
            publish(events.conversation_status_changed(conversation, previous=previous), groups=targets)
    return conversation


def conversation_routing_clear(*, conversation: Conversation) -> None:
    """Routing has a work item for the conversation: it no longer waits to be routed.

    Side effects: Conversation ``needs_routing`` cleared (no write when it was not set).
    """
    Conversation.objects.filter(pk=conversation.pk, needs_routing=True).update(needs_routing=False)


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
            targets.append(groups.agent(previous_agent_id))
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


def conversation_contact_link(*, conversation: Conversation, contact: Contact, actor) -> Conversation:
    """Attach a conversation, and the channel address it came from, to another (existing) customer.

    For a visitor recognised as a known customer: the identity moves, so
    later messages from that address resolve to ``contact``; every
    conversation of that identity and their timeline entries move with it.
    Side effects: ContactIdentity, Conversation and TimelineEvent rows, a
    TimelineEvent on the target. Raises ConversationClosed.
    """
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.status == ConversationStatus.CLOSED:
            raise ConversationClosed()
        if conversation.contact_id == contact.pk:
            return conversation
        previous = conversation.contact_id
        moved = list(Conversation.objects.filter(identity_id=conversation.identity_id).values_list("pk", flat=True))
        ContactIdentity.objects.filter(pk=conversation.identity_id).update(contact=contact)
        Conversation.objects.filter(pk__in=moved).update(contact=contact)
        TimelineEvent.objects.filter(contact_id=previous, conversation_id__in=moved).update(contact=contact)
        _timeline_add(
            contact_id=contact.pk, kind=TimelineKind.NOTE,
            summary=f"Conversation #{conversation.pk} linked to this customer", actor=actor, conversation=conversation,
        )
        conversation.contact = contact
    return conversation


def contact_note_add(*, contact: Contact, author, body: str) -> TimelineEvent:
    """A quick note on the customer's timeline. Side effects: TimelineEvent (full text in ``data.body``)."""
    with transaction.atomic():
        return _timeline_add(
            contact_id=contact.pk, kind=TimelineKind.NOTE, summary=body, actor=author, data={"body": body}
        )


def canned_response_save(
    *, owner, slug: str, title: str, body: str, tags: str = "", language: str = "en",
    response: CannedResponse | None = None,
) -> CannedResponse:
    """Create or edit one of the user's personal quick replies (shared ones are edited in the admin).

    Side effects: CannedResponse row. Raises PermissionError for someone else's reply.
    """
    if response is not None and response.owner_id != owner.pk:
        raise PermissionError("only the owner edits a personal quick reply")
    response = response or CannedResponse(owner=owner)
    response.slug, response.title, response.body = slug, title, body
    response.tags, response.language = " ".join(tags.split()), language
    response.full_clean()
    response.save()
    return response


def canned_response_delete(*, response: CannedResponse, actor) -> None:
    """Delete one of the user's personal quick replies. Raises PermissionError for anyone else's."""
    if response.owner_id != actor.pk:
        raise PermissionError("only the owner deletes a personal quick reply")
    response.delete()

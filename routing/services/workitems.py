"""The life of a work item: enqueue, offer answers, pick, transfer, consult, release, wrap-up, complete.

Conversation fields (status, agent, queue, timestamps) change only through
``crm.services``; routing owns the work item, the offers and capacity.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from contactcenter.permissions import is_supervisor
from contactcenter.realtime import publish
from crm import selectors as crm_selectors
from crm import services as crm_services
from crm.choices import ChannelKind, ConversationStatus, SenderKind
from crm.exceptions import ConversationClosed
from crm.models import Conversation
from routing import events
from routing.choices import (
    DiagnosticStage,
    OfferOutcome,
    OverflowAction,
    ParticipantRole,
    SessionClosure,
    WorkItemStatus,
    WrapUpMode,
)
from routing.exceptions import (
    AgentAtCapacity,
    AgentInCall,
    InvalidTransfer,
    NoOpenWorkItem,
    NotHandling,
    NotPermitted,
    NotQueueMember,
    NoWorkStream,
    OfferExpired,
    OfferNotPending,
    QueueClosed,
    QueueKindMismatch,
    RejectNotAllowed,
    WorkItemTaken,
)
from routing.hours import is_open
from routing.models import (
    AgentProfile,
    ConversationSession,
    Offer,
    OverflowRule,
    Participant,
    Queue,
    RoutingDiagnostic,
    WorkItem,
)
from routing.services.classification import (
    classify,
    conversation_facts,
    overflow_pairs_owner,
    preferred_agents_for,
    route_to_queue,
    work_stream_for,
)
from routing.services.engine import assignment_run
from routing.services.presence import (
    agent_profile_ensure,
    capacity_profiles_take,
    capacity_release,
    capacity_take,
    escalation_drop,
    escalations_held,
    presence_builtin,
    presence_follow_load,
    session_room_check,
)

OPEN = [WorkItemStatus.QUEUED, WorkItemStatus.OFFERED, WorkItemStatus.ASSIGNED]
SESSION_CLOSURE_OF_OFFER = {
    OfferOutcome.REJECTED: SessionClosure.AGENT_REJECT,
    OfferOutcome.TIMED_OUT: SessionClosure.AGENT_TIMEOUT,
}


def _diagnose(item: WorkItem, stage: str, summary: str, **detail) -> RoutingDiagnostic:
    return RoutingDiagnostic.objects.create(workitem=item, stage=stage, summary=summary[:500], detail=detail)


def workitem_open_for(conversation: Conversation) -> WorkItem | None:
    return WorkItem.objects.filter(conversation=conversation, status__in=OPEN).first()


def _session_current(item: WorkItem):
    """The conversation's open session (a queryset of at most one row)."""
    return ConversationSession.objects.filter(conversation_id=item.conversation_id, ended_at__isnull=True)


def _session_open(item: WorkItem, *, agent_id: int | None = None, now=None) -> ConversationSession:
    """Open the conversation's next session in the item's queue (E.69); ``agent_id`` is its primary, if any."""
    return ConversationSession.objects.create(
        conversation_id=item.conversation_id, workitem=item, queue_id=item.queue_id, agent_id=agent_id,
        started_at=now or timezone.now(),
    )


def _session_end(item: WorkItem, closure: str, *, now=None) -> None:
    """End the conversation's open session with ``closure``; its participants still in it leave with it."""
    now = now or timezone.now()
    current = _session_current(item)
    Participant.objects.filter(session__in=current, left_at__isnull=True).update(left_at=now)
    current.update(ended_at=now, closure_reason=closure)


def _session_next(item: WorkItem, closure: str, *, agent_id: int | None = None, now=None) -> ConversationSession:
    """End the open session with ``closure`` and open the next one (queue and agent as the item has them now)."""
    now = now or timezone.now()
    _session_end(item, closure, now=now)
    return _session_open(item, agent_id=agent_id, now=now)


def _session_take(item: WorkItem, agent_id: int) -> None:
    """The open session (queued, no primary yet) gets its agent: an offer, a pick."""
    _session_current(item).update(agent_id=agent_id)


def _lock_item(workitem: WorkItem) -> WorkItem:
    return WorkItem.objects.select_for_update(of=("self",)).select_related(
        "work_stream", "queue", "conversation"
    ).get(pk=workitem.pk)


def _apply_overflow_action(item: WorkItem, rule: OverflowRule, reason: str) -> str:
    """Carry out an overflow action on a locked item; returns what happened (for the trace).

    A transfer leaves the route rule's overflow pairs behind: the new queue's apply (E.61).
    """
    action = rule.action
    if action == OverflowAction.TRANSFER_QUEUE and rule.target_queue_id:
        item.queue_id = rule.target_queue_id
        item.queue = rule.target_queue
        item.queued_at = timezone.now()
        item.route_rule = None
        return f"transferred to {rule.target_queue.name}"
    if action == OverflowAction.CALLBACK:
        item.is_callback = True
        item.outcome = "callback"
        return "kept as a direct callback"
    if action == OverflowAction.VOICEMAIL:
        item.auto_assign = False
        item.outcome = "voicemail"
        return "sent to voicemail (pickable by queue members)"
    if action == OverflowAction.END:
        item.status = WorkItemStatus.ABANDONED
        item.outcome = "overflow_end"
        item.completed_at = timezone.now()
        return "ended"
    return "assigned anyway"


def _end_conversation(conversation: Conversation, message: str, reason: str) -> None:
    if message:
        crm_services.message_send(conversation=conversation, sender=None, body=message, sender_kind=SenderKind.SYSTEM)
    crm_services.conversation_close(conversation=conversation, actor=None, reason=reason)


def conversation_enqueue(*, conversation: Conversation, context: dict | None = None) -> WorkItem:
    """Route a conversation that needs a person; idempotent.

    Returns the conversation's open work item when it has one (a customer
    writing again while queued or assigned changes nothing; while *waiting*
    the item goes back to the queue with affinity to the previous agent, E.65,
    the session ended as released_to_queue and the next one opened, E.69).
    Otherwise: classify (rulesets, sentiment over the last six customer
    messages, predicted effort), pick the queue (route rules, percentage
    split, fallback), check pre-queue overflow once (E.55) with the route
    rule's own pairs when it has some (E.59), create the item (remembering
    that rule and, when the work stream offers to preferred agents first,
    the contact's preferred agents, B.33) and run an assignment cycle for its queue.

    Side effects: WorkItem, RoutingDiagnostic rows, the first ConversationSession
    (E.69; ended at once as overflow on an overflow "end"); the conversation routed to
    the queue (``crm.services.conversation_route``) or, on an overflow "end",
    closed with the rule's message; its ``needs_routing`` flag cleared once it
    has a work item (``crm.services.conversation_routing_clear``); whatever
    ``assignment_run`` does.
    Raises NoWorkStream, ConversationClosed.
    """
    existing = workitem_open_for(conversation)
    if existing is not None:
        if conversation.needs_routing:
            crm_services.conversation_routing_clear(conversation=conversation)
        return _enqueue_existing(existing, conversation=conversation)
    conversation = Conversation.objects.select_related("contact__account", "case").get(pk=conversation.pk)
    if conversation.status == ConversationStatus.CLOSED:
        raise ConversationClosed()
    stream = work_stream_for(conversation)
    if stream is None:
        raise NoWorkStream()
    facts = conversation_facts(conversation=conversation, context=context)
    classification = classify(stream=stream, facts=facts)
    choice = route_to_queue(stream=stream, facts=facts, key=conversation.pk, classification=classification)
    contact = conversation.contact
    now = timezone.now()
    with transaction.atomic():
        Conversation.objects.select_for_update().get(pk=conversation.pk)
        existing = workitem_open_for(conversation)
        if existing is not None:
            crm_services.conversation_routing_clear(conversation=conversation)
            return existing
        item = WorkItem(
            conversation=conversation,
            case=conversation.case,
            work_stream=stream,
            queue=choice.queue,
            priority=classification.priority,
            required_skills=classification.skills,
            skill_match=stream.skill_match,
            capacity_units=stream.capacity_units,
            capacity_profiles=sorted(set(stream.capacity_profile_ids) | set(classification.capacity_profiles)),
            sentiment=facts["sentiment"],
            effort_minutes=facts["effort_minutes"],
            effort_confidence=facts["effort_confidence"],
            attributes={
                "vip": bool(contact and contact.is_vip),
                "language": contact.language if contact else "",
                "tier": facts["account"].tier if facts["account"] else "",
                "outputs": classification.outputs,
            },
            order_at=conversation.last_customer_message_at or now,
            queued_at=now,
            overflow_checked=True,
            route_rule=choice.route_rule,
            # B.33: tried first by the engine when eligible; not affinity (which may exceed capacity).
            preferred_agents=preferred_agents_for(stream=stream, contact=contact),
        )
        overflow_note = ""
        if choice.overflow is not None:
            overflow_note = _apply_overflow_action(item, choice.overflow, choice.overflow_reason)
        item.save()
        _session_open(item, now=now)
        crm_services.conversation_routing_clear(conversation=conversation)
        trace = [
            RoutingDiagnostic(
                workitem=item, stage=DiagnosticStage.CLASSIFICATION,
                summary=f"{len(classification.matched)} rule(s) matched"
                + (f"; error {classification.error}" if classification.error else ""),
                detail={"matched": classification.matched, "outputs": classification.outputs,
                        "skills": classification.skills, "sentiment": facts["sentiment"],
                        "effort_minutes": facts["effort_minutes"], "effort_confidence": facts["effort_confidence"]},
            ),
            RoutingDiagnostic(
                workitem=item, stage=DiagnosticStage.ROUTE_TO_QUEUE,
                summary=f"Queue {choice.queue.name}"
                + (f" by rule {choice.matched_rule}" if choice.matched_rule else " (fallback)"),
                detail=choice.trace,
            ),
        ]
        if choice.overflow is not None:
            trace.append(RoutingDiagnostic(
                workitem=item, stage=DiagnosticStage.OVERFLOW, summary=f"{choice.overflow_reason}: {overflow_note}"[:500],
                detail={"rule": choice.overflow.pk, "action": choice.overflow.action,
                        "overflow_pairs": overflow_pairs_owner(choice.overflow)},
            ))
        RoutingDiagnostic.objects.bulk_create(trace)
        if item.status == WorkItemStatus.ABANDONED:
            _session_end(item, SessionClosure.OVERFLOW, now=now)
            _end_conversation(conversation, choice.overflow.message, reason="overflow")
            return item
        crm_services.conversation_route(conversation=conversation, queue_id=item.queue_id)
        # Same transaction: one commit on the enqueue → offer path.
        assignment_run(queue_ids=[item.queue_id])
    item.refresh_from_db()
    return item


def _enqueue_existing(item: WorkItem, *, conversation: Conversation) -> WorkItem:
    conversation.refresh_from_db(fields=["status", "last_customer_message_at"])
    if conversation.status != ConversationStatus.WAITING or item.status != WorkItemStatus.ASSIGNED:
        if item.status == WorkItemStatus.QUEUED and conversation.channel_kind in ChannelKind.asynchronous():
            # B.18: asynchronous work is ordered by the last customer interaction.
            WorkItem.objects.filter(pk=item.pk).update(order_at=conversation.last_customer_message_at or timezone.now())
        return item
    with transaction.atomic():
        item = _lock_item(item)
        if item.status != WorkItemStatus.ASSIGNED:
            return item
        previous = item.agent_id
        capacity_release(item=item)
        _requeue(item, affinity=previous if item.work_stream.keep_same_agent else None)
        item.save()
        _session_next(item, SessionClosure.RELEASED_TO_QUEUE)
        _diagnose(item, DiagnosticStage.ROUTE_TO_QUEUE, "Customer returned; back in the queue",
                  affinity_agent=item.affinity_agent_id)
        crm_services.conversation_route(conversation=item.conversation, queue_id=item.queue_id)
    assignment_run(queue_ids=[item.queue_id])
    item.refresh_from_db()
    return item


def _run_for_agent(agent_id: int | None) -> None:
    """Capacity freed: an assignment cycle over the agent's queues (B.15)."""
    if agent_id:
        assignment_run(queue_ids=list(Queue.members.through.objects.filter(user_id=agent_id).values_list("queue_id", flat=True)))


def _requeue(item: WorkItem, *, affinity: int | None = None) -> None:
    item.status = WorkItemStatus.QUEUED
    item.agent_id = None
    item.affinity_agent_id = affinity
    item.offered_at = item.offer_expires_at = item.assigned_at = item.wrap_up_release_at = None
    item.order_at = timezone.now()


def offer_accept(*, workitem: WorkItem, agent) -> WorkItem:
    """The agent accepts a pending offer: the item is assigned and the conversation becomes theirs.

    Side effects: Offer outcome, WorkItem status/assigned_at; the conversation
    assigned (``conversation.assigned``); after commit ``workitem.offer_ended``
    (accepted). Raises OfferNotPending, OfferExpired.
    """
    with transaction.atomic():
        item = _lock_item(workitem)
        offer = Offer.objects.filter(workitem=item, agent=agent, outcome=OfferOutcome.PENDING).first()
        if item.status != WorkItemStatus.OFFERED or item.agent_id != agent.pk or offer is None:
            raise OfferNotPending()
        expired = offer.expires_at < timezone.now()
        if not expired:
            now = timezone.now()
            offer.outcome, offer.answered_at = OfferOutcome.ACCEPTED, now
            offer.save(update_fields=["outcome", "answered_at"])
            item.status, item.assigned_at, item.offer_expires_at = WorkItemStatus.ASSIGNED, now, None
            item.save(update_fields=["status", "assigned_at", "offer_expires_at"])
            crm_services.conversation_assign(conversation=item.conversation, agent=agent, queue_id=item.queue_id)
            # Every open workspace of the agent drops the offer dialog.
            publish(events.workitem_offer_ended(item, agent_id=agent.pk, outcome=OfferOutcome.ACCEPTED),
                    groups=events.agent_groups(agent.pk))
            return item
    offer_timeout(workitem=item)
    raise OfferExpired()


def offer_decline(*, workitem: WorkItem, agent, reason: str = "") -> WorkItem:
    """The agent rejects a pending offer; it counts as a decline (B.28).

    The item goes back to its place in the queue (its ordering time is kept)
    and capacity is released; after the work stream's decline limit it leaves
    auto-assignment and is flagged to supervisors. Runs an assignment cycle.
    Side effects: Offer outcome, WorkItem, AgentProfile, the session ended as
    agent_reject (agent_timeout for a timeout) and the next one opened; after commit
    ``workitem.offer_ended`` (and ``workitem.flagged``). Raises RejectNotAllowed
    (the work stream hides Reject, B.30), OfferNotPending.
    """
    if not workitem.work_stream.reject_allowed:
        raise RejectNotAllowed()
    return _offer_end(workitem=workitem, agent_id=agent.pk, outcome=OfferOutcome.REJECTED, reason=reason)


def offer_timeout(*, workitem: WorkItem, now=None) -> WorkItem | None:
    """An offer ran out of time: a decline with reason "timeout"; may set the agent Inactive (B.31).
    None when the offer was answered meanwhile or has not expired at ``now``."""
    try:
        return _offer_end(workitem=workitem, agent_id=None, outcome=OfferOutcome.TIMED_OUT, reason="timeout", now=now)
    except OfferNotPending:
        return None


def _offer_end(*, workitem: WorkItem, agent_id: int | None, outcome: str, reason: str, now=None) -> WorkItem:
    now = now or timezone.now()
    with transaction.atomic():
        item = _lock_item(workitem)
        if item.status != WorkItemStatus.OFFERED or (agent_id is not None and item.agent_id != agent_id):
            raise OfferNotPending()
        if outcome == OfferOutcome.TIMED_OUT and item.offer_expires_at and item.offer_expires_at > now:
            raise OfferNotPending()
        agent_id = item.agent_id
        Offer.objects.filter(workitem=item, outcome=OfferOutcome.PENDING).update(
            outcome=outcome, reason=reason[:255], answered_at=now
        )
        profile = capacity_release(item=item, now=now)
        stream = item.work_stream
        declines = dict(item.declines or {})
        declines[str(agent_id)] = declines.get(str(agent_id), 0) + 1
        item.declines = declines
        item.decline_count += 1
        item.status, item.agent_id, item.offered_at, item.offer_expires_at = WorkItemStatus.QUEUED, None, None, None
        if item.decline_count >= stream.decline_limit:
            item.auto_assign = False
            item.flagged = True
            publish(events.workitem_flagged(item), groups=events.queue_groups(item.queue_id))
        item.save()
        _session_next(item, SESSION_CLOSURE_OF_OFFER[outcome], now=now)
        _diagnose(item, DiagnosticStage.OFFER, f"Agent {agent_id} {outcome.replace('_', ' ')}"
                  + (f": {reason}" if reason and reason != "timeout" else ""),
                  agent=agent_id, outcome=outcome, decline_count=item.decline_count, flagged=item.flagged)
        if outcome == OfferOutcome.TIMED_OUT and stream.missed_offer_sets_inactive and profile is not None:
            profile.presence = presence_builtin("inactive")
            profile.presence_manual = True
            profile.presence_changed_at = now
            profile.save(update_fields=["presence", "presence_manual", "presence_changed_at"])
            publish(events.agent_presence_changed(profile), groups=events.agent_groups(agent_id))
        publish(events.workitem_offer_ended(item, agent_id=agent_id, outcome=outcome), groups=events.agent_groups(agent_id))
    assignment_run(queue_ids=[item.queue_id])
    return item


def _assign_now(item: WorkItem, agent, *, allow_exceed: bool, summary: str, **detail) -> None:
    """Give a locked item to ``agent`` directly (pick, transfer, force-assign), with its capacity
    profiles (a call's Escalation profile follows it, D.48). Raises SessionLimitReached (D.54, even
    when capacity may be exceeded), AgentInCall (a call can't join another), AgentAtCapacity."""
    agent_profile_ensure(agent=agent)
    profile = AgentProfile.objects.select_for_update().select_related("presence").get(user=agent)
    session_room_check(profile)
    if item.call_mode and escalations_held().filter(agent=profile).exists():
        raise AgentInCall()
    if not allow_exceed and profile.capacity_units - profile.used_units < item.capacity_units:
        raise AgentAtCapacity()
    now = timezone.now()
    item.agent_id = agent.pk
    capacity_take(profile, item, allow_exceed=allow_exceed, now=now)
    capacity_profiles_take(profile, item, allow_exceed=allow_exceed)
    presence_follow_load(profile)
    profile.save(update_fields=[
        "used_units", "forced_units", "active_items", "last_assigned_at", "presence", "presence_changed_at",
    ])
    item.status, item.assigned_at, item.offered_at, item.offer_expires_at = WorkItemStatus.ASSIGNED, now, now, None
    item.affinity_agent_id = None
    item.save()
    Offer.objects.create(workitem=item, agent=agent, outcome=OfferOutcome.ACCEPTED, reason=summary[:255],
                         offered_at=now, expires_at=now, answered_at=now)
    _diagnose(item, DiagnosticStage.ASSIGNMENT, summary, agent=agent.pk, forced_units=item.forced_units, **detail)
    crm_services.conversation_assign(conversation=item.conversation, agent=agent, queue_id=item.queue_id)


def _withdraw(item: WorkItem, *, reason: str) -> None:
    """Take a locked item away from whoever holds or is offered it, releasing their capacity."""
    if item.status == WorkItemStatus.OFFERED:
        Offer.objects.filter(workitem=item, outcome=OfferOutcome.PENDING).update(
            outcome=OfferOutcome.WITHDRAWN, reason=reason, answered_at=timezone.now()
        )
        publish(events.workitem_offer_ended(item, agent_id=item.agent_id, outcome=OfferOutcome.WITHDRAWN),
                groups=events.agent_groups(item.agent_id))
    capacity_release(item=item)


def workitem_pick(*, workitem: WorkItem, agent) -> WorkItem:
    """An agent picks a queued item from one of their queues (B.34: may drive capacity past its limit, recorded).

    Side effects: as a direct assignment (WorkItem, Offer, AgentProfile, the
    conversation assigned); the queued session gets the agent.
    Raises NotQueueMember, WorkItemTaken, SessionLimitReached.
    """
    with transaction.atomic():
        item = _lock_item(workitem)
        if not item.queue.members.filter(pk=agent.pk).exists():
            raise NotQueueMember()
        if item.status != WorkItemStatus.QUEUED:
            raise WorkItemTaken()
        _assign_now(item, agent, allow_exceed=True, summary=f"Picked by agent {agent.pk}")
        _session_take(item, agent.pk)
    return item


def workitem_force_assign(*, workitem: WorkItem, agent, actor) -> WorkItem:
    """A supervisor gives an open item to an agent, even beyond capacity (D.45, recorded as forced units).

    Side effects: any pending offer withdrawn or current holder released; then
    as a direct assignment; the session ended as supervisor_force_assign and the agent's opened.
    Raises NotPermitted, WorkItemTaken (item closed), SessionLimitReached, AgentInCall.
    """
    if not is_supervisor(actor):
        raise NotPermitted()
    with transaction.atomic():
        item = _lock_item(workitem)
        if item.status not in OPEN:
            raise WorkItemTaken()
        _withdraw(item, reason=f"force-assigned by {actor}")
        _assign_now(item, agent, allow_exceed=True, summary=f"Force-assigned to agent {agent.pk} by {actor}",
                    actor=actor.pk)
        _session_next(item, SessionClosure.SUPERVISOR_FORCE_ASSIGN, agent_id=agent.pk)
    return item


def workitem_release(*, workitem: WorkItem, actor, reason: str = "") -> WorkItem:
    """Put an offered or assigned item back in its queue (active → open), releasing capacity; re-routes.

    ``actor`` is None when the system releases it (the agent disconnected).

    Side effects: WorkItem, AgentProfile, the session ended as released_to_queue and
    the next opened; conversation routed back to the queue. Raises NotHandling.
    """
    with transaction.atomic():
        item = _lock_item(workitem)
        if item.status not in (WorkItemStatus.OFFERED, WorkItemStatus.ASSIGNED):
            raise NotHandling()
        _withdraw(item, reason=reason or "released")
        escalation_drop(item)
        _requeue(item)
        item.save()
        _session_next(item, SessionClosure.RELEASED_TO_QUEUE)
        released = f"Released to the queue by {actor}" if actor is not None else "Released to the queue"
        _diagnose(item, DiagnosticStage.TRANSFER, released + (f": {reason}" if reason else ""))
        crm_services.conversation_route(conversation=item.conversation, queue_id=item.queue_id)
    assignment_run(queue_ids=[item.queue_id])
    return item


def agent_live_work_release(*, agent, reason: str) -> int:
    """E.65: an agent who is gone (signed out, client disconnected) gives back their pending offers
    and their live chats and calls, which are routed again (active → open). Asynchronous
    conversations stay theirs. Items that changed meanwhile are skipped. Returns how many went back.
    Side effects: those of ``workitem_release`` for each item.
    """
    released = 0
    for item in WorkItem.objects.filter(
        Q(status=WorkItemStatus.OFFERED)
        | Q(status=WorkItemStatus.ASSIGNED, conversation__status=ConversationStatus.ACTIVE),
        agent=agent,
    ).exclude(status=WorkItemStatus.ASSIGNED, conversation__channel_kind__in=ChannelKind.asynchronous()):
        try:
            workitem_release(workitem=item, actor=None, reason=reason)
        except NotHandling:
            continue  # answered, timed out or released by someone else meanwhile
        released += 1
    return released


def conversation_transfer(
    *, conversation: Conversation, actor, to_queue: Queue | None = None, to_agent=None, note: str = ""
) -> WorkItem:
    """Transfer a conversation to another queue or straight to an agent (A.10, A.63, C.40).

    To a queue: same queue type, the queue must be open; the item keeps its
    skills and matching, skips pre-queue overflow (E.55) and is re-routed.
    To an agent: assigned directly; an agent without capacity is refused
    unless a supervisor transfers (then it is recorded as forced).
    ``note`` becomes an internal note. Side effects: WorkItem, AgentProfile,
    RoutingDiagnostic, the conversation routed/assigned, a note Message; the
    session ended (agent_transferred, or supervisor_transfer_to_agent/_queue when a
    supervisor transfers) and the next one opened in the new queue or with the new agent.
    A call in progress (its Escalation profile) follows the item (D.48).
    Raises InvalidTransfer, NoOpenWorkItem, QueueKindMismatch, QueueClosed, AgentAtCapacity,
    SessionLimitReached, AgentInCall.
    """
    if (to_queue is None) == (to_agent is None):
        raise InvalidTransfer()
    with transaction.atomic():
        current = workitem_open_for(conversation)
        if current is None:
            raise NoOpenWorkItem()
        item = _lock_item(current)
        if to_queue is not None:
            if to_queue.kind != item.queue.kind:
                raise QueueKindMismatch()
            if not is_open(to_queue.operating_hours, timezone.now()):
                raise QueueClosed()
        from_queue, from_agent = item.queue.name, item.agent_id
        by_supervisor = is_supervisor(actor)
        _withdraw(item, reason="transferred")
        if to_queue is not None:
            _requeue(item)
            if to_queue.pk != item.queue_id:
                item.route_rule = None  # E.61: the new queue's overflow pairs apply
            item.queue = to_queue
            item.queued_at = timezone.now()
            item.save()
            _session_next(item, SessionClosure.SUPERVISOR_TRANSFER_TO_QUEUE if by_supervisor
                          else SessionClosure.AGENT_TRANSFERRED)
            _diagnose(item, DiagnosticStage.TRANSFER, f"Transferred from {from_queue} to {to_queue.name} by {actor}",
                      from_agent=from_agent, actor=getattr(actor, "pk", None))
            crm_services.conversation_route(conversation=item.conversation, queue_id=to_queue.pk)
        else:
            _assign_now(item, to_agent, allow_exceed=by_supervisor,
                        summary=f"Transferred to agent {to_agent.pk} by {actor}", from_agent=from_agent)
            _session_next(item, SessionClosure.SUPERVISOR_TRANSFER_TO_AGENT if by_supervisor
                          else SessionClosure.AGENT_TRANSFERRED, agent_id=to_agent.pk)
        if note:
            crm_services.note_add(conversation=item.conversation, author=actor, body=note)
    if to_queue is not None:
        assignment_run(queue_ids=[to_queue.pk])
    return item


def conversation_consult(*, conversation: Conversation, actor, consultant, note: str = "") -> Participant:
    """Invite a colleague to consult on a conversation; consults use no capacity (D.45).

    ``note`` (the question) is kept as an internal note, where the consultant's
    answers (``consult_reply``) join it: the side chat never reaches the customer.
    Side effects: Participant (role consult, in the current session), a note Message; after commit
    ``consult.requested`` to the consultant. Locks the consultant's routing profile.
    Raises NoOpenWorkItem, SessionLimitReached (the consult would be one session too many, D.54).
    """
    with transaction.atomic():
        item = workitem_open_for(conversation)
        if item is None:
            raise NoOpenWorkItem()
        agent_profile_ensure(agent=consultant)
        session_room_check(AgentProfile.objects.select_for_update().select_related("user").get(user=consultant))
        participant = Participant.objects.create(
            workitem=item, agent=consultant, role=ParticipantRole.CONSULT, invited_by=actor,
            session=_session_current(item).first(),
        )
        crm_services.note_add(
            conversation=item.conversation, author=actor,
            body=f"Consult with {consultant}" + (f": {note}" if note else ""),
        )
        publish(events.consult_requested(item, consultant_id=consultant.pk, requested_by_id=actor.pk),
                groups=events.agent_groups(consultant.pk))
    return participant


def consult_reply(*, participant: Participant, body: str):
    """A consultant answers in the side chat: an internal note on the conversation, seen live by its agent.

    Side effects: a note Message (``message.created`` to the conversation's
    groups, never to the customer). Raises NoOpenWorkItem when the work is over.
    """
    item = participant.workitem
    if item.status != WorkItemStatus.ASSIGNED or participant.left_at is not None:
        raise NoOpenWorkItem()
    return crm_services.note_add(conversation=item.conversation, author=participant.agent, body=body)


def consult_leave(*, participant: Participant) -> Participant:
    """The consultant leaves the side chat: no longer a participant of the session (E.69) nor a session
    of theirs (D.54). Idempotent. Side effects: Participant ``left_at``."""
    Participant.objects.filter(pk=participant.pk, left_at__isnull=True).update(left_at=timezone.now())
    participant.refresh_from_db(fields=["left_at"])
    return participant


def conversation_end(*, conversation: Conversation, actor) -> WorkItem | None:
    """End the work (active → wrap-up). Capacity is released now, after the work stream's
    wrap-up block, or at close, per its wrap-up mode (D.47).

    The one "End" operation of the workspace: the state change is
    ``crm.services.conversation_end`` (status, system message, events); a
    conversation routing never handled (no work item) just gets that, and None
    is returned. Raises NotHandling (item queued or offered), ConversationNotLive.
    """
    with transaction.atomic():
        current = workitem_open_for(conversation)
        if current is None:
            crm_services.conversation_end(conversation=conversation, actor=actor)
            return None
        if current.status != WorkItemStatus.ASSIGNED:
            raise NotHandling()
        item = _lock_item(current)
        crm_services.conversation_end(conversation=item.conversation, actor=actor)
        mode = item.work_stream.wrap_up_mode
        if mode == WrapUpMode.NEVER:
            capacity_release(item=item)
        elif mode == WrapUpMode.CUSTOM:
            item.wrap_up_release_at = timezone.now() + timedelta(seconds=item.work_stream.wrap_up_seconds)
        item.save()
    if mode == WrapUpMode.NEVER:
        _run_for_agent(item.agent_id)
    return item


def conversation_park(*, conversation: Conversation, actor) -> WorkItem:
    """Park an asynchronous conversation (active → waiting): capacity is released at once (E.66).
    When the customer writes again ``conversation_enqueue`` re-routes it with affinity. Raises NotHandling."""
    with transaction.atomic():
        current = workitem_open_for(conversation)
        if current is None or current.status != WorkItemStatus.ASSIGNED:
            raise NotHandling()
        item = _lock_item(current)
        crm_services.conversation_status_set(conversation=item.conversation, status=ConversationStatus.WAITING)
        capacity_release(item=item)
        escalation_drop(item)
        item.save()
    _run_for_agent(item.agent_id)
    return item


def workitem_complete(
    *, conversation: Conversation, actor=None, reason: str = "", closure: str | None = None
) -> WorkItem | None:
    """Finish a conversation's work: close the conversation (if still open), complete (or, never
    assigned, abandon) its item, end its last session and release capacity. Idempotent: None when
    no open item is left.

    ``closure`` is the session's closure reason (E.69). Without it: a conversation
    closed elsewhere first (the sweep's reconciliation) ended as the customer's
    doing unless a user closed it (then a force close); otherwise a force close.
    Side effects: WorkItem, ConversationSession, AgentProfile, the conversation closed via
    ``crm.services.conversation_close``; runs an assignment cycle for the freed agent.
    """
    with transaction.atomic():
        current = workitem_open_for(conversation)
        if current is None:
            try:
                crm_services.conversation_close(conversation=conversation, actor=actor, reason=reason)
            except ConversationClosed:
                pass
            return None
        item = _lock_item(current)
        agent_id = item.agent_id
        _session_end(item, closure or _closure_of(item.conversation))
        _withdraw(item, reason="conversation closed")
        now = timezone.now()
        item.status = WorkItemStatus.COMPLETED if item.status == WorkItemStatus.ASSIGNED else WorkItemStatus.ABANDONED
        item.completed_at = now
        item.offer_expires_at = None
        item.save()
        if item.conversation.status != ConversationStatus.CLOSED:
            crm_services.conversation_close(conversation=item.conversation, actor=actor, reason=reason)
    _run_for_agent(agent_id)
    return item


def _closure_of(conversation: Conversation) -> str:
    if conversation.status == ConversationStatus.CLOSED and crm_selectors.conversation_closed_by(
        conversation=conversation
    ) is None:
        return SessionClosure.CUSTOMER_ENDED
    return SessionClosure.FORCE_CLOSE


def conversation_wrap_up(*, conversation: Conversation, actor, disposition_codes: list, notes: str = "") -> Conversation:
    """Record the wrap-up (disposition codes, notes), close the conversation and free the agent's capacity.

    The one "Close conversation" operation of the workspace:
    ``crm.services.conversation_wrap_up`` (policy checks, close) then
    ``workitem_complete`` in the same transaction, so capacity is free the
    moment the close commits (the sweep's reconciliation is only a safety net).
    Raises DispositionRequired, TooManyDispositions, ConversationClosed.
    """
    with transaction.atomic():
        closed = crm_services.conversation_wrap_up(
            conversation=conversation, actor=actor, disposition_codes=disposition_codes, notes=notes
        )
        workitem_complete(conversation=closed, actor=actor, reason="wrapped up", closure=SessionClosure.AGENT_ENDED)
    return closed


def workitem_reroute(*, workitem: WorkItem, actor) -> WorkItem:
    """A supervisor routes a waiting item again: classification and route-to-queue run anew (A.6).

    Skills and capacity profiles the new classification attaches are appended
    to the item's own (a skill it already requires keeps its rating); priority,
    sentiment and effort follow the new classification. The item keeps its place
    (``order_at``); pre-queue overflow is not evaluated (E.55: supervisor moves
    skip it). A pending offer is withdrawn.
    Side effects: WorkItem, RoutingDiagnostic (classification, route), the session
    ended as a supervisor transfer to a queue and the next opened (E.69), the
    conversation routed to the new queue; then an assignment cycle for it.
    Raises NotPermitted, WorkItemTaken (assigned or closed), NoWorkStream.
    """
    if not is_supervisor(actor):
        raise NotPermitted()
    conversation = Conversation.objects.select_related("contact__account", "case").get(pk=workitem.conversation_id)
    stream = work_stream_for(conversation)
    if stream is None:
        raise NoWorkStream()
    # Classification (an embedding, VADER) runs before the transaction, as in conversation_enqueue.
    facts = conversation_facts(conversation=conversation)
    classification = classify(stream=stream, facts=facts)
    choice = route_to_queue(stream=stream, facts=facts, key=conversation.pk, classification=classification)
    with transaction.atomic():
        item = _lock_item(workitem)
        if item.status not in (WorkItemStatus.QUEUED, WorkItemStatus.OFFERED):
            raise WorkItemTaken()
        _withdraw(item, reason=f"re-routed by {actor}")
        _session_end(item, SessionClosure.SUPERVISOR_TRANSFER_TO_QUEUE)
        required = {skill["skill"] for skill in item.required_skills}
        added = [skill for skill in classification.skills if skill["skill"] not in required]
        from_queue = item.queue.name
        item.status, item.agent_id, item.offered_at, item.offer_expires_at = WorkItemStatus.QUEUED, None, None, None
        item.required_skills = item.required_skills + added
        item.capacity_profiles = sorted(set(item.capacity_profiles) | set(classification.capacity_profiles))
        item.priority = classification.priority
        item.sentiment, item.effort_minutes = facts["sentiment"], facts["effort_minutes"]
        item.effort_confidence = facts["effort_confidence"]
        item.attributes = {**item.attributes, "outputs": classification.outputs}
        item.queue, item.route_rule = choice.queue, choice.route_rule
        item.save()
        _session_open(item)
        RoutingDiagnostic.objects.bulk_create([
            RoutingDiagnostic(
                workitem=item, stage=DiagnosticStage.CLASSIFICATION,
                summary=f"Re-routed by {actor}: {len(classification.matched)} rule(s) matched, "
                        f"{len(added)} skill(s) added",
                detail={"matched": classification.matched, "outputs": classification.outputs, "skills_added": added,
                        "actor": actor.pk},
            ),
            RoutingDiagnostic(
                workitem=item, stage=DiagnosticStage.ROUTE_TO_QUEUE,
                summary=f"Queue {choice.queue.name} (was {from_queue})"
                        + (f" by rule {choice.matched_rule}" if choice.matched_rule else " (fallback)"),
                detail=choice.trace,
            ),
        ])
        crm_services.conversation_route(conversation=item.conversation, queue_id=item.queue_id)
    assignment_run(queue_ids=[item.queue_id])
    item.refresh_from_db()
    return item

"""The periodic sweep (Celery beat, every few seconds): timers that nobody else triggers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.choices import CaseStatus, ChannelKind, ConversationStatus
from crm.exceptions import ConversationClosed
from crm.models import Conversation
from crm.services import conversation_route
from routing.choices import (
    BasePresence,
    ChannelFamily,
    DiagnosticStage,
    OverflowAction,
    QueueKind,
    SessionClosure,
    WorkItemStatus,
)
from routing.exceptions import NoWorkStream
from routing.models import AgentProfile, AutoCloseTimer, OverflowRule, WorkItem, WorkStream
from routing.services.cache import cached
from routing.services.classification import overflow_due_in_queue, overflow_pairs_owner
from routing.services.engine import assignment_run, queue_stats_publish
from routing.services.presence import capacity_release, presence_set
from routing.services.workitems import (
    agent_live_work_release,
    OPEN,
    _apply_overflow_action,
    _diagnose,
    _end_conversation,
    _run_for_agent,
    _session_end,
    _session_next,
    conversation_end,
    conversation_enqueue,
    offer_timeout,
    workitem_complete,
)

BATCH = 500
#: The timer that moves a voice call to wrap-up instead of closing it (E.67).
VOICE_ACTIVE = (ChannelFamily.VOICE, ConversationStatus.ACTIVE)
HEARTBEAT_TIMEOUT_SECONDS = 60
#: E.62: in-queue overflow is carried out in batches of this many items, lowest-wait queues first.
OVERFLOW_BATCH_SIZE = 20
#: A conversation flagged ``needs_routing`` is retried once its last customer message is this old,
#: so the normal after-commit enqueue of the ingest always gets there first.
ROUTING_RETRY_AFTER_SECONDS = 10
#: At most this many flagged conversations are retried per sweep, oldest first.
ROUTING_RETRY_BATCH = 100


@dataclass
class SweepReport:
    offers_timed_out: int = 0
    wrap_ups_released: int = 0
    reconciled: int = 0
    overflowed: int = 0
    overflow_batches: int = 0
    routing_retried: int = 0
    awaiting_work_stream: int = 0
    auto_closed: int = 0
    went_offline: int = 0
    assigned: int = 0
    errors: list[str] = field(default_factory=list)


def _family(channel_kind: str) -> str:
    if channel_kind == ChannelKind.VOICE:
        return ChannelFamily.VOICE
    return ChannelFamily.ASYNC if channel_kind in ChannelKind.asynchronous() else ChannelFamily.CHAT


def routing_sweep(*, now=None) -> SweepReport:
    """Offer timeouts, wrap-up releases, closed-elsewhere reconciliation, conversations still
    waiting to be routed, in-queue overflow (in batches, lowest-wait queues first), auto-close
    timers, then an assignment cycle over every queue. Idempotent: safe to run from several
    workers at once (each step locks rows and re-checks state; enqueueing is idempotent)."""
    now = now or timezone.now()
    report = SweepReport()
    for item in WorkItem.objects.filter(status=WorkItemStatus.OFFERED, offer_expires_at__lt=now)[:BATCH]:
        if offer_timeout(workitem=item, now=now) is not None:
            report.offers_timed_out += 1
    for item in WorkItem.objects.filter(
        status=WorkItemStatus.ASSIGNED, capacity_held=True, wrap_up_release_at__lte=now
    )[:BATCH]:
        with transaction.atomic():
            locked = WorkItem.objects.select_for_update(skip_locked=True).filter(pk=item.pk, capacity_held=True).first()
            if locked is None:
                continue
            capacity_release(item=locked, now=now)
            locked.wrap_up_release_at = None
            locked.save(update_fields=["capacity_held", "forced_units", "wrap_up_release_at"])
        _run_for_agent(locked.agent_id)
        report.wrap_ups_released += 1
    # Conversations closed elsewhere (crm, a channel adapter), or record work whose case was
    # resolved or cancelled (D.46: a record releases capacity then), still holding a work item.
    # A live chat whose case is resolved goes on until the chat ends.
    for item in WorkItem.objects.filter(
        Q(conversation__status=ConversationStatus.CLOSED)
        | Q(case__status__in=CaseStatus.closed(), queue__kind=QueueKind.RECORD),
        status__in=[WorkItemStatus.QUEUED, WorkItemStatus.OFFERED, WorkItemStatus.ASSIGNED],
    ).select_related("conversation", "case")[:BATCH]:
        if item.conversation.status == ConversationStatus.CLOSED:
            done = workitem_complete(conversation=item.conversation, reason="closed")
        else:
            done = workitem_complete(conversation=item.conversation, reason=f"case {item.case.status}",
                                     closure=SessionClosure.AGENT_ENDED)
        if done is not None:
            report.reconciled += 1
    _routing_retry(now, report)
    due = overflow_due_in_queue(now=now)
    for start in range(0, len(due), OVERFLOW_BATCH_SIZE):
        report.overflowed += _overflow_batch(due[start:start + OVERFLOW_BATCH_SIZE])
        report.overflow_batches += 1
    report.auto_closed = _auto_close(now)
    report.went_offline = _heartbeats_missed(now)
    report.assigned = len(assignment_run())
    queue_stats_publish()
    return report


def _routing_retry(now, report: SweepReport) -> None:
    """Route open conversations still flagged ``needs_routing`` with no open work item (a hand-off lost
    after commit, or a channel that had no work stream), once they have waited ``ROUTING_RETRY_AFTER_SECONDS``.

    Those whose channel still has no work stream stay flagged and are counted
    in ``awaiting_work_stream``. Side effects: what ``conversation_enqueue`` does.
    """
    flagged = (
        Conversation.objects.filter(
            needs_routing=True, last_customer_message_at__lte=now - timedelta(seconds=ROUTING_RETRY_AFTER_SECONDS)
        )
        .exclude(status=ConversationStatus.CLOSED)
        .exclude(work_items__status__in=OPEN)
    )
    served = set(WorkStream.objects.values_list("channel_kind", flat=True))
    report.awaiting_work_stream = flagged.exclude(channel_kind__in=served).count()
    for conversation in flagged.filter(channel_kind__in=served).order_by("last_customer_message_at", "id")[
        :ROUTING_RETRY_BATCH
    ]:
        try:
            conversation_enqueue(conversation=conversation, context=conversation.context)
        except NoWorkStream:
            # A work stream created seconds ago is not in this process's configuration cache yet.
            report.awaiting_work_stream += 1
        except ConversationClosed:
            continue
        else:
            report.routing_retried += 1


def _overflow_batch(due: list[tuple[WorkItem, OverflowRule]]) -> int:
    """Carry out one batch of in-queue overflow (E.61, E.62) in one transaction; returns how many items moved.

    Items another worker holds, or that left the queue meanwhile, are skipped.
    Side effects: WorkItem queue/status/outcome, the session ended (overflow; the next one opened
    in the new queue on a transfer), an OVERFLOW RoutingDiagnostic
    each (with whose pairs fired), the conversation re-routed or ended.
    """
    done = 0
    with transaction.atomic():
        locked = WorkItem.objects.select_for_update(skip_locked=True).select_related("conversation").in_bulk(
            [item.pk for item, _rule in due]
        )
        for item, rule in due:
            item = locked.get(item.pk)
            if item is None or item.status != WorkItemStatus.QUEUED:
                continue
            if item.outcome and rule.action != OverflowAction.TRANSFER_QUEUE:
                continue
            note = _apply_overflow_action(item, rule, "waiting too long")
            item.save()
            _diagnose(item, DiagnosticStage.OVERFLOW, f"Waited over {rule.threshold} s: {note}", rule=rule.pk,
                      overflow_pairs=overflow_pairs_owner(rule))
            if item.status == WorkItemStatus.ABANDONED:
                _session_end(item, SessionClosure.OVERFLOW)
                _end_conversation(item.conversation, rule.message, reason="in-queue overflow")
            elif rule.action == OverflowAction.TRANSFER_QUEUE:
                _session_next(item, SessionClosure.OVERFLOW)
                conversation_route(conversation=item.conversation, queue_id=item.queue_id)
            done += 1
    return done


def _heartbeats_missed(now) -> int:
    """D.53 (beyond): an agent whose client stopped sending heartbeats is set Offline, and (E.65)
    their pending offers and live chats and calls go back to the queue to be routed again."""
    stale = AgentProfile.objects.select_related("user").filter(
        heartbeat_at__lt=now - timedelta(seconds=HEARTBEAT_TIMEOUT_SECONDS)
    ).exclude(presence__base=BasePresence.OFFLINE)
    count = 0
    for profile in stale[:BATCH]:
        presence_set(agent=profile.user, presence=BasePresence.OFFLINE, system=True)
        agent_live_work_release(agent=profile.user, reason="agent disconnected")
        count += 1
    return count


def auto_close_timers() -> dict[tuple[str, str], int]:
    """E.67's timers, ``(channel family, conversation status) → minutes``, as configured."""
    return cached(("auto_close_timers",), lambda: {
        (timer.family, timer.status): timer.minutes for timer in AutoCloseTimer.objects.all()
    })


def _auto_close(now) -> int:
    """Close conversations idle longer than their timer (E.67); a voice call active that long goes to wrap-up."""
    closed = 0
    live = Conversation.objects.exclude(status=ConversationStatus.CLOSED).filter(work_items__status__in=[
        WorkItemStatus.QUEUED, WorkItemStatus.OFFERED, WorkItemStatus.ASSIGNED,
    ])
    timers = auto_close_timers()
    for (family, status), minutes in timers.items():
        if (family, status) == VOICE_ACTIVE:
            continue
        kinds = [k for k in ChannelKind.values if _family(k) == family]
        cutoff = now - timedelta(minutes=minutes)
        for conversation in live.filter(channel_kind__in=kinds, status=status, last_message_at__lt=cutoff)[:BATCH]:
            workitem_complete(conversation=conversation, reason=f"inactive {minutes} min",
                              closure=SessionClosure.AUTO_CLOSED)
            closed += 1
    for item in WorkItem.objects.filter(
        status=WorkItemStatus.ASSIGNED, conversation__status=ConversationStatus.WAITING
    ).select_related("work_stream", "conversation")[:BATCH]:
        if item.conversation.last_message_at and item.conversation.last_message_at < now - timedelta(
            minutes=item.work_stream.waiting_timeout_minutes
        ):
            workitem_complete(conversation=item.conversation, reason="waiting timed out",
                              closure=SessionClosure.AUTO_CLOSED)
            closed += 1
    voice_minutes = timers.get(VOICE_ACTIVE)
    if voice_minutes is None:
        return closed
    for item in WorkItem.objects.filter(
        status=WorkItemStatus.ASSIGNED, conversation__status=ConversationStatus.ACTIVE,
        conversation__channel_kind=ChannelKind.VOICE,
        assigned_at__lt=now - timedelta(minutes=voice_minutes),
    ).select_related("conversation", "agent")[:BATCH]:
        conversation_end(conversation=item.conversation, actor=item.agent)
        closed += 1
    return closed

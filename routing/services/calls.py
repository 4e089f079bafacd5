"""Escalating a chat to a voice or video call (D.48).

While the call lasts the work item carries the built-in Escalation capacity
profile (limit 1): its agent is offered no chat or voice work, record work
still comes. The profile is one of the item's capacity profiles, so it follows
the item on transfer and is released with the rest of its capacity.
"""

from __future__ import annotations

from django.db import transaction

from crm import services as crm_services
from crm.choices import ConversationStatus, SenderKind
from crm.models import Conversation
from routing.choices import CallMode, QueueKind, WorkItemStatus
from routing.exceptions import (
    AgentInCall,
    CallInProgress,
    CallNotAvailable,
    InvalidCallMode,
    NoCallInProgress,
    NoOpenWorkItem,
    NotHandlingAgent,
)
from routing.models import AgentCapacity, AgentProfile, WorkItem
from routing.services.presence import escalation_profile
from routing.services.workitems import _lock_item, _run_for_agent, workitem_open_for


def _handled_item(conversation: Conversation, actor) -> WorkItem:
    """The conversation's open item, row-locked, if ``actor`` handles it. Raises NoOpenWorkItem, NotHandlingAgent."""
    current = workitem_open_for(conversation)
    if current is None:
        raise NoOpenWorkItem()
    item = _lock_item(current)
    if item.status != WorkItemStatus.ASSIGNED or item.agent_id != actor.pk:
        raise NotHandlingAgent()
    return item


def call_possible(item: WorkItem) -> bool:
    """Whether the chat of ``item`` can be escalated to a call now: an active messaging chat whose
    agent holds its capacity (not parked, not in wrap-up) and that is not in a call already."""
    return (item.work_stream.kind == QueueKind.MESSAGING and item.capacity_held and not item.call_mode
            and item.conversation.status == ConversationStatus.ACTIVE)


def conversation_call_start(*, conversation: Conversation, actor, mode: str) -> WorkItem:
    """The agent handling an active chat escalates it to a voice or video call.

    The item takes the Escalation profile (the agent's usage row is locked; its
    limit of 1 means one call at a time), and a system note "Voice call started"
    records it on the conversation and the contact's timeline.
    Side effects: WorkItem ``call_mode``/``capacity_profiles``, AgentCapacity,
    a note Message (after commit ``message.created``).
    Raises InvalidCallMode, NoOpenWorkItem, NotHandlingAgent, CallInProgress,
    CallNotAvailable (not an active chat), AgentInCall.
    """
    if mode not in CallMode.values:
        raise InvalidCallMode()
    with transaction.atomic():
        item = _handled_item(conversation, actor)
        if item.call_mode:
            raise CallInProgress()
        if not call_possible(item):
            raise CallNotAvailable()
        profile = escalation_profile()
        # Locked like the engine locks it: a cycle running now skips this agent, and the
        # next one sees the call.
        holder = AgentProfile.objects.select_for_update(of=("self",)).get(user_id=item.agent_id)
        usage, _created = AgentCapacity.objects.select_for_update().get_or_create(agent=holder, profile=profile)
        if usage.used >= (usage.limit if usage.limit is not None else profile.default_limit):
            raise AgentInCall()
        usage.used += 1
        usage.save(update_fields=["used"])
        item.call_mode = mode
        item.capacity_profiles = sorted({*item.capacity_profiles, profile.pk})
        item.save(update_fields=["call_mode", "capacity_profiles"])
        crm_services.note_add(conversation=item.conversation, author=actor,
                              body=f"{CallMode(mode).label} started", sender_kind=SenderKind.SYSTEM)
    return item


def conversation_call_end(*, conversation: Conversation, actor) -> WorkItem:
    """The handling agent ends the call: the Escalation profile leaves the item and its capacity is freed.

    Side effects: WorkItem ``call_mode``/``capacity_profiles``, AgentCapacity
    (when the item still holds capacity), a note Message "Voice call ended";
    then an assignment cycle for the agent's queues (chat and voice work may
    come again). Raises NoOpenWorkItem, NotHandlingAgent, NoCallInProgress.
    """
    with transaction.atomic():
        item = _handled_item(conversation, actor)
        if not item.call_mode:
            raise NoCallInProgress()
        profile = escalation_profile()
        if item.capacity_held:
            usage = AgentCapacity.objects.select_for_update().filter(
                agent__user_id=item.agent_id, profile=profile
            ).first()
            if usage is not None:
                limit = usage.limit if usage.limit is not None else profile.default_limit
                if usage.forced and usage.used > limit:
                    usage.forced -= 1
                usage.used = max(0, usage.used - 1)
                usage.save(update_fields=["used", "forced"])
        label = CallMode(item.call_mode).label
        item.call_mode = ""
        item.capacity_profiles = [p for p in item.capacity_profiles if p != profile.pk]
        item.save(update_fields=["call_mode", "capacity_profiles"])
        crm_services.note_add(conversation=item.conversation, author=actor, body=f"{label} ended",
                              sender_kind=SenderKind.SYSTEM)
    _run_for_agent(item.agent_id)
    return item

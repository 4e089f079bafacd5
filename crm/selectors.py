"""CRM reads, each restricted to what the acting user may see.

Agents see the conversations assigned to them and those waiting (open) in
the queues they are members of; supervisors and administrators see everything.
Cases follow their conversations: an agent sees cases they own, that are linked
to their conversations, that sit in one of their queues, or whose discussion
(swarm) they were invited into. Contacts and accounts are the shared customer
directory every staff member may read.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from contactcenter.choices import Role
from contactcenter.permissions import is_staff_member, is_supervisor
from crm.choices import CaseStatus, CaseView, ConversationStatus, MessageDirection, SenderKind, TimelineKind
from crm.models import (
    Account,
    Activity,
    CannedResponse,
    Case,
    CaseDiscussion,
    Contact,
    Conversation,
    DiscussionPost,
    DispositionCode,
    Message,
    Notification,
    SavedView,
    TimelineEvent,
)


def conversations_visible_to(user) -> QuerySet[Conversation]:
    qs = Conversation.objects.select_related("contact", "assigned_agent", "queue", "case")
    if is_supervisor(user):
        return qs
    if not is_staff_member(user):
        return qs.none()
    return qs.filter(_agent_conversations(user))


def _agent_conversations(user, prefix: str = "") -> Q:
    """Assigned to the agent, or waiting in one of the agent's queues (a subquery, no join fan-out)."""
    return Q(**{f"{prefix}assigned_agent": user}) | Q(
        **{f"{prefix}status": ConversationStatus.OPEN, f"{prefix}queue__in": user.queues.values("pk")}
    )


def conversation_get(*, user, conversation_id: int) -> Conversation | None:
    return conversations_visible_to(user).filter(pk=conversation_id).first()


def messages_visible_to(user) -> QuerySet[Message]:
    qs = Message.objects.select_related("sender_user")
    if is_supervisor(user):
        return qs
    if not is_staff_member(user):
        return qs.none()
    return qs.filter(_agent_conversations(user, "conversation__"))


def message_get(*, user, message_id: int) -> Message | None:
    return messages_visible_to(user).filter(pk=message_id).first()


def messages_since(*, user, after_id: int, limit: int = 500) -> list[Message]:
    """What a reconnecting client missed: visible messages with an id above ``after_id``, oldest first."""
    return list(messages_visible_to(user).filter(pk__gt=after_id).order_by("id")[:limit])


def cases_visible_to(user) -> QuerySet[Case]:
    qs = Case.objects.select_related("contact", "account", "owner", "queue")
    if is_supervisor(user):
        return qs
    if not is_staff_member(user):
        return qs.none()
    return qs.filter(
        Q(owner=user)
        | Q(conversations__assigned_agent=user)
        | Q(queue__members=user)
        | Q(discussion__participants=user)
    ).distinct()


def activities_visible_to(user) -> QuerySet[Activity]:
    qs = Activity.objects.select_related("owner", "case", "contact")
    if is_supervisor(user):
        return qs
    if not is_staff_member(user):
        return qs.none()
    return qs.filter(Q(owner=user) | Q(case__in=cases_visible_to(user).values("pk")))


def contacts_visible_to(user) -> QuerySet[Contact]:
    qs = Contact.objects.select_related("account")
    return qs if is_staff_member(user) else qs.none()


def accounts_visible_to(user) -> QuerySet[Account]:
    qs = Account.objects.select_related("owner")
    return qs if is_staff_member(user) else qs.none()


def timeline_for(*, user, contact: Contact, limit: int = 50) -> list[TimelineEvent]:
    if not is_staff_member(user):
        return []
    return list(contact.timeline.select_related("actor")[:limit])


# --- Agent workspace ---

WORKLIST_STATUSES = (
    ConversationStatus.OPEN, ConversationStatus.ACTIVE, ConversationStatus.WAITING, ConversationStatus.WRAP_UP,
)
SLA_WARNING = timedelta(hours=1)


def _last_message(field: str):
    return Subquery(
        Message.objects.filter(conversation=OuterRef("pk")).exclude(sender_kind=SenderKind.SYSTEM)
        .order_by("-id").values(field)[:1]
    )


def worklist_for(user) -> list[Conversation]:
    """The agent's live conversations (active, waiting, wrap-up) with preview and unread count, in one query."""
    if not is_staff_member(user):
        return []
    return list(
        Conversation.objects.select_related("contact")
        .filter(assigned_agent=user, status__in=WORKLIST_STATUSES)
        .annotate(
            last_body=_last_message("body"),
            last_direction=_last_message("direction"),
            unread=Count(
                "messages",
                filter=Q(messages__direction=MessageDirection.INBOUND, messages__id__gt=F("agent_read_up_to")),
            ),
        )
        .order_by("-last_message_at", "-id")[:100]
    )


def my_open_cases(user, *, limit: int = 25) -> list[Case]:
    if not is_staff_member(user):
        return []
    return list(
        Case.objects.select_related("contact").filter(owner=user).exclude(status__in=CaseStatus.closed())
        .order_by("priority", "resolve_by", "-created_at")[:limit]
    )


def transcript_for(*, user, conversation: Conversation) -> list[Message]:
    return list(messages_visible_to(user).filter(conversation=conversation).order_by("id"))


def latest_message_id(user) -> int:
    """The newest message id the user may see: where a fresh page's socket resumes from."""
    return messages_visible_to(user).aggregate(last=Max("id"))["last"] or 0


def recent_cases_for_contact(*, user, contact: Contact, limit: int = 5) -> list[Case]:
    if not is_staff_member(user):
        return []
    return list(Case.objects.filter(contact=contact).order_by("-created_at")[:limit])


def open_cases_for_contact(*, user, contact: Contact) -> list[Case]:
    if not is_staff_member(user):
        return []
    return list(Case.objects.filter(contact=contact).exclude(status__in=CaseStatus.closed()).order_by("-created_at"))


def canned_responses_for(*, user, query: str = "", limit: int = 8) -> list[CannedResponse]:
    """Shared and personal quick replies, searched by ``keyword`` (slug/title/body) or ``#tag``."""
    if not is_staff_member(user):
        return []
    qs = CannedResponse.objects.filter(is_active=True).filter(Q(owner__isnull=True) | Q(owner=user))
    for word in query.split():
        if word.startswith("#") and len(word) > 1:
            qs = qs.filter(tags__iregex=rf"(^|\s){re.escape(word[1:])}")
        else:
            qs = qs.filter(Q(slug__icontains=word) | Q(title__icontains=word) | Q(body__icontains=word))
    return list(qs.order_by("owner_id", "slug")[:limit])


def disposition_codes_active() -> list[DispositionCode]:
    return list(DispositionCode.objects.filter(is_active=True))


def _breaching(now) -> Q:
    soon = now + SLA_WARNING
    return Q(on_hold_since__isnull=True) & (
        Q(first_responded_at__isnull=True, first_response_by__lte=soon) | Q(resolve_by__lte=soon)
    )


def case_list(
    *, user, view: str = CaseView.MINE, status: str = "", priority: str = "", query: str = ""
) -> QuerySet[Case]:
    """A case list view (``CaseView``) with optional status/priority/text filters, most urgent first."""
    qs = cases_visible_to(user)
    open_only = not status
    if view == CaseView.MINE:
        qs = qs.filter(owner=user)
    elif view == CaseView.TEAM:
        qs = qs.filter(queue__members=user)
    elif view == CaseView.UNASSIGNED:
        qs = qs.filter(owner__isnull=True)
    elif view == CaseView.BREACHING:
        qs = qs.filter(_breaching(timezone.now()))
    if status:
        qs = qs.filter(status=status)
    elif open_only:
        qs = qs.exclude(status__in=CaseStatus.closed())
    if priority:
        qs = qs.filter(priority=priority)
    if query:
        qs = qs.filter(
            Q(number__iexact=query) | Q(subject__icontains=query) | Q(contact__last_name__icontains=query)
            | Q(contact__email__icontains=query)
        )
    return qs.order_by("priority", F("resolve_by").asc(nulls_last=True), "-created_at")


def case_get(*, user, case_id: int) -> Case | None:
    return cases_visible_to(user).filter(pk=case_id).first()


def case_by_number(*, user, number: str) -> Case | None:
    return cases_visible_to(user).filter(number__iexact=number.strip()).first()


def case_notes(*, case: Case) -> list[TimelineEvent]:
    return list(
        TimelineEvent.objects.select_related("actor").filter(case=case, kind=TimelineKind.NOTE).order_by("-occurred_at")
    )


def case_history(*, case: Case, limit: int = 50) -> list[TimelineEvent]:
    return list(TimelineEvent.objects.select_related("actor").filter(case=case).order_by("-occurred_at")[:limit])


def case_discussion(*, case: Case) -> CaseDiscussion | None:
    return (
        CaseDiscussion.objects.filter(case=case)
        .prefetch_related("participants", Prefetch("posts", queryset=DiscussionPost.objects.select_related("author")))
        .first()
    )


def staff_directory(*, user, include_self: bool = False) -> QuerySet:
    """Colleagues one may invite into a swarm, mention or make a case owner."""
    if not is_staff_member(user):
        return get_user_model().objects.none()
    qs = get_user_model().objects.filter(is_active=True).filter(Q(is_superuser=True) | Q(groups__name__in=Role.values))
    if not include_self:
        qs = qs.exclude(pk=user.pk)
    return qs.distinct().order_by("username")


def notifications_for(*, user, limit: int = 20) -> list[Notification]:
    return list(Notification.objects.select_related("case").filter(recipient=user)[:limit])


def unread_notification_count(*, user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def saved_views_for(*, user) -> list[SavedView]:
    return list(SavedView.objects.filter(owner=user))


def quick_reply_values(*, conversation: Conversation, agent) -> dict[str, str]:
    """What ``{placeholders}`` in quick replies become for this conversation and agent."""
    contact = conversation.contact
    return {
        "customerName": contact.display_name,
        "customerFirstName": contact.first_name or contact.display_name,
        "customerLastName": contact.last_name,
        "customerEmail": contact.email,
        "customerPhone": contact.phone,
        "accountName": contact.account.name if contact.account_id else "",
        "agentName": str(agent),
        "agentFirstName": agent.first_name or str(agent),
        "caseNumber": conversation.case.number if conversation.case_id else "",
        "conversationId": str(conversation.pk),
    }


def recently_closed_for(user, *, limit: int = 10) -> list[Conversation]:
    """The agent's most recently closed conversations (the *Closed work items* list)."""
    if not is_staff_member(user):
        return []
    return list(
        Conversation.objects.select_related("contact")
        .filter(assigned_agent=user, status=ConversationStatus.CLOSED)
        .order_by("-closed_at", "-id")[:limit]
    )


def contacts_search(*, user, query: str, limit: int = 8) -> list[Contact]:
    """Customers matching every word of ``query`` by name, email, phone or channel address."""
    words = query.split()
    if not words:
        return []
    qs = contacts_visible_to(user)
    for word in words[:5]:
        qs = qs.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word)
            | Q(phone__icontains=word) | Q(identities__address__icontains=word)
        )
    return list(qs.distinct().order_by("last_name", "first_name", "id")[:limit])


def conversation_closed_by(*, conversation: Conversation) -> int | None:
    """The id of the user who closed ``conversation``; None when it is open or was closed by the
    customer or the system (its closing system message has no sender)."""
    return (
        Message.objects.filter(conversation=conversation, metadata__event="conversation.closed")
        .order_by("-id")
        .values_list("sender_user_id", flat=True)
        .first()
    )

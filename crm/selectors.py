"""CRM reads, each restricted to what the acting user may see.

Agents see the conversations assigned to them and those waiting (open) in
the queues they are members of; supervisors and administrators see everything. Cases follow
their conversations: an agent sees cases they own or that are linked to their
conversations. Contacts and accounts are the shared customer directory every
staff member may read.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from contactcenter.permissions import is_staff_member, is_supervisor
from crm.choices import ConversationStatus
from crm.models import Account, Activity, Case, Contact, Conversation, Message, TimelineEvent


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
    return qs.filter(Q(owner=user) | Q(conversations__assigned_agent=user)).distinct()


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

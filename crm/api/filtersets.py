"""django-filter sets of the CRM API (query parameters of the list endpoints)."""

from __future__ import annotations

import django_filters as filters

from crm.choices import (
    AccountTier,
    ActivityKind,
    ActivityStatus,
    CaseStatus,
    ChannelKind,
    ConversationStatus,
    MessageDirection,
    SenderKind,
    TimelineKind,
)
from crm.models import Account, Activity, Case, Contact, Conversation, Message, TimelineEvent


class AccountFilterSet(filters.FilterSet):
    tier = filters.MultipleChoiceFilter(choices=AccountTier.choices)
    domain = filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Account
        fields = ["tier", "domain", "owner"]


class ContactFilterSet(filters.FilterSet):
    email = filters.CharFilter(lookup_expr="iexact")
    identity_kind = filters.ChoiceFilter(
        field_name="identities__kind", choices=ChannelKind.choices, distinct=True, label="Has an identity of this kind"
    )
    identity_address = filters.CharFilter(
        field_name="identities__address", distinct=True, label="Has an identity with this exact address"
    )
    updated_after = filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Contact
        fields = ["account", "is_vip", "language", "email", "phone"]


class CaseFilterSet(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=CaseStatus.choices)
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    resolve_by_before = filters.IsoDateTimeFilter(field_name="resolve_by", lookup_expr="lt")

    class Meta:
        model = Case
        fields = ["status", "priority", "severity", "contact", "account", "owner", "queue"]


class ConversationFilterSet(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=ConversationStatus.choices)
    channel_kind = filters.MultipleChoiceFilter(choices=ChannelKind.choices)
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Conversation
        fields = ["status", "channel_kind", "contact", "case", "assigned_agent", "queue"]


class MessageFilterSet(filters.FilterSet):
    direction = filters.MultipleChoiceFilter(choices=MessageDirection.choices)
    sender_kind = filters.MultipleChoiceFilter(choices=SenderKind.choices)
    after = filters.NumberFilter(field_name="id", lookup_expr="gt", label="Only messages with an id above this one")

    class Meta:
        model = Message
        fields = ["direction", "sender_kind"]


class ActivityFilterSet(filters.FilterSet):
    kind = filters.MultipleChoiceFilter(choices=ActivityKind.choices)
    status = filters.MultipleChoiceFilter(choices=ActivityStatus.choices)
    due_after = filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_before = filters.IsoDateTimeFilter(field_name="due_at", lookup_expr="lt")

    class Meta:
        model = Activity
        fields = ["kind", "status", "owner", "case", "contact"]


class TimelineEventFilterSet(filters.FilterSet):
    kind = filters.MultipleChoiceFilter(choices=TimelineKind.choices)
    since = filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")

    class Meta:
        model = TimelineEvent
        fields = ["kind", "case", "conversation"]

"""CRM API shapes. Output serializers are read-only views of a row; input
serializers validate a request's shape before a service is called with it."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm import selectors
from crm.choices import CasePriority, CaseStatus, ChannelKind
from crm.models import Account, Activity, Case, Contact, ContactIdentity, Conversation, Message, TimelineEvent
from crm.services import identity_normalize
from crm.validators import normalize_email, normalize_phone

User = get_user_model()


def _name(user) -> str | None:
    return str(user) if user else None


# --- Related fields that only accept what the acting user may see ------------------------------


class VisibleRelatedField(serializers.PrimaryKeyRelatedField):
    """A primary key among the rows ``selector(request.user)`` returns; others read as "does not exist"."""

    def __init__(self, *, selector, **kwargs):
        self.selector = selector
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.selector(self.context["request"].user)


def staff_users():
    return User.objects.filter(Q(is_superuser=True) | Q(groups__isnull=False), is_active=True).distinct()


class StaffUserField(serializers.PrimaryKeyRelatedField):
    """An active agent, supervisor or administrator."""

    def __init__(self, **kwargs):
        super().__init__(queryset=User.objects.all(), **kwargs)

    def get_queryset(self):
        return staff_users()


# --- Output --------------------------------------------------------------------------------------


class AccountSerializer(serializers.ModelSerializer):
    owner_name = serializers.SerializerMethodField()

    class Meta:
        model = Account
        fields = ["id", "name", "domain", "tier", "owner", "owner_name", "created_at", "updated_at"]
        read_only_fields = fields

    def get_owner_name(self, account: Account) -> str | None:
        return _name(account.owner)


class ContactIdentitySerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactIdentity
        fields = ["id", "kind", "address", "created_at"]
        read_only_fields = fields


class ContactSerializer(serializers.ModelSerializer):
    display_name = serializers.SerializerMethodField()
    account_name = serializers.SerializerMethodField()
    identities = ContactIdentitySerializer(many=True, read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id", "first_name", "last_name", "display_name", "email", "phone", "language", "is_vip", "account",
            "account_name", "attributes", "identities", "created_at", "updated_at",
        ]
        read_only_fields = fields

    def get_display_name(self, contact: Contact) -> str:
        return str(contact.display_name)

    def get_account_name(self, contact: Contact) -> str | None:
        return contact.account.name if contact.account else None


class CaseSerializer(serializers.ModelSerializer):
    contact_name = serializers.SerializerMethodField()
    owner_name = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = [
            "id", "number", "subject", "description", "status", "priority", "severity", "contact", "contact_name",
            "account", "owner", "owner_name", "queue", "resolution", "first_response_by", "resolve_by",
            "first_responded_at", "resolved_at", "created_at", "updated_at",
        ]
        read_only_fields = fields

    def get_contact_name(self, case: Case) -> str:
        return str(case.contact.display_name)

    def get_owner_name(self, case: Case) -> str | None:
        return _name(case.owner)


class ConversationSerializer(serializers.ModelSerializer):
    contact_name = serializers.SerializerMethodField()
    case_number = serializers.SerializerMethodField()
    assigned_agent_name = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = [
            "id", "channel_kind", "channel_ref", "status", "subject", "contact", "contact_name", "case",
            "case_number", "assigned_agent", "assigned_agent_name", "queue", "context", "created_at",
            "first_queued_at", "assigned_at", "first_agent_response_at", "last_customer_message_at",
            "last_message_at", "closed_at",
        ]
        read_only_fields = fields

    def get_contact_name(self, conversation: Conversation) -> str:
        return str(conversation.contact.display_name)

    def get_case_number(self, conversation: Conversation) -> str | None:
        return conversation.case.number if conversation.case else None

    def get_assigned_agent_name(self, conversation: Conversation) -> str | None:
        return _name(conversation.assigned_agent)


class MessageSerializer(serializers.ModelSerializer):
    sender_name = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = [
            "id", "conversation", "direction", "sender_kind", "sender_user", "sender_name", "body", "html",
            "attachments", "channel_kind", "provider_message_id", "delivery_status", "created_at",
        ]
        read_only_fields = fields

    def get_sender_name(self, message: Message) -> str:
        return str(message.sender_user) if message.sender_user else str(message.get_sender_kind_display())


class ActivitySerializer(serializers.ModelSerializer):
    owner_name = serializers.SerializerMethodField()

    class Meta:
        model = Activity
        fields = [
            "id", "kind", "subject", "description", "due_at", "status", "owner", "owner_name", "case", "contact",
            "created_at", "completed_at",
        ]
        read_only_fields = fields

    def get_owner_name(self, activity: Activity) -> str | None:
        return _name(activity.owner)


class TimelineEventSerializer(serializers.ModelSerializer):
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = TimelineEvent
        fields = [
            "id", "kind", "summary", "actor", "actor_name", "conversation", "case", "message", "activity", "data",
            "occurred_at",
        ]
        read_only_fields = fields

    def get_actor_name(self, event: TimelineEvent) -> str | None:
        return _name(event.actor)


# --- Input ---------------------------------------------------------------------------------------


def _django_errors(exc: DjangoValidationError) -> list[str]:
    return [str(message) for message in exc.messages]


class AccountInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    domain = serializers.CharField(max_length=253, required=False, allow_blank=True)
    tier = serializers.ChoiceField(choices=Account._meta.get_field("tier").choices, required=False)
    owner = StaffUserField(required=False, allow_null=True)


class ContactInputSerializer(serializers.Serializer):
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, help_text=_("Any format; stored in E.164.")
    )
    language = serializers.CharField(max_length=16, required=False)
    is_vip = serializers.BooleanField(required=False)
    account = VisibleRelatedField(
        selector=selectors.accounts_visible_to, queryset=Account.objects.all(), required=False, allow_null=True
    )
    attributes = serializers.DictField(required=False, help_text=_("Custom attributes (a JSON object)."))

    def validate_email(self, value: str) -> str:
        try:
            return normalize_email(value) if value else value
        except DjangoValidationError as exc:
            raise serializers.ValidationError(_django_errors(exc)) from exc

    def validate_phone(self, value: str) -> str:
        try:
            return normalize_phone(value) if value else value
        except DjangoValidationError as exc:
            raise serializers.ValidationError(_django_errors(exc)) from exc

    def validate(self, attrs):
        if self.partial:
            return attrs
        if not any(attrs.get(name) for name in ("first_name", "last_name", "email", "phone")):
            raise serializers.ValidationError(_("Give the contact a name, an email or a phone number."))
        return attrs


class ContactIdentityInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    address = serializers.CharField(max_length=320)

    def validate(self, attrs):
        try:
            address = identity_normalize(channel_kind=attrs["kind"], address=attrs["address"])
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"address": _django_errors(exc)}) from exc
        if ContactIdentity.objects.filter(kind=attrs["kind"], address=address).exists():
            raise serializers.ValidationError({"address": [_("This address already belongs to a contact.")]})
        return {"kind": attrs["kind"], "address": address}


class CaseCreateSerializer(serializers.Serializer):
    contact = VisibleRelatedField(selector=selectors.contacts_visible_to, queryset=Contact.objects.all())
    subject = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=Case._meta.get_field("priority").choices, required=False)
    severity = serializers.ChoiceField(choices=Case._meta.get_field("severity").choices, required=False)
    owner = StaffUserField(required=False, allow_null=True, help_text=_("Defaults to the caller."))
    account = VisibleRelatedField(
        selector=selectors.accounts_visible_to, queryset=Account.objects.all(), required=False, allow_null=True,
        help_text=_("Defaults to the contact's account."),
    )
    first_response_by = serializers.DateTimeField(required=False, allow_null=True)
    resolve_by = serializers.DateTimeField(required=False, allow_null=True)


#: The statuses an edit may set; resolving has its own action, which records the resolution.
CASE_EDITABLE_STATUSES = [(value, label) for value, label in CaseStatus.choices if value != CaseStatus.RESOLVED]


class CaseUpdateSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=255, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    status = serializers.ChoiceField(
        choices=CASE_EDITABLE_STATUSES,
        required=False, help_text=_("To resolve a case, POST to its resolve action."),
    )
    priority = serializers.ChoiceField(choices=Case._meta.get_field("priority").choices, required=False)
    severity = serializers.ChoiceField(choices=Case._meta.get_field("severity").choices, required=False)
    owner = StaffUserField(required=False, allow_null=True)
    account = VisibleRelatedField(
        selector=selectors.accounts_visible_to, queryset=Account.objects.all(), required=False, allow_null=True
    )
    first_response_by = serializers.DateTimeField(required=False, allow_null=True)
    resolve_by = serializers.DateTimeField(required=False, allow_null=True)


class CaseResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(max_length=5000)


class CaseFromConversationSerializer(serializers.Serializer):
    subject = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default="",
        help_text=_("Defaults to the conversation's subject or first customer message."),
    )
    description = serializers.CharField(required=False, allow_blank=True, default="")
    priority = serializers.ChoiceField(
        choices=Case._meta.get_field("priority").choices, required=False, default=CasePriority.NORMAL
    )


class ConversationCloseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class MessageSendSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20000)
    internal = serializers.BooleanField(
        default=False, help_text=_("An internal note for colleagues, never sent to the customer.")
    )


class ActivityCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Activity._meta.get_field("kind").choices)
    subject = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True)
    due_at = serializers.DateTimeField(required=False, allow_null=True)
    owner = StaffUserField(required=False, allow_null=True, help_text=_("Defaults to the caller."))
    case = VisibleRelatedField(
        selector=selectors.cases_visible_to, queryset=Case.objects.all(), required=False, allow_null=True
    )
    contact = VisibleRelatedField(
        selector=selectors.contacts_visible_to, queryset=Contact.objects.all(), required=False, allow_null=True
    )

    def validate(self, attrs):
        if not attrs.get("case") and not attrs.get("contact"):
            raise serializers.ValidationError(_("An activity regards a case or a contact: give one."))
        return attrs


class ActivityUpdateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Activity._meta.get_field("kind").choices, required=False)
    subject = serializers.CharField(max_length=255, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    due_at = serializers.DateTimeField(required=False, allow_null=True)
    status = serializers.ChoiceField(choices=Activity._meta.get_field("status").choices, required=False)
    owner = StaffUserField(required=False, allow_null=True)

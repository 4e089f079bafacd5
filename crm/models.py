from __future__ import annotations

import re

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.choices import (
    AccountTier,
    ActivityKind,
    ActivityStatus,
    CasePriority,
    CaseSeverity,
    CaseStatus,
    ChannelKind,
    ConversationStatus,
    DeliveryStatus,
    MessageDirection,
    NotificationKind,
    SenderKind,
    TimelineKind,
)
from crm.validators import validate_e164


class Account(models.Model):
    """An organisation we support; contacts and cases may belong to it."""

    name = models.CharField(_("name"), max_length=200)
    domain = models.CharField(_("domain"), max_length=253, blank=True, db_index=True)
    tier = models.CharField(_("tier"), max_length=16, choices=AccountTier.choices, default=AccountTier.STANDARD)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_accounts"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A customer; every channel address they use resolves here through an identity."""

    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True, db_index=True)
    phone = models.CharField(_("phone"), max_length=16, blank=True, validators=[validate_e164], db_index=True)
    language = models.CharField(_("language"), max_length=16, default="en")
    is_vip = models.BooleanField(_("VIP"), default=False)
    account = models.ForeignKey(Account, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts")
    attributes = models.JSONField(_("custom attributes"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return name or self.email or self.phone or _("Contact #%(id)s") % {"id": self.pk}


class ContactIdentity(models.Model):
    """One channel address of a contact (``sms:+15551234567``, ``email:a@b.c``, ``webchat:<token>``)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(_("channel kind"), max_length=16, choices=ChannelKind.choices)
    address = models.CharField(_("address"), max_length=320)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = _("contact identities")
        constraints = [models.UniqueConstraint(fields=["kind", "address"], name="crm_identity_unique_kind_address")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.address}"


class Case(models.Model):
    """A customer issue tracked to resolution, numbered ``CAS-000123``."""

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.NEW)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=CasePriority.choices, default=CasePriority.NORMAL)
    severity = models.PositiveSmallIntegerField(_("severity"), choices=CaseSeverity.choices, default=CaseSeverity.MINOR)
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="cases")
    account = models.ForeignKey(Account, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_cases"
    )
    queue = models.ForeignKey(
        "routing.Queue", on_delete=models.SET_NULL, null=True, blank=True, related_name="cases"
    )
    resolution = models.TextField(_("resolution"), blank=True)
    first_response_by = models.DateTimeField(_("first response by"), null=True, blank=True)
    resolve_by = models.DateTimeField(_("resolve by"), null=True, blank=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    on_hold_since = models.DateTimeField(
        _("on hold since"), null=True, blank=True, help_text=_("SLA timers are paused while a case is on hold.")
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged_cases",
        verbose_name=_("merged into"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "priority"])]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"


class Conversation(models.Model):
    """One thread with a customer on one channel identity, from first message to close.

    Its timestamps are the raw material of every wait, response and handle-time KPI.
    """

    channel_kind = models.CharField(_("channel"), max_length=16, choices=ChannelKind.choices)
    channel_ref = models.CharField(
        _("channel endpoint"), max_length=100, blank=True,
        help_text=_("Which of our endpoints it arrived on: a web chat key, an SMS number, a mailbox."),
    )
    identity = models.ForeignKey(ContactIdentity, on_delete=models.PROTECT, related_name="conversations")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="conversations")
    case = models.ForeignKey(Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations")
    status = models.CharField(
        _("status"), max_length=16, choices=ConversationStatus.choices, default=ConversationStatus.OPEN
    )
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    assigned_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="assigned_conversations",
    )
    queue = models.ForeignKey(
        "routing.Queue", on_delete=models.SET_NULL, null=True, blank=True, related_name="conversations"
    )
    context = models.JSONField(
        _("context"), default=dict, blank=True,
        help_text=_("Pre-chat answers, visitor details and other context variables."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    first_queued_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    first_agent_response_at = models.DateTimeField(null=True, blank=True)
    last_customer_message_at = models.DateTimeField(null=True, blank=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    agent_read_up_to = models.PositiveBigIntegerField(
        _("read up to message id"), default=0, help_text=_("The assigned agent has seen messages up to this id.")
    )
    disposition_codes = models.ManyToManyField(
        "DispositionCode", blank=True, related_name="conversations", verbose_name=_("disposition codes")
    )
    wrap_up_notes = models.TextField(_("wrap-up notes"), blank=True)
    wrapped_up_at = models.DateTimeField(null=True, blank=True)
    needs_routing = models.BooleanField(
        _("waiting to be routed"), default=False, editable=False,
        help_text=_("A customer message needs a person and routing has no work item for it yet."),
    )

    class Meta:
        ordering = ["-last_message_at", "-id"]
        constraints = [
            # Two webhooks from the same customer arriving at once must not open
            # two conversations.
            models.UniqueConstraint(
                fields=["identity"], condition=~Q(status=ConversationStatus.CLOSED),
                name="crm_conversation_one_live_per_identity",
            ),
        ]
        indexes = [
            models.Index(fields=["assigned_agent", "status"]),
            models.Index(fields=["queue", "status"]),
            # The routing sweep's retry scan: only conversations still waiting to be routed.
            models.Index(
                fields=["last_customer_message_at"], condition=Q(needs_routing=True), name="crm_conv_needs_routing",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_channel_kind_display()} · {self.contact}"


class Message(models.Model):
    """One message of a conversation; its id is the event id clients resume from.

    Ids are handed out in commit order (see ``crm.services``), so a client that
    saw id N has seen every message with a smaller id that it may see.
    """

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(_("direction"), max_length=16, choices=MessageDirection.choices)
    sender_kind = models.CharField(_("sender"), max_length=16, choices=SenderKind.choices)
    sender_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField(_("body"), blank=True)
    html = models.TextField(_("HTML body"), blank=True)
    attachments = models.JSONField(_("attachments"), default=list, blank=True)
    channel_kind = models.CharField(_("channel"), max_length=16, choices=ChannelKind.choices)
    provider_message_id = models.CharField(_("provider message id"), max_length=255, null=True, blank=True)
    delivery_status = models.CharField(
        _("delivery status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.RECEIVED
    )
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel_kind", "provider_message_id"], condition=Q(provider_message_id__isnull=False),
                name="crm_message_unique_provider_id",
            ),
        ]
        indexes = [models.Index(fields=["conversation", "id"])]

    def __str__(self) -> str:
        return f"{self.get_sender_kind_display()}: {self.body[:60]}"


class Activity(models.Model):
    """A task, phone call, email or appointment regarding a case or contact."""

    kind = models.CharField(_("kind"), max_length=16, choices=ActivityKind.choices, default=ActivityKind.TASK)
    subject = models.CharField(_("subject"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=ActivityStatus.choices, default=ActivityStatus.OPEN)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="activities"
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, null=True, blank=True, related_name="activities")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="activities")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = _("activities")
        ordering = ["due_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(case__isnull=False) | Q(contact__isnull=False), name="crm_activity_regarding_something"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.subject}"


class TimelineEvent(models.Model):
    """Append-only record of everything that happened with a customer (the 360 timeline)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(_("kind"), max_length=32, choices=TimelineKind.choices)
    summary = models.CharField(_("summary"), max_length=500)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    activity = models.ForeignKey(Activity, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["contact", "-occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary}"


class DispositionCode(models.Model):
    """An outcome an agent records when wrapping up a conversation (reportable per conversation)."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=100)
    category = models.CharField(_("category"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_system = models.BooleanField(
        _("system code"), default=False, editable=False, help_text=_("System codes cannot be deleted.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        ordering = ["category", "position", "label"]

    def __str__(self) -> str:
        return f"{self.category}: {self.label}" if self.category else self.label


class WrapUpPolicy(models.Model):
    """How wrap-up works: whether a disposition code is required to close, and how many are allowed.

    One row (``WrapUpPolicy.current()``); administrators edit it in the admin.
    """

    MAX_CODES_LIMIT = 12

    disposition_required = models.BooleanField(_("disposition code required to close"), default=False)
    max_dispositions = models.PositiveSmallIntegerField(
        _("maximum codes per conversation"), default=2,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_CODES_LIMIT)],
    )

    class Meta:
        verbose_name = _("wrap-up policy")
        verbose_name_plural = _("wrap-up policy")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_dispositions__gte=1, max_dispositions__lte=12), name="crm_wrapup_max_codes_range"
            ),
        ]

    def __str__(self) -> str:
        return str(_("Wrap-up policy"))

    @classmethod
    def current(cls) -> WrapUpPolicy:
        return cls.objects.order_by("pk").first() or cls()


class CannedResponse(models.Model):
    """A quick reply: shared (no owner) or personal; ``{customerName}``-style placeholders are filled in."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="canned_responses",
        help_text=_("Empty for a reply shared with everyone."),
    )
    slug = models.SlugField(_("slug"), max_length=50)
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("body"))
    tags = models.CharField(
        _("tags"), max_length=200, blank=True, help_text=_("Space-separated, e.g. shipping returns")
    )
    language = models.CharField(_("language"), max_length=16, default="en")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "slug"], nulls_distinct=False, name="crm_canned_unique_owner_slug"
            ),
        ]

    def __str__(self) -> str:
        return f"/{self.slug} {self.title}"

    PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")

    @property
    def tag_list(self) -> list[str]:
        return self.tags.split()

    def render(self, values: dict[str, str]) -> str:
        """The body with ``{placeholder}`` filled from ``values``; unknown or empty ones stay for the agent."""
        return self.PLACEHOLDER_RE.sub(lambda match: values.get(match.group(1)) or match.group(0), self.body)


class CaseDiscussion(models.Model):
    """A swarm: colleagues invited into an internal discussion of one case."""

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="discussion")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    summary = models.TextField(_("case summary"), blank=True)
    participants = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="case_discussions", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Swarm on {self.case.number}"


class DiscussionPost(models.Model):
    """One message in a case discussion; ``@username`` mentions notify that colleague."""

    discussion = models.ForeignKey(CaseDiscussion, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    body = models.TextField(_("body"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.body[:60]


class Notification(models.Model):
    """Something a staff member should look at: a mention, a swarm invitation."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    text = models.CharField(_("text"), max_length=300)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.text


class SavedView(models.Model):
    """A user's named case-list filter (status, priority, search text on top of a built-in view)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_case_views")
    name = models.CharField(_("name"), max_length=60)
    filters = models.JSONField(_("filters"), default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="crm_savedview_unique_owner_name")]

    def __str__(self) -> str:
        return self.name

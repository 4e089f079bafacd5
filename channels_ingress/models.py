from __future__ import annotations

import secrets
import zoneinfo
from datetime import datetime, time

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from channels_ingress.choices import (
    AgentNameMode,
    CaseCreation,
    DeliveryState,
    IvrAction,
    PrechatFieldType,
    WidgetPosition,
)
from crm.validators import validate_e164

MAX_PRECHAT_QUESTIONS = 10
MAX_PRECHAT_LABEL = 512
DEFAULT_MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
DEFAULT_BLOCKED_EXTENSIONS = ["exe", "bat", "cmd", "com", "js", "msi", "ps1", "scr", "sh", "vbs"]

colour_validator = RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Enter a colour like #0b5cab."))
key_validator = RegexValidator(r"^[A-Za-z0-9_-]{6,64}$", _("Use 6–64 letters, digits, '-' or '_'."))


def new_public_key() -> str:
    return secrets.token_urlsafe(12)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def default_prechat_questions() -> list[dict]:
    return [
        {"name": "name", "label": "Your name", "type": PrechatFieldType.SINGLE_LINE, "required": True},
        {"name": "email", "label": "Email", "type": PrechatFieldType.SINGLE_LINE, "required": True},
        {"name": "question", "label": "How can we help?", "type": PrechatFieldType.MULTI_LINE, "required": False},
    ]


def validate_prechat_questions(value) -> None:
    """At most 10 questions of a known type, each label at most 512 characters (REFERENCE 71)."""
    if not isinstance(value, list):
        raise ValidationError(_("Pre-chat questions must be a list."))
    if len(value) > MAX_PRECHAT_QUESTIONS:
        raise ValidationError(_("At most %(n)s pre-chat questions."), params={"n": MAX_PRECHAT_QUESTIONS})
    names = set()
    for question in value:
        if not isinstance(question, dict) or not question.get("name") or not question.get("label"):
            raise ValidationError(_("Every question needs a name and a label."))
        if not str(question["name"]).isidentifier():
            raise ValidationError(_("Question name %(name)s must be an identifier."), params={"name": question["name"]})
        if question["name"] in names:
            raise ValidationError(_("Question names must be unique."))
        names.add(question["name"])
        if len(str(question["label"])) > MAX_PRECHAT_LABEL:
            raise ValidationError(_("A question is at most %(n)s characters."), params={"n": MAX_PRECHAT_LABEL})
        if question.get("type", PrechatFieldType.SINGLE_LINE) not in PrechatFieldType.values:
            raise ValidationError(_("Unknown question type %(type)s."), params={"type": question.get("type")})
        if question.get("type") == PrechatFieldType.OPTION_SET and not question.get("options"):
            raise ValidationError(_("An option-set question needs options."))


class OperatingHours(models.Model):
    """Weekly opening hours in their own time zone; voice channels use them to open or close the IVR."""

    name = models.CharField(_("name"), max_length=100)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    weekdays = ArrayField(
        models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)]), default=list, blank=True,
        help_text=_("Open days, 0 = Monday … 6 = Sunday."),
    )
    opens_at = models.TimeField(_("opens at"), default=time(8, 0))
    closes_at = models.TimeField(_("closes at"), default=time(18, 0))

    class Meta:
        verbose_name_plural = _("operating hours")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError({"time_zone": _("Unknown time zone.")}) from exc
        if self.opens_at >= self.closes_at:
            raise ValidationError({"closes_at": _("Closing time must be after opening time.")})

    def is_open(self, at: datetime | None = None) -> bool:
        local = (at or timezone.now()).astimezone(zoneinfo.ZoneInfo(self.time_zone))
        return local.weekday() in self.weekdays and self.opens_at <= local.time() < self.closes_at


class WebChatChannel(models.Model):
    """A chat widget embedded on a customer-facing site with ``<script data-channel="<public key>">``."""

    name = models.CharField(_("name"), max_length=100)
    public_key = models.CharField(
        _("public key"), max_length=64, unique=True, default=new_public_key, validators=[key_validator]
    )
    is_active = models.BooleanField(_("active"), default=True)
    title = models.CharField(_("title"), max_length=100, default="Chat with us")
    subtitle = models.CharField(_("subtitle"), max_length=200, blank=True)
    greeting = models.CharField(_("greeting"), max_length=500, default="Hi! How can we help you today?")
    logo_url = models.URLField(_("logo URL"), blank=True, help_text=_("A square image shown in the chat header."))
    primary_colour = models.CharField(
        _("primary colour"), max_length=7, default="#0b5cab", validators=[colour_validator]
    )
    text_colour = models.CharField(_("text colour"), max_length=7, default="#ffffff", validators=[colour_validator])
    position = models.CharField(
        _("position"), max_length=16, choices=WidgetPosition.choices, default=WidgetPosition.BOTTOM_RIGHT
    )
    agent_name_mode = models.CharField(
        _("agent name shown"), max_length=16, choices=AgentNameMode.choices, default=AgentNameMode.FIRST_NAME
    )
    prechat_questions = models.JSONField(
        _("pre-chat questions"), default=default_prechat_questions, blank=True, validators=[validate_prechat_questions],
        help_text=_('List of {"name", "label", "type", "required", "options"}; at most 10.'),
    )
    allowed_origins = ArrayField(
        models.CharField(max_length=200), default=list, blank=True,
        help_text=_("Origins allowed to embed the widget, e.g. https://www.example.com. Empty: this site only."),
    )
    attachments_enabled = models.BooleanField(_("customers may attach files"), default=True)
    max_attachment_bytes = models.PositiveIntegerField(
        _("max attachment size (bytes)"), default=DEFAULT_MAX_ATTACHMENT_BYTES
    )
    blocked_extensions = ArrayField(models.CharField(max_length=16), default=list, blank=True)
    max_message_chars = models.PositiveIntegerField(
        _("max message length"), default=4000, validators=[MinValueValidator(1), MaxValueValidator(20000)]
    )
    visitor_messages_per_minute = models.PositiveIntegerField(_("messages per visitor per minute"), default=20)
    ip_messages_per_minute = models.PositiveIntegerField(_("messages per IP address per minute"), default=60)
    auth_public_key = models.TextField(
        _("sign-in public key (PEM)"), blank=True,
        help_text=_("RSA public key that verifies the RS256 tokens of signed-in customers (authenticated chat)."),
    )
    auth_issuer = models.CharField(_("sign-in token issuer"), max_length=200, blank=True)
    auth_key_id = models.CharField(
        _("sign-in key id"), max_length=100, blank=True, help_text=_("When set, tokens must carry this 'kid'.")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("web chat channel")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.auth_public_key:
            from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
            from cryptography.hazmat.primitives.serialization import load_pem_public_key

            try:
                key = load_pem_public_key(self.auth_public_key.strip().encode())
            except ValueError as exc:
                raise ValidationError({"auth_public_key": _("Paste an RSA public key in PEM format.")}) from exc
            if not isinstance(key, RSAPublicKey):
                raise ValidationError({"auth_public_key": _("Paste an RSA public key in PEM format.")})

    def save(self, *args, **kwargs):
        if not self.pk and not self.blocked_extensions:
            self.blocked_extensions = list(DEFAULT_BLOCKED_EXTENSIONS)
        super().save(*args, **kwargs)


class ChatFeedback(models.Model):
    """The customer's end-of-chat satisfaction answer (CSAT 1–5 and a comment)."""

    conversation = models.OneToOneField("crm.Conversation", on_delete=models.CASCADE, related_name="chat_feedback")
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("chat feedback")
        verbose_name_plural = _("chat feedback")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="channels_feedback_rating_1_to_5",
            )
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}: {self.rating}"


class TwilioAccountMixin(models.Model):
    phone_number = models.CharField(_("phone number"), max_length=16, unique=True, validators=[validate_e164])
    account_sid = models.CharField(_("Twilio account SID"), max_length=64)
    auth_token = models.CharField(
        _("Twilio auth token"), max_length=128, blank=True,
        help_text=_("Verifies X-Twilio-Signature and authenticates REST calls; empty: the TWILIO_AUTH_TOKEN setting."),
    )
    api_base_url = models.URLField(_("API base URL"), default="https://api.twilio.com")
    public_base_url = models.URLField(
        _("public base URL"), blank=True,
        help_text=_("How the provider reaches this server, e.g. https://cc.example.com (for status callbacks)."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True

    @property
    def signing_token(self) -> str:
        return self.auth_token or settings.TWILIO_AUTH_TOKEN


class SmsChannel(TwilioAccountMixin):
    """An SMS number on a Twilio-compatible provider."""

    name = models.CharField(_("name"), max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("SMS channel")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.phone_number})"


class VoiceChannel(TwilioAccountMixin):
    """A phone number answered by an IVR; media stays with the telephony provider."""

    name = models.CharField(_("name"), max_length=100)
    root_menu = models.ForeignKey(
        "IvrMenu", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        help_text=_("The menu a caller hears first."),
    )
    operating_hours = models.ForeignKey(
        OperatingHours, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_message = models.CharField(
        _("message outside operating hours"), max_length=500,
        default="We are closed right now. Please leave a message after the tone and we will call you back.",
    )
    voice = models.CharField(_("voice"), max_length=40, default="alice")
    language = models.CharField(_("language"), max_length=16, default="en-US")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("voice channel")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.phone_number})"


class IvrMenu(models.Model):
    """One menu of an IVR: a spoken prompt and the options a caller may choose."""

    channel = models.ForeignKey(VoiceChannel, on_delete=models.CASCADE, related_name="menus")
    name = models.CharField(_("name"), max_length=100)
    prompt = models.TextField(_("prompt"), help_text=_("Spoken with <Say> before listening for an answer."))
    timeout_seconds = models.PositiveSmallIntegerField(
        _("timeout (seconds)"), default=5, validators=[MaxValueValidator(60)]
    )

    class Meta:
        verbose_name = _("IVR menu")
        ordering = ["channel", "name"]

    def __str__(self) -> str:
        return f"{self.channel.name}: {self.name}"


class IvrOption(models.Model):
    """A choice in an IVR menu, picked by a key press or a spoken keyword."""

    menu = models.ForeignKey(IvrMenu, on_delete=models.CASCADE, related_name="options")
    label = models.CharField(_("label"), max_length=100)
    dtmf = models.CharField(
        _("key"), max_length=4, blank=True, validators=[RegexValidator(r"^[0-9*#]{1,4}$")],
        help_text=_("Digits the caller presses, e.g. 1."),
    )
    speech_keywords = ArrayField(
        models.CharField(max_length=50), default=list, blank=True,
        help_text=_("Words that choose this option when spoken, e.g. order, delivery."),
    )
    action = models.CharField(_("action"), max_length=16, choices=IvrAction.choices)
    queue = models.ForeignKey("routing.Queue", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    skills = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=2)
    answer_text = models.TextField(
        _("answer"), blank=True,
        help_text=_("Spoken for a knowledge answer. Leave empty to answer from the knowledge base: the best "
                    "published external article for what the caller said (or for this option's label)."),
    )
    submenu = models.ForeignKey(IvrMenu, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("IVR option")
        ordering = ["menu", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["menu", "dtmf"], condition=~models.Q(dtmf=""), name="channels_ivr_option_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dtmf or '-'}: {self.label}"

    def clean(self) -> None:
        if not self.dtmf and not self.speech_keywords:
            raise ValidationError(_("An option needs a key or a spoken keyword."))
        if self.action == IvrAction.SUBMENU and not self.submenu_id:
            raise ValidationError({"submenu": _("Choose the submenu to open.")})


class EmailChannel(models.Model):
    """A support mailbox; mail arrives by the raw-MIME webhook and leaves through Django's email backend."""

    name = models.CharField(_("name"), max_length=100)
    address = models.EmailField(_("address"), unique=True)
    inbound_secret = models.CharField(
        _("inbound secret"), max_length=128, default=new_secret,
        help_text=_("Sent by the mail relay as 'Authorization: Bearer <secret>'."),
    )
    case_creation = models.CharField(
        _("create cases"), max_length=16, choices=CaseCreation.choices, default=CaseCreation.NEW_THREAD
    )
    auto_acknowledge = models.BooleanField(_("send an acknowledgement for new threads"), default=True)
    acknowledgement_text = models.TextField(
        _("acknowledgement"), default="Thank you for contacting us. We have received your message and will reply soon.",
    )
    max_message_bytes = models.PositiveIntegerField(_("max message size (bytes)"), default=10 * 1024 * 1024)
    imap_host = models.CharField(
        _("IMAP host"), max_length=253, blank=True, help_text=_("Set to poll this mailbox over IMAP every minute."),
    )
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_use_ssl = models.BooleanField(_("IMAP over TLS"), default=True)
    imap_username = models.CharField(_("IMAP user"), max_length=254, blank=True)
    imap_password = models.CharField(_("IMAP password"), max_length=254, blank=True)
    imap_folder = models.CharField(_("IMAP folder"), max_length=100, default="INBOX")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("email channel")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>"


class CustomChannel(models.Model):
    """An external system (a social network bridge, an in-app chat) speaking the channel API."""

    name = models.CharField(_("name"), max_length=100)
    key = models.CharField(_("key"), max_length=64, unique=True, validators=[key_validator])
    secret = models.CharField(
        _("signing secret"), max_length=128, default=new_secret,
        help_text=_("Signs both directions: X-Signature = HMAC-SHA256(secret, timestamp + '.' + body)."),
    )
    webhook_url = models.URLField(_("webhook URL"), blank=True, help_text=_("Where outbound messages are POSTed."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("custom channel")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OutboundDelivery(models.Model):
    """The outbox: one row per outbound message a provider must deliver, with its retries.

    Created in the transaction that notices the message; a Celery task does
    the provider I/O and records the outcome here and on the message.
    """

    message = models.OneToOneField("crm.Message", on_delete=models.CASCADE, related_name="delivery")
    channel_kind = models.CharField(_("channel"), max_length=16)
    channel_ref = models.CharField(_("channel endpoint"), max_length=100, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=255, blank=True, db_index=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("outbound delivery")
        verbose_name_plural = _("outbound deliveries")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.channel_kind} message {self.message_id}: {self.state}"


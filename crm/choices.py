from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    WEBCHAT = "webchat", _("Web chat")
    SMS = "sms", _("SMS")
    VOICE = "voice", _("Voice")
    EMAIL = "email", _("Email")
    CUSTOM = "custom", _("Custom API")

    @classmethod
    def asynchronous(cls) -> frozenset[str]:
        """Channels where a customer may come back hours later to the same thread."""
        return frozenset({cls.SMS, cls.EMAIL, cls.CUSTOM})


class AccountTier(models.TextChoices):
    STANDARD = "standard", _("Standard")
    SILVER = "silver", _("Silver")
    GOLD = "gold", _("Gold")
    PLATINUM = "platinum", _("Platinum")


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    ON_HOLD = "on_hold", _("On hold")
    RESOLVED = "resolved", _("Resolved")
    CANCELLED = "cancelled", _("Cancelled")

    @classmethod
    def closed(cls) -> frozenset[str]:
        return frozenset({cls.RESOLVED, cls.CANCELLED})


class CasePriority(models.IntegerChoices):
    HIGH = 1, _("High")
    NORMAL = 2, _("Normal")
    LOW = 3, _("Low")


class CaseSeverity(models.IntegerChoices):
    CRITICAL = 1, _("Critical")
    MAJOR = 2, _("Major")
    MINOR = 3, _("Minor")


class ConversationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WAITING = "waiting", _("Waiting")
    ACTIVE = "active", _("Active")
    WRAP_UP = "wrap_up", _("Wrap-up")
    CLOSED = "closed", _("Closed")


class MessageDirection(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")
    INTERNAL = "internal", _("Internal")


class SenderKind(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")
    BOT = "bot", _("Bot")
    SUPERVISOR = "supervisor", _("Supervisor")
    SYSTEM = "system", _("System")


class DeliveryStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")


class ActivityKind(models.TextChoices):
    TASK = "task", _("Task")
    PHONE_CALL = "phone_call", _("Phone call")
    EMAIL = "email", _("Email")
    APPOINTMENT = "appointment", _("Appointment")


class ActivityStatus(models.TextChoices):
    OPEN = "open", _("Open")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class TimelineKind(models.TextChoices):
    CONVERSATION_STARTED = "conversation.started", _("Conversation started")
    CONVERSATION_CLOSED = "conversation.closed", _("Conversation closed")
    MESSAGE = "message", _("Message")
    NOTE = "note", _("Note")
    CASE_OPENED = "case.opened", _("Case opened")
    CASE_CHANGED = "case.changed", _("Case changed")
    CASE_RESOLVED = "case.resolved", _("Case resolved")
    ACTIVITY = "activity", _("Activity")
    AI_OUTPUT = "ai.output", _("AI output")


class NotificationKind(models.TextChoices):
    MENTION = "mention", _("Mention")
    SWARM_INVITE = "swarm_invite", _("Swarm invitation")


class CaseView(models.TextChoices):
    """The built-in case list views every user has."""

    MINE = "mine", _("My cases")
    TEAM = "team", _("My team's cases")
    UNASSIGNED = "unassigned", _("Unassigned")
    BREACHING = "breaching", _("Breaching SLA")
    ALL = "all", _("All open cases")

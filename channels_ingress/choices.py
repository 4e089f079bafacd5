from django.db import models
from django.utils.translation import gettext_lazy as _


class PrechatFieldType(models.TextChoices):
    SINGLE_LINE = "single_line", _("Single line")
    MULTI_LINE = "multi_line", _("Multi-line")
    OPTION_SET = "option_set", _("Option set")
    CONSENT = "consent", _("Consent")


class AgentNameMode(models.TextChoices):
    FULL_NAME = "full_name", _("Full name")
    FIRST_NAME = "first_name", _("First name")
    GENERIC = "generic", _("Generic (\"Support\")")


class WidgetPosition(models.TextChoices):
    BOTTOM_RIGHT = "bottom-right", _("Bottom right")
    BOTTOM_LEFT = "bottom-left", _("Bottom left")


class IvrAction(models.TextChoices):
    QUEUE = "queue", _("Route to a queue")
    KNOWLEDGE = "knowledge", _("Speak a knowledge answer")
    SUBMENU = "submenu", _("Open a submenu")
    VOICEMAIL = "voicemail", _("Record a voicemail")
    CALLBACK = "callback", _("Request a callback")


class CaseCreation(models.TextChoices):
    NEVER = "never", _("Never")
    NEW_THREAD = "new_thread", _("For every new thread")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")

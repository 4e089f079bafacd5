from django.db import models
from django.utils.translation import gettext_lazy as _


class QueueKind(models.TextChoices):
    MESSAGING = "messaging", _("Messaging")
    VOICE = "voice", _("Voice")
    RECORD = "record", _("Record")

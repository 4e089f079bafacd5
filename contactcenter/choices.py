from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiScope(models.TextChoices):
    READ = "read", _("Read")
    WRITE = "write", _("Write")


class Role(models.TextChoices):
    """The three groups created by migration; the value is the group's name."""

    AGENT = "Agents", _("Agents")
    SUPERVISOR = "Supervisors", _("Supervisors")
    ADMINISTRATOR = "Administrators", _("Administrators")

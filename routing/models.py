from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from routing.choices import QueueKind


class Queue(models.Model):
    """A queue of work waiting for agents; its members are the agents who may take it.

    The routing issue grows this into the full model (assignment method,
    operating hours, overflow); conversations and cases already point here.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=QueueKind.choices, default=QueueKind.MESSAGING)
    priority = models.PositiveIntegerField(
        _("priority"), default=10, help_text=_("A smaller number is served first.")
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="queues")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["priority", "name"]

    def __str__(self) -> str:
        return self.name

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = _("Routing")

    def ready(self):
        # Offer dialogs, presence and load over the agent socket (see routing.live).
        from routing import live  # noqa: F401

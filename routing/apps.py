from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = _("Routing")

    def ready(self):
        # Offer dialogs, presence and load over the agent socket (routing.live); presence at sign-in/out (routing.auth).
        from routing import auth, live  # noqa: F401

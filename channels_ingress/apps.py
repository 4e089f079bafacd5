from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsIngressConfig(AppConfig):
    name = "channels_ingress"
    verbose_name = _("Channels")

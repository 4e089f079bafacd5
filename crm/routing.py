from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from crm.consumers import AgentConsumer

websocket_urlpatterns = [
    path("ws/agent/", AllowedHostsOriginValidator(AgentConsumer.as_asgi())),
]

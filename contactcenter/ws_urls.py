"""Every websocket route of the project; each app contributes its own list."""

from channels_ingress.routing import websocket_urlpatterns as channels_ingress_patterns
from crm.routing import websocket_urlpatterns as crm_patterns

websocket_urlpatterns = [*crm_patterns, *channels_ingress_patterns]

"""Every websocket route of the project; each app contributes its own list."""

from crm.routing import websocket_urlpatterns as crm_patterns

websocket_urlpatterns = [*crm_patterns]

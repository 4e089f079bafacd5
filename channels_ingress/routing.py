from django.urls import path

from channels_ingress.consumers import VisitorConsumer

# The visitor socket checks the Origin header itself, against the channel's
# allowed origins (an embedding site is usually not one of our hosts).
websocket_urlpatterns = [
    path("ws/webchat/<str:public_key>/", VisitorConsumer.as_asgi()),
]

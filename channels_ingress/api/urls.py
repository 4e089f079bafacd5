from django.urls import path

from channels_ingress.api.views import ChannelMessageCreate

urlpatterns = [
    path("<str:key>/messages", ChannelMessageCreate.as_view(), name="channel-message-create"),
]

import pytest

from channels_ingress.models import WebChatChannel

ORIGIN = "http://127.0.0.1:8000"


@pytest.fixture
def webchat_channel(db):
    return WebChatChannel.objects.create(name="Shop chat", public_key="shop-chat-key", agent_name_mode="first_name")

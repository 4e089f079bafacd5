"""A customer chats through the real widget in headless Chromium while an agent answers."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import Client

from channels_ingress.demo import DEMO_WEBCHAT_KEY
from channels_ingress.models import WebChatChannel
from crm import services as crm_services
from crm.models import Conversation, Message

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def outside_the_browser_loop(function, **kwargs):
    """Run a service in a plain thread: Playwright's loop in this thread would stop publish's async_to_sync."""
    from django.db import connection

    def call():
        try:
            return function(**kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


AGENT_SOCKET = """
    url => new Promise((resolve, reject) => {
      window.agentEvents = [];
      const socket = new WebSocket(url);
      socket.onmessage = event => window.agentEvents.push(JSON.parse(event.data));
      socket.onopen = () => resolve(true);
      socket.onerror = () => reject(new Error("agent socket failed"));
    })
"""


def test_visitor_chats_agent_receives_and_replies_and_reload_shows_history(asgi_live_server, browser_page, chromium, agent):
    WebChatChannel.objects.create(name="Demo", public_key=DEMO_WEBCHAT_KEY, title="Northwind Electronics")
    page = browser_page
    page.goto(f"{asgi_live_server}/demo/webchat/")
    page.click(".ccw-bubble")
    page.fill("#ccw-q-name", "Dana Reyes")
    page.fill("#ccw-q-email", "dana@example.com")
    page.click(".ccw-prechat button[type=submit]")
    page.fill(".ccw-input", "Hi, my order 4411 has not arrived")
    page.keyboard.press("Enter")
    page.wait_for_selector(".ccw-msg--mine[data-id]:not(.ccw-pending)")

    message = wait_for(lambda: Message.objects.filter(body="Hi, my order 4411 has not arrived").first())
    conversation = message.conversation
    assert conversation.context["prechat"]["email"] == "dana@example.com"
    # Routing would assign it; here the agent takes it directly.
    Conversation.objects.filter(pk=conversation.pk).update(assigned_agent=agent, status="active")

    staff = Client()
    staff.force_login(agent)
    agent_context = chromium.new_context()
    host = asgi_live_server.removeprefix("http://")
    agent_context.add_cookies([{"name": "sessionid", "value": staff.cookies["sessionid"].value, "domain": "127.0.0.1", "path": "/"}])
    agent_page = agent_context.new_page()
    agent_page.goto(f"{asgi_live_server}/")
    agent_page.evaluate(AGENT_SOCKET, f"ws://{host}/ws/agent/?last_id=0")
    agent_page.wait_for_function(
        "() => window.agentEvents.some(e => e.type === 'message.created' && e.data.message.body.includes('4411'))"
    )

    outside_the_browser_loop(
        crm_services.message_send, conversation=conversation, sender=agent, body="It left our warehouse today."
    )
    reply = page.wait_for_selector(".ccw-msg--theirs:has-text('It left our warehouse today.')")
    assert "Alice" in reply.inner_text()

    page.reload()
    page.click(".ccw-bubble")
    page.wait_for_selector(".ccw-msg--theirs:has-text('It left our warehouse today.')")
    texts = page.locator(".ccw-log .ccw-text").all_inner_texts()
    assert texts == ["Hi, my order 4411 has not arrived", "It left our warehouse today."]
    agent_context.close()

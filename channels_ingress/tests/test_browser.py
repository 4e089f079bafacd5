"""A customer chats through the real widget in headless Chromium while an agent answers."""

import pytest
from django.test import Client

from channels_ingress.demo import DEMO_WEBCHAT_KEY
from channels_ingress.models import WebChatChannel
from contactcenter.testing import outside_the_browser_loop, wait_for
from crm import services as crm_services
from crm.models import Conversation, Message

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]






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


def test_visitor_attaches_a_file_rejected_file_gets_a_message_and_ends_with_a_rating(asgi_live_server, browser_page):
    from channels_ingress.models import ChatFeedback

    WebChatChannel.objects.create(name="Demo", public_key=DEMO_WEBCHAT_KEY, max_attachment_bytes=1024)
    page = browser_page
    page.goto(f"{asgi_live_server}/demo/webchat/")
    page.click(".ccw-bubble")
    page.fill("#ccw-q-name", "Dana Reyes")
    page.fill("#ccw-q-email", "dana@example.com")
    page.fill("#ccw-q-question", "Here is my receipt")
    page.click(".ccw-prechat button[type=submit]")
    page.wait_for_selector(".ccw-msg--mine[data-id]:not(.ccw-pending)")

    page.set_input_files(".ccw-file", {"name": "setup.exe", "mimeType": "application/octet-stream", "buffer": b"MZ"})
    page.wait_for_selector(".ccw-status:has-text('Files of type .exe cannot be sent.')")
    page.set_input_files(".ccw-file", {"name": "big.pdf", "mimeType": "application/pdf", "buffer": b"x" * 2048})
    page.wait_for_selector(".ccw-status:has-text('larger than')")
    page.set_input_files(".ccw-file", {"name": "receipt.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4"})
    page.wait_for_selector(".ccw-chip:has-text('receipt.pdf')")
    page.click(".ccw-composer .ccw-send")
    link = page.wait_for_selector(".ccw-msg--mine a.ccw-file-link[href*='/webchat/attachments/']")
    assert link.inner_text() == "receipt.pdf"
    assert "/webchat/attachments/" in link.get_attribute("href")
    stored = wait_for(lambda: Message.objects.filter(attachments__0__name="receipt.pdf").first())
    assert stored.attachments[0]["size"] == 8

    page.click(".ccw-end")
    page.click("label[for=ccw-rate-5]")
    page.fill(".ccw-csat textarea", "Very helpful")
    page.click(".ccw-csat button[type=submit]")
    page.wait_for_selector(".ccw-thanks:not([hidden])")
    feedback = wait_for(lambda: ChatFeedback.objects.first())
    assert (feedback.rating, feedback.comment) == (5, "Very helpful")
    assert feedback.conversation.status == "closed"
    with page.expect_download() as download_info:
        page.click(".ccw-transcript")
    download = download_info.value
    assert download.suggested_filename == "chat-transcript.txt"
    with open(download.path(), encoding="utf-8") as transcript:
        assert "You: Here is my receipt" in transcript.read()


SIGNED_IN_PAGE = """<!doctype html><html><head><title>Shop account</title></head><body>
<h1>My account</h1>
<script>window.shopChatToken = function () { return Promise.resolve(%(token)s); };</script>
<script src="/static/channels_ingress/widget.js" data-channel="shop-auth-key" data-auth-callback="shopChatToken"></script>
</body></html>"""


def test_signed_in_customer_skips_the_survey_and_finds_the_chat_on_another_device(asgi_live_server, chromium):
    import json

    from channels_ingress.tests.test_webchat_auth import ISSUER, PUBLIC_PEM, token

    WebChatChannel.objects.create(name="Shop", public_key="shop-auth-key", auth_public_key=PUBLIC_PEM, auth_issuer=ISSUER)
    html = SIGNED_IN_PAGE % {"token": json.dumps(token(kid=None))}

    def open_account_page():
        context = chromium.new_context()
        page = context.new_page()
        page.set_default_timeout(10_000)
        # The customer's own page, in our origin (Chromium blocks pages of unknown
        # origin from reaching a loopback server).
        page.goto(f"{asgi_live_server}/login/")
        page.set_content(html)
        page.click(".ccw-bubble")
        return context, page

    laptop, page = open_account_page()
    page.wait_for_selector(".ccw-root[data-view=chat]")
    assert page.locator(".ccw-prechat").is_hidden()
    page.fill(".ccw-input", "Can I change my delivery address?")
    page.keyboard.press("Enter")
    page.wait_for_selector(".ccw-msg--mine[data-id]:not(.ccw-pending)")
    message = wait_for(lambda: Message.objects.filter(body="Can I change my delivery address?").first())
    assert message.conversation.context["authenticated"]["sub"] == "customer-881"
    assert message.conversation.contact.email == "kim@example.com"
    laptop.close()

    phone, page = open_account_page()
    page.wait_for_selector(".ccw-msg--mine:has-text('Can I change my delivery address?')")
    phone.close()

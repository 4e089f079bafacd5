"""The routed agent workspace in headless Chromium (Debian's), served by daphne (``asgi_live_server``).

A visitor chats through the real widget; the agent goes Available, gets the
offer as a live dialog, accepts, answers; transfers carry the conversation;
wrap-up frees capacity. Screenshots land in ``screenshots/`` (git-ignored).
"""

from __future__ import annotations


import pytest
from django.test import Client

from channels_ingress.demo import DEMO_WEBCHAT_KEY
from channels_ingress.models import WebChatChannel
from contactcenter.testing import outside_the_browser_loop, screenshot
from crm.choices import ConversationStatus, MessageDirection
from crm.models import Conversation, DispositionCode, Message, WrapUpPolicy
from routing import services
from routing.choices import BasePresence, WorkItemStatus
from routing.models import WorkItem
from routing.services.presence import presence_builtin
from routing.tests import factories as f

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]








def signed_in_page(chromium, base_url: str, user):
    """A page of a new browser context with ``user``'s session cookie, at the workspace."""
    client = Client()
    client.force_login(user)
    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "domain": "127.0.0.1", "path": "/"}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{base_url}/")
    page.wait_for_selector("#agent-bar")
    return page


def builtin_presences() -> None:
    # Re-created on demand if a database flush removed the migration's rows.
    for base in BasePresence.values:
        presence_builtin(base)


def routed_to(*agents):
    builtin_presences()
    queue = f.queue("Audio support", members=list(agents))
    f.stream(fallback=queue)
    return queue


def assigned_chat(agent, *, body: str, first: str = "Dana"):
    conversation = f.inbound(body, contact_defaults={"first_name": first, "last_name": "Reyes"},
                             context={"pre_chat": {"Order number": "NW-48213"}})
    item = services.conversation_enqueue(conversation=conversation)
    if item.status == WorkItemStatus.OFFERED:
        services.offer_accept(workitem=item, agent=item.agent)
    item.refresh_from_db()
    assert item.agent == agent and item.status == WorkItemStatus.ASSIGNED
    return item


def test_agent_goes_available_gets_the_offer_accepts_replies_and_notes_stay_internal(
    asgi_live_server, browser_page, chromium, agent
):
    WebChatChannel.objects.create(name="Demo", public_key=DEMO_WEBCHAT_KEY, title="Northwind Electronics")
    routed_to(agent)

    # The agent signs in and sets Available.
    page = chromium.new_context(viewport={"width": 1280, "height": 720}).new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{asgi_live_server}/login/")
    page.fill("#id_username", "agent.a")
    page.fill("#id_password", "pw-agent.a")
    page.click("button[type=submit]")
    page.wait_for_selector("#agent-bar")
    page.select_option("#presence-select", label="Available")
    page.wait_for_selector('#presence-select[data-presence="Available"]')
    assert f.profile_of(agent).presence.base == BasePresence.AVAILABLE

    # A visitor starts a chat in the widget.
    visitor = browser_page
    visitor.goto(f"{asgi_live_server}/demo/webchat/")
    visitor.click(".ccw-bubble")
    visitor.fill("#ccw-q-name", "Dana Reyes")
    visitor.fill("#ccw-q-email", "dana@example.com")
    visitor.click(".ccw-prechat button[type=submit]")
    visitor.fill(".ccw-input", "My Pulse Buds will not pair with my phone")
    visitor.keyboard.press("Enter")
    visitor.wait_for_selector(".ccw-msg--mine[data-id]:not(.ccw-pending)")

    # The offer pops up live, with customer, channel, queue and a countdown.
    offer = page.wait_for_selector(".offer[role=alertdialog]:has-text('Dana Reyes')")
    text = offer.inner_text()
    assert "Audio support" in text and "Web chat" in text and "Expires in" in text
    screenshot(page, "workspace-offer")
    item = WorkItem.objects.get(status=WorkItemStatus.OFFERED, agent=agent)
    offer.query_selector("button.btn-primary").click()

    # Accepting opens the conversation as a session tab; the agent answers.
    composer = page.locator(f"#composer-{item.conversation_id}")
    composer.wait_for()
    assert page.locator(f"#transcript-{item.conversation_id}").inner_text().count("Pulse Buds") == 1
    page.wait_for_selector(f"#offer-{item.pk}", state="detached")
    composer.fill("Hi Dana, let's reset the buds: hold both for 10 seconds.")
    composer.press("Enter")
    page.locator(f"#transcript-{item.conversation_id} .msg-agent", has_text="reset the buds").wait_for()
    visitor.wait_for_selector(".ccw-msg--theirs:has-text('reset the buds')")

    # An internal note stays in the workspace; the next reply does reach the visitor.
    page.check(f"#internal-{item.conversation_id}")
    composer.fill("Second case this week with Pulse Buds firmware 1.2")
    composer.press("Enter")
    page.locator(f"#transcript-{item.conversation_id} .msg-internal", has_text="firmware 1.2").wait_for()
    composer.fill("Did that help?")
    composer.press("Enter")
    visitor.wait_for_selector(".ccw-msg--theirs:has-text('Did that help?')")
    assert "firmware 1.2" not in visitor.locator(".ccw-log").inner_text()
    assert Message.objects.get(body__contains="firmware 1.2").direction == MessageDirection.INTERNAL
    item.refresh_from_db()
    assert item.status == WorkItemStatus.ASSIGNED and f.profile_of(agent).used_units == 1
    page.wait_for_selector("#agent-load:has-text('1/')")
    screenshot(page, "workspace-accepted-session")
    page.context.close()


def test_transfer_to_a_second_agent_carries_the_conversation_and_its_context(
    asgi_live_server, chromium, agent, other_agent
):
    routed_to(agent, other_agent)
    outside_the_browser_loop(services.presence_set, agent=other_agent, presence="away")
    outside_the_browser_loop(services.presence_set, agent=agent, presence="available")
    item = outside_the_browser_loop(assigned_chat, agent=agent, body="The soundbar has no sound over HDMI")
    conversation_id = item.conversation_id
    outside_the_browser_loop(services.presence_set, agent=other_agent, presence="available")

    bob = signed_in_page(chromium, asgi_live_server, other_agent)
    alice = signed_in_page(chromium, asgi_live_server, agent)
    alice.click(f"#work-{conversation_id}")
    alice.locator(f"#routing-actions-{conversation_id} summary", has_text="Transfer").click()
    alice.select_option(f"#transfer-agent-{conversation_id}", value=str(other_agent.pk))
    alice.fill(f"#transfer-note-{conversation_id}", "Tried ARC off already; customer prefers a callback")
    alice.click(f"#routing-actions-{conversation_id} form[hx-post$='/transfer/'] button[type=submit]")
    alice.wait_for_selector(f"#session-{conversation_id}.session-transferred")

    # Bob's My work updates live; the session has the transcript, the note and the pre-chat context.
    bob.click(f"#work-{conversation_id}")
    transcript = bob.locator(f"#transcript-{conversation_id}")
    transcript.wait_for()
    assert "no sound over HDMI" in transcript.inner_text()
    assert "customer prefers a callback" in transcript.inner_text()
    assert "NW-48213" in bob.locator(f"#session-{conversation_id} .session-side").inner_text()
    screenshot(bob, "workspace-transferred")
    assert Conversation.objects.get(pk=conversation_id).assigned_agent == other_agent
    assert (f.profile_of(agent).used_units, f.profile_of(other_agent).used_units) == (0, 1)
    alice.context.close()
    bob.context.close()


def test_wrap_up_with_a_disposition_code_closes_and_frees_capacity(asgi_live_server, chromium, agent):
    routed_to(agent)
    WrapUpPolicy.objects.create(disposition_required=True, max_dispositions=1)
    code = DispositionCode.objects.create(code="fixed", label="Fixed on first contact", category="Outcome")
    outside_the_browser_loop(services.presence_set, agent=agent, presence="available")
    item = outside_the_browser_loop(assigned_chat, agent=agent, body="Remote does not turn the TV on")
    conversation_id = item.conversation_id

    page = signed_in_page(chromium, asgi_live_server, agent)
    page.wait_for_selector("#agent-load:has-text('1/')")
    page.click(f"#work-{conversation_id}")
    page.locator(f"#routing-actions-{conversation_id} button", has_text="End").click()
    page.wait_for_selector(f"#session-{conversation_id}[data-status=wrap_up]")
    assert f.profile_of(agent).used_units == 1  # held during wrap-up
    page.check(f"#wrapup-{conversation_id} input[value='{code.pk}']")
    page.fill(f"#wrapup-notes-{conversation_id}", "Replaced the batteries")
    page.click(f"#wrapup-{conversation_id} button[type=submit]")
    page.wait_for_selector(f"#session-{conversation_id}[data-status=closed]")
    page.wait_for_selector("#agent-load:has-text('0/')")
    screenshot(page, "workspace-wrapped-up")

    conversation = Conversation.objects.get(pk=conversation_id)
    assert conversation.status == ConversationStatus.CLOSED
    assert list(conversation.disposition_codes.values_list("code", flat=True)) == ["fixed"]
    item.refresh_from_db()
    assert item.status == WorkItemStatus.COMPLETED and f.profile_of(agent).used_units == 0
    page.context.close()

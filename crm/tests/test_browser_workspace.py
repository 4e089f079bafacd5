"""The agent workspace in headless Chromium (Debian's), served by daphne in a child process.

Screenshots of the main screens land in ``screenshots/`` (git-ignored).
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from asgiref.sync import SyncToAsync
from channels.layers import channel_layers
from daphne.testing import DaphneProcess
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.db import connections
from playwright.sync_api import expect

from contactcenter.testing import outside_the_browser_loop, screenshot
from crm import services
from crm.choices import ChannelKind, ConversationStatus, MessageDirection
from crm.models import Conversation, DispositionCode, Message, WrapUpPolicy

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make browser)"),
]


def _application():
    from channels.routing import get_default_application

    return ASGIStaticFilesHandler(get_default_application())


def _child_setup():
    # A forked child inherits asgiref's thread-sensitive executor without its
    # worker thread (it lives in the parent, if Channels tests ran first there);
    # database_sync_to_async calls in consumers would wait on it forever.
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)


@pytest.fixture
def live_server_url(transactional_db):
    # The child inherits settings already pointing at the test database; it
    # must open its own connections rather than share the parent's sockets.
    connections.close_all()
    # Nor may it inherit a channel layer made earlier in this process (by
    # Channels tests, on an event loop that is gone): both sides start fresh.
    channel_layers.backends = {}
    server = DaphneProcess("localhost", _application, setup=_child_setup)
    server.start()
    if not server.ready.wait(timeout=30):
        server.terminate()
        pytest.fail("daphne did not start")
    yield f"http://localhost:{server.port.value}"
    server.terminate()
    server.join(timeout=10)


@pytest.fixture
def browser(monkeypatch):
    """Opens pages in Chromium, started on first use so test data is written (and published) before."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own
    # ORM calls are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    started = {}

    def new_page(**options):
        if not started:
            started["playwright"] = sync_playwright().start()
            started["chromium"] = started["playwright"].chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        return started["chromium"].new_page(viewport={"width": 1280, "height": 720}, **options)

    yield new_page
    if started:
        started["chromium"].close()
        started["playwright"].stop()


def sign_in(page, base_url: str, username: str = "agent.a", password: str = "pw-agent.a") -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("#main")


def assigned_conversation(agent, *, address: str, first: str, body: str) -> Conversation:
    result = services.message_ingest(
        channel_kind=ChannelKind.WEBCHAT,
        address=address,
        body=body,
        contact_defaults={"first_name": first, "last_name": "Customer"},
        context={"pre_chat": {"Order number": "NW-48213"}},
    )
    Conversation.objects.filter(pk=result.conversation.pk).update(
        assigned_agent=agent, status=ConversationStatus.ACTIVE
    )
    return Conversation.objects.get(pk=result.conversation.pk)






def test_agent_works_two_sessions_replies_notes_and_wraps_up(live_server_url, browser, agent):
    WrapUpPolicy.objects.create(disposition_required=True, max_dispositions=2)
    code = DispositionCode.objects.create(code="order-status", label="Order status", category="Topic")
    emma = assigned_conversation(agent, address="visitor-emma", first="Emma", body="Where is my order NW-48213?")
    mia = assigned_conversation(agent, address="visitor-mia", first="Mia", body="My headphones stopped charging")

    page = browser()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, live_server_url)
    page.wait_for_selector(f"#work-{emma.pk}")
    screenshot(page, "workspace-home")

    # Open Emma's conversation as a tab and reply with Enter.
    page.click(f"#work-{emma.pk}")
    composer = page.locator(f"#composer-{emma.pk}")
    composer.wait_for()
    composer.fill("Hi Emma, let me check NW-48213 with the carrier.")
    composer.press("Enter")
    reply = page.locator(f"#transcript-{emma.pk} .msg-agent", has_text="let me check NW-48213")
    reply.wait_for()
    assert Message.objects.filter(conversation=emma, direction=MessageDirection.OUTBOUND).count() == 1
    assert composer.input_value() == ""

    # An internal note is styled apart from replies.
    page.check(f"#internal-{emma.pk}")
    composer.fill("Carrier says the label is damaged.")
    composer.press("Enter")
    note = page.locator(f"#transcript-{emma.pk} .msg-internal", has_text="label is damaged")
    note.wait_for()
    assert "Internal note" in note.inner_text()
    note_style = note.evaluate("el => getComputedStyle(el).borderStyle + ' ' + getComputedStyle(el).backgroundColor")
    reply_style = reply.evaluate("el => getComputedStyle(el).borderStyle + ' ' + getComputedStyle(el).backgroundColor")
    assert note_style != reply_style and "dashed" in note_style
    assert Message.objects.get(body="Carrier says the label is damaged.").direction == MessageDirection.INTERNAL

    # A customer message arrives live over the agent socket.
    outside_the_browser_loop(
        services.message_ingest,
        channel_kind=ChannelKind.WEBCHAT,
        address="visitor-emma",
        body="Thanks, I need it by Monday",
    )
    page.locator(f"#transcript-{emma.pk} .msg-customer", has_text="by Monday").wait_for(timeout=10_000)
    # The open session marks it read, so My work shows no unread count for it.
    latest = Message.objects.filter(conversation=emma).latest("id").pk
    page.wait_for_function(
        "id => { const b = document.getElementById('unread-' + id); return !b || b.hidden; }", arg=emma.pk
    )
    for _ in range(50):
        if Conversation.objects.get(pk=emma.pk).agent_read_up_to >= latest:
            break
        page.wait_for_timeout(100)
    assert Conversation.objects.get(pk=emma.pk).agent_read_up_to >= latest
    screenshot(page, "workspace-session")

    # A second session keeps its draft while switching tabs, and across a reload.
    page.click(f"#work-{mia.pk}")
    mia_composer = page.locator(f"#composer-{mia.pk}")
    mia_composer.wait_for()
    mia_composer.fill("Please hold the power button for 10 seconds")
    page.click(f"#tab-{emma.pk}")
    assert not mia_composer.is_visible()
    page.click(f"#tab-{mia.pk}")
    assert mia_composer.input_value() == "Please hold the power button for 10 seconds"
    page.reload()
    # The reopened session's draft is restored as soon as its panel has loaded.
    expect(page.locator(f"#composer-{mia.pk}")).to_have_value("Please hold the power button for 10 seconds")
    assert page.locator(f"#tab-{emma.pk}").count() == 1

    # End Emma's conversation, then wrap up: the code is required.
    page.click(f"#tab-{emma.pk}")
    page.click(f"#session-{emma.pk} button:has-text('End')")
    page.locator(f"#session-{emma.pk}[data-status='wrap_up']").wait_for()
    page.click(f"#wrapup-{emma.pk} button[type=submit]")
    page.locator(f"#wrapup-{emma.pk} .form-error").wait_for()
    page.check(f"#wrapup-{emma.pk} input[value='{code.pk}']")
    page.fill(f"#wrapup-notes-{emma.pk}", "Carrier re-labelled the parcel")
    screenshot(page, "workspace-wrap-up")
    page.click(f"#wrapup-{emma.pk} button[type=submit]")
    page.locator(f"#session-{emma.pk}[data-status='closed']").wait_for()

    emma.refresh_from_db()
    assert emma.status == ConversationStatus.CLOSED
    assert list(emma.disposition_codes.values_list("code", flat=True)) == ["order-status"]
    assert emma.wrap_up_notes == "Carrier re-labelled the parcel"
    # My work no longer lists it; Mia's draft is still there.
    page.locator(f"#work-{emma.pk}").wait_for(state="detached")
    page.click(f"#tab-{mia.pk}")
    assert page.locator(f"#composer-{mia.pk}").input_value() == "Please hold the power button for 10 seconds"


def test_quick_reply_fills_placeholders(live_server_url, browser, agent):
    from crm.models import CannedResponse

    CannedResponse.objects.create(
        slug="greeting", title="Greeting", body="Hi {customerFirstName}, I'm {agentFirstName}!"
    )
    emma = assigned_conversation(agent, address="visitor-emma", first="Emma", body="Hello?")

    page = browser()
    sign_in(page, live_server_url)
    page.goto(f"{live_server_url}/conversations/{emma.pk}/")
    composer = page.locator(f"#composer-{emma.pk}")
    composer.wait_for()
    composer.focus()
    page.keyboard.type("/greet")
    page.locator(f"#quick-replies-{emma.pk} [role=option]", has_text="/greeting").wait_for()
    screenshot(page, "workspace-quick-replies")
    composer.press("Enter")
    assert composer.input_value() == "Hi Emma, I'm Alice!"
    composer.press("Enter")
    page.locator(f"#transcript-{emma.pk} .msg-agent", has_text="Hi Emma, I'm Alice!").wait_for()


def test_case_pages_render(live_server_url, browser, agent, supervisor):
    from crm.tests.factories import ContactFactory

    case = services.case_create(
        contact=ContactFactory(first_name="Noah"), subject="Monitor buzzing", actor=supervisor, owner=agent
    )
    page = browser()
    sign_in(page, live_server_url)
    page.goto(f"{live_server_url}/cases/")
    page.locator("table.cases", has_text=case.number).wait_for()
    screenshot(page, "cases-list")
    page.click(f"text={case.number}")
    page.fill("#note-body", "Asked for a video of the buzz")
    page.click("#case-notes button[type=submit]")
    page.locator("#case-notes", has_text="Asked for a video of the buzz").wait_for()
    screenshot(page, "case-detail")

    # A refused edit (422) still shows its errors in place.
    page.click("#case-details summary")
    page.fill("#case-details input[name=subject]", "")
    # Skip the browser's own check so the server's refusal is what is shown.
    page.eval_on_selector("#case-details input[name=subject]", "el => el.removeAttribute('required')")
    page.click("#case-details button[type=submit]")
    page.locator("#case-details .field-error").wait_for()

    # A colleague's @mention reaches the bell live.
    page.wait_for_timeout(500)  # let the socket connect
    outside_the_browser_loop(
        services.discussion_post, case=case, author=supervisor, body="@agent.a could you call Noah today?"
    )
    page.locator("#notification-count", has_text="1").wait_for(timeout=10_000)
    page.click("#notification-bell button")
    page.locator("#notification-panel", has_text="could you call Noah").wait_for()
    screenshot(page, "notifications")

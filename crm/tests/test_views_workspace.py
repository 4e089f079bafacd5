"""The agent workspace pages and their htmx endpoints, as each role sees them."""

import pytest
from django.test import Client
from django.urls import reverse

from crm import services
from crm.choices import ChannelKind, ConversationStatus, DeliveryStatus, MessageDirection
from crm.models import CannedResponse, Conversation, DispositionCode, WrapUpPolicy

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def conversation_for(agent, *, address="visitor-1", body="Where is my order NW-48213?", **contact):
    result = services.message_ingest(
        channel_kind=ChannelKind.WEBCHAT,
        address=address,
        body=body,
        contact_defaults={"first_name": "Emma", "last_name": "Wilson", **contact},
        context={"pre_chat": {"Order number": "NW-48213"}, "visitor": {"browser": "Firefox 133"}},
    )
    Conversation.objects.filter(pk=result.conversation.pk).update(
        assigned_agent=agent, status=ConversationStatus.ACTIVE
    )
    result.conversation.refresh_from_db()
    return result.conversation


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def mine(agent):
    return conversation_for(agent)


@pytest.fixture
def theirs(other_agent):
    return conversation_for(other_agent, address="visitor-2", body="Bob's customer")


class TestAccess:
    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get("/")
        assert response.status_code == 302 and response.url.startswith(reverse("login"))

    @pytest.mark.parametrize("url", ["/", "/cases/", "/notifications/", "/workspace/worklist/"])
    def test_signed_in_user_without_role_is_refused(self, client, outsider, url):
        client.force_login(outsider)
        assert client.get(url).status_code == 403

    def test_outsider_cannot_open_any_conversation(self, client, outsider, mine):
        client.force_login(outsider)
        assert client.get(f"/conversations/{mine.pk}/", **HTMX).status_code == 403

    @pytest.mark.parametrize(
        "method, suffix, data",
        [
            ("get", "", {}),
            ("get", "quick-replies/?q=hi", {}),
            ("post", "messages/", {"body": "hello"}),
            ("post", "read/", {}),
            ("post", "case/", {"subject": "x", "priority": 2}),
            ("post", "case/link/", {"case": 1}),
        ],
    )
    @pytest.mark.parametrize("htmx", [False, True])
    def test_agent_cannot_reach_another_agents_conversation(self, agent_client, theirs, method, suffix, data, htmx):
        url = f"/conversations/{theirs.pk}/{suffix}"
        response = getattr(agent_client, method)(url, data, **(HTMX if htmx else {}))

        assert response.status_code == 404
        theirs.refresh_from_db()
        assert theirs.status == ConversationStatus.ACTIVE and theirs.messages.count() == 1

    def test_supervisor_opens_any_conversation(self, client, supervisor, theirs):
        client.force_login(supervisor)
        response = client.get(f"/conversations/{theirs.pk}/", **HTMX)
        assert response.status_code == 200 and b"Bob&#x27;s customer" in response.content

    def test_posts_need_the_csrf_token(self, agent, mine):
        client = Client(enforce_csrf_checks=True)
        client.force_login(agent)
        assert client.post(f"/conversations/{mine.pk}/messages/", {"body": "hi"}, **HTMX).status_code == 403
        assert mine.messages.count() == 1


class TestWorkspacePage:
    def test_my_work_lists_my_conversations_with_preview_and_unread_count(self, agent_client, mine, theirs):
        services.message_ingest(channel_kind=ChannelKind.WEBCHAT, address="visitor-1", body="Any news?")

        response = agent_client.get("/")

        html = response.content.decode()
        assert response.status_code == 200
        assert f'id="work-{mine.pk}"' in html and f'id="work-{theirs.pk}"' not in html
        assert "Any news?" in html
        assert f'<span class="unread" id="unread-{mine.pk}" title="Unread messages">2</span>' in html
        assert 'ws-connect="/ws/agent/?format=html"' in html

    def test_home_lists_my_open_cases(self, agent_client, agent, mine):
        case = services.case_open_from_conversation(conversation=mine, actor=agent, subject="Late laptop")
        assert case.number in agent_client.get("/").content.decode()

    def test_worklist_query_count_does_not_grow_with_the_list(self, agent_client, agent, django_assert_max_num_queries):
        for n in range(3):
            conversation_for(agent, address=f"few-{n}")
        # 12 for crm's own panes, 5 for routing's (presence and load, offers, consults, open work items).
        with django_assert_max_num_queries(17) as few:
            agent_client.get("/")
        for n in range(40):
            conversation_for(agent, address=f"many-{n}")
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = agent_client.get("/")
        assert response.content.decode().count('class="work-item') == 43

    def test_full_page_of_a_conversation_opens_it_as_a_tab(self, agent_client, mine):
        html = agent_client.get(f"/conversations/{mine.pk}/").content.decode()
        assert f'id="panel-{mine.pk}"' in html and f'id="transcript-{mine.pk}"' in html and 'id="panel-home"' in html

    def test_session_fragment_shows_transcript_context_and_marks_read(self, agent_client, mine):
        response = agent_client.get(f"/conversations/{mine.pk}/", **HTMX)

        html = response.content.decode()
        assert html.startswith(f'<div class="session" id="session-{mine.pk}"')
        assert "Where is my order NW-48213?" in html
        assert "Order number" in html and "Firefox 133" in html
        mine.refresh_from_db()
        assert mine.agent_read_up_to == mine.messages.last().pk


class TestComposer:
    def test_reply_is_stored_and_answered_with_the_socket_fragment(self, agent_client, mine):
        response = agent_client.post(
            f"/conversations/{mine.pk}/messages/", {"body": "Checking with the carrier now."}, **HTMX
        )

        message = mine.messages.last()
        assert response.status_code == 200
        assert message.direction == MessageDirection.OUTBOUND and message.delivery_status == DeliveryStatus.QUEUED
        html = response.content.decode()
        assert f'hx-swap-oob="beforeend:#transcript-{mine.pk}"' in html
        assert f'id="message-{message.pk}"' in html and "msg-agent" in html

    def test_internal_note_is_internal_and_styled_apart(self, agent_client, mine):
        response = agent_client.post(
            f"/conversations/{mine.pk}/messages/", {"body": "Depot label damaged", "internal": "1"}, **HTMX
        )

        message = mine.messages.last()
        assert message.direction == MessageDirection.INTERNAL
        assert "msg-internal" in response.content.decode() and "Internal note" in response.content.decode()

    def test_empty_message_is_refused_with_an_error_fragment(self, agent_client, mine):
        response = agent_client.post(f"/conversations/{mine.pk}/messages/", {"body": "   "}, **HTMX)

        assert response.status_code == 422
        assert response["HX-Retarget"] == f"#composer-error-{mine.pk}"
        assert mine.messages.count() == 1

    def test_reply_to_closed_conversation_is_refused(self, agent_client, agent, mine):
        services.conversation_close(conversation=mine, actor=agent)
        response = agent_client.post(f"/conversations/{mine.pk}/messages/", {"body": "hello?"}, **HTMX)
        assert response.status_code == 422 and b"closed" in response.content

    def test_quick_replies_are_searched_and_filled(self, agent_client, agent, other_agent, mine):
        CannedResponse.objects.create(
            slug="greeting", title="Greeting", body="Hi {customerFirstName}, I'm {agentName}.", tags="hello"
        )
        CannedResponse.objects.create(
            owner=other_agent, slug="bobs", title="Bob's greeting", body="Hey from Bob", tags="hello"
        )

        by_word = agent_client.get(f"/conversations/{mine.pk}/quick-replies/?q=greet").content.decode()
        by_tag = agent_client.get(f"/conversations/{mine.pk}/quick-replies/?q=%23hello").content.decode()

        assert 'data-text="Hi Emma, I&#x27;m Alice Agent."' in by_word
        assert "/greeting" in by_tag and "Bob" not in by_tag


class TestWrapUpAndCase:
    def test_end_then_wrap_up_with_disposition_closes(self, agent_client, mine):
        WrapUpPolicy.objects.create(disposition_required=True, max_dispositions=2)
        code = DispositionCode.objects.create(code="order-status", label="Order status")

        ended = agent_client.post(f"/workspace/conversations/{mine.pk}/end/", **HTMX)
        assert ended.status_code == 200 and "worklist-refresh" in ended["HX-Trigger"]
        assert 'data-status="wrap_up"' in ended.content.decode()

        refused = agent_client.post(f"/workspace/conversations/{mine.pk}/wrap-up/", {"notes": "done"}, **HTMX)
        assert refused.status_code == 422 and b"at least one disposition code" in refused.content

        done = agent_client.post(
            f"/workspace/conversations/{mine.pk}/wrap-up/", {"codes": [code.pk], "notes": "Tracking sent"}, **HTMX
        )
        mine.refresh_from_db()
        assert done.status_code == 200 and mine.status == ConversationStatus.CLOSED
        assert list(mine.disposition_codes.all()) == [code]
        assert 'data-status="closed"' in done.content.decode() and "Order status" in done.content.decode()

    def test_create_case_from_conversation(self, agent_client, mine):
        response = agent_client.post(
            f"/conversations/{mine.pk}/case/", {"subject": "Late laptop", "priority": 1}, **HTMX
        )

        mine.refresh_from_db()
        assert response.status_code == 200 and mine.case.subject == "Late laptop"
        assert mine.case.number in response.content.decode()

    def test_link_existing_case(self, agent_client, agent, mine):
        case = services.case_create(contact=mine.contact, subject="Earlier issue", actor=agent)

        response = agent_client.post(f"/conversations/{mine.pk}/case/link/", {"case": case.pk}, **HTMX)

        mine.refresh_from_db()
        assert response.status_code == 200 and mine.case == case


class TestCustomerCards:
    def test_contact_inline_edit(self, agent_client, mine):
        url = f"/contacts/{mine.contact_id}/card/"
        assert b'name="first_name"' in agent_client.get(url + "?edit=1", **HTMX).content

        response = agent_client.post(
            url,
            {
                "first_name": "Emma",
                "last_name": "Wilson-Reed",
                "email": "emma@Example.com",
                "phone": "+1 415 555 0101",
                "language": "en",
            },
            **HTMX,
        )

        mine.contact.refresh_from_db()
        assert response.status_code == 200 and b"Wilson-Reed" in response.content
        assert (mine.contact.email, mine.contact.phone) == ("emma@example.com", "+14155550101")

    def test_contact_edit_with_bad_phone_shows_error(self, agent_client, mine):
        response = agent_client.post(
            f"/contacts/{mine.contact_id}/card/", {"first_name": "E", "phone": "12", "language": "en"}, **HTMX
        )
        assert response.status_code == 422 and b"field-error" in response.content

    def test_account_inline_edit(self, agent_client, mine):
        from crm.models import Account

        account = Account.objects.create(name="Contoso Hotels", domain="contoso.example")
        response = agent_client.post(
            f"/accounts/{account.pk}/card/",
            {"name": "Contoso Hotels & Resorts", "domain": "Contoso.Example", "tier": "gold"},
            **HTMX,
        )

        account.refresh_from_db()
        assert response.status_code == 200 and account.tier == "gold" and account.domain == "contoso.example"

    def test_outsider_cannot_edit_contacts(self, client, outsider, mine):
        client.force_login(outsider)
        assert client.post(f"/contacts/{mine.contact_id}/card/", {"first_name": "X"}).status_code == 403


def test_recently_closed_conversations_are_listed_apart(agent_client, agent, mine):
    services.conversation_close(conversation=mine, actor=agent)

    html = agent_client.get("/").content.decode()

    assert f'id="work-{mine.pk}"' not in html
    closed = html[html.index('id="closed-title"') :]
    assert "Emma Wilson" in closed and "closed" in closed


def test_supervisor_reply_in_a_colleagues_conversation_shows_as_supervisor(client, supervisor, theirs):
    client.force_login(supervisor)

    response = client.post(f"/conversations/{theirs.pk}/messages/", {"body": "Supervisor here"}, **HTMX)

    assert theirs.messages.last().sender_kind == "supervisor"
    assert "msg-supervisor" in response.content.decode()


class TestCustomerLinkAndNotes:
    def test_search_and_link_another_customer(self, agent_client, mine):
        from crm.tests.factories import ContactFactory

        known = ContactFactory(first_name="Emma", last_name="Known", email="emma.known@example.com")

        found = agent_client.get(f"/conversations/{mine.pk}/customer/search/?q=emma.known", **HTMX).content.decode()
        assert "Emma Known" in found

        response = agent_client.post(f"/conversations/{mine.pk}/customer/", {"contact": known.pk}, **HTMX)

        mine.refresh_from_db()
        assert response.status_code == 200 and mine.contact == known
        assert "Emma Known" in response.content.decode()

    def test_search_and_link_are_refused_on_another_agents_conversation(self, agent_client, theirs, mine):
        assert agent_client.get(f"/conversations/{theirs.pk}/customer/search/?q=a", **HTMX).status_code == 404
        response = agent_client.post(f"/conversations/{theirs.pk}/customer/", {"contact": mine.contact_id}, **HTMX)
        assert response.status_code == 404

    def test_quick_note_on_the_timeline(self, agent_client, mine):
        response = agent_client.post(f"/conversations/{mine.pk}/timeline/notes/", {"body": "Prefers email"}, **HTMX)
        assert response.status_code == 200 and "Prefers email" in response.content.decode()
        empty = agent_client.post(f"/conversations/{mine.pk}/timeline/notes/", {"body": ""}, **HTMX)
        assert empty.status_code == 422

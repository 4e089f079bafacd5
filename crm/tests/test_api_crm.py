"""The CRM REST API, through HTTP, as a browser session (see contactcenter/tests for API keys)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from crm import services
from crm.choices import (
    ActivityKind,
    ActivityStatus,
    ChannelKind,
    ConversationStatus,
    MessageDirection,
    SenderKind,
    TimelineKind,
)
from crm.models import Activity, Case, Contact, ContactIdentity, Message, TimelineEvent
from crm.tests.factories import AccountFactory, ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db

API = "/api/v1"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def error_of(response) -> dict:
    assert response["Content-Type"] == "application/json", response.content
    return response.json()["error"]


@pytest.fixture
def api(agent):
    return client_for(agent)


@pytest.fixture
def conversation(agent):
    conversation = ConversationFactory(assigned_agent=agent, status=ConversationStatus.ACTIVE)
    services.message_send(conversation=conversation, sender=agent, body="Hello, how can I help?")
    return conversation


@pytest.fixture
def other_conversation(other_agent):
    return ConversationFactory(assigned_agent=other_agent, status=ConversationStatus.ACTIVE)


class TestPermissionBoundaries:
    def test_anonymous_gets_401_json(self):
        response = APIClient().get(f"{API}/conversations/")

        assert response.status_code == 401
        assert error_of(response)["code"] == "not_authenticated"

    def test_signed_in_outsider_gets_403(self, outsider):
        response = client_for(outsider).get(f"{API}/contacts/")

        assert response.status_code == 403
        assert error_of(response)["code"] == "permission_denied"

    def test_agent_lists_only_their_conversations(self, api, conversation, other_conversation):
        response = api.get(f"{API}/conversations/")

        assert response.status_code == 200
        assert [row["id"] for row in response.json()["results"]] == [conversation.pk]

    def test_agent_cannot_read_another_agents_conversation(self, api, other_conversation):
        for path in (
            f"/conversations/{other_conversation.pk}/",
            f"/conversations/{other_conversation.pk}/messages/",
        ):
            response = api.get(API + path)
            assert response.status_code == 404, path
            assert error_of(response)["code"] == "not_found"

    def test_agent_cannot_write_to_another_agents_conversation(self, api, other_conversation):
        send = api.post(f"{API}/conversations/{other_conversation.pk}/messages/", {"body": "hi"}, format="json")
        close = api.post(f"{API}/conversations/{other_conversation.pk}/close/", {}, format="json")

        assert (send.status_code, close.status_code) == (404, 404)
        assert not Message.objects.filter(conversation=other_conversation).exists()
        other_conversation.refresh_from_db()
        assert other_conversation.status == ConversationStatus.ACTIVE

    def test_supervisor_reads_every_conversation(self, supervisor, conversation, other_conversation):
        response = client_for(supervisor).get(f"{API}/conversations/")

        assert {row["id"] for row in response.json()["results"]} == {conversation.pk, other_conversation.pk}

    def test_agent_cannot_see_or_edit_a_case_of_another_agent(self, api, other_agent):
        case = services.case_create(contact=ContactFactory(), subject="Broken TV", owner=other_agent)

        assert api.get(f"{API}/cases/{case.pk}/").status_code == 404
        assert api.patch(f"{API}/cases/{case.pk}/", {"subject": "x"}, format="json").status_code == 404
        assert api.post(f"{API}/cases/{case.pk}/resolve/", {"resolution": "x"}, format="json").status_code == 404

    def test_activity_cannot_regard_a_case_the_agent_cannot_see(self, api, other_agent):
        case = services.case_create(contact=ContactFactory(), subject="Broken TV", owner=other_agent)

        response = api.post(
            f"{API}/activities/", {"kind": "task", "subject": "Call back", "case": case.pk}, format="json"
        )

        assert response.status_code == 400
        assert "case" in error_of(response)["fields"]

    def test_session_writes_need_the_csrf_token(self, agent, conversation):
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(agent)

        response = client.post(f"{API}/conversations/{conversation.pk}/messages/", {"body": "hi"}, format="json")

        assert response.status_code == 403
        assert "CSRF" in error_of(response)["message"]

    def test_session_write_with_csrf_token_succeeds(self, agent, conversation):
        client = APIClient(enforce_csrf_checks=True)
        client.force_login(agent)
        client.get("/")  # the page sets the CSRF cookie, as in the browser
        token = client.cookies["csrftoken"].value

        response = client.post(
            f"{API}/conversations/{conversation.pk}/messages/", {"body": "hi"}, format="json",
            headers={"X-CSRFToken": token},
        )

        assert response.status_code == 201


class TestConversations:
    def test_detail(self, api, conversation):
        response = api.get(f"{API}/conversations/{conversation.pk}/")

        body = response.json()
        assert body["id"] == conversation.pk
        assert body["status"] == "active"
        assert body["contact_name"] == conversation.contact.display_name
        assert body["assigned_agent_name"] == "Alice Agent"

    def test_close(self, api, conversation, published):
        response = api.post(f"{API}/conversations/{conversation.pk}/close/", {"reason": "Resolved"}, format="json")

        assert response.status_code == 200
        assert response.json()["status"] == "closed" and response.json()["closed_at"]
        assert "conversation.status_changed" in published.types

    def test_closing_twice_is_a_409_conflict(self, api, conversation):
        api.post(f"{API}/conversations/{conversation.pk}/close/", {}, format="json")

        response = api.post(f"{API}/conversations/{conversation.pk}/close/", {}, format="json")

        assert response.status_code == 409
        assert error_of(response) == {
            "code": "conversation_closed", "message": "The conversation is closed.", "fields": {},
        }

    def test_open_a_case_from_the_conversation(self, api, conversation, published):
        services.message_ingest(
            channel_kind=conversation.channel_kind, address=conversation.identity.address,
            body="My soundbar has no sound",
        )

        response = api.post(f"{API}/conversations/{conversation.pk}/case/", {"priority": 1}, format="json")
        again = api.post(f"{API}/conversations/{conversation.pk}/case/", {}, format="json")

        assert response.status_code == 201
        body = response.json()
        assert (body["subject"], body["priority"], body["owner_name"]) == ("My soundbar has no sound", 1, "Alice Agent")
        assert api.get(f"{API}/conversations/{conversation.pk}/").json()["case_number"] == body["number"]
        assert again.status_code == 409 and error_of(again)["code"] == "case_already_linked"

    def test_filter_by_status_and_channel(self, supervisor, conversation):
        ConversationFactory(status=ConversationStatus.CLOSED)
        sms = ConversationFactory(identity__kind=ChannelKind.SMS, identity__address="+14155550100")
        client = client_for(supervisor)

        active = client.get(f"{API}/conversations/", {"status": "active"}).json()["results"]
        by_channel = client.get(f"{API}/conversations/", {"channel_kind": "sms"}).json()["results"]

        assert [row["id"] for row in active] == [conversation.pk]
        assert [row["id"] for row in by_channel] == [sms.pk]

    def test_invalid_filter_value_is_400_with_field(self, api):
        response = api.get(f"{API}/conversations/", {"status": "sleeping"})

        assert response.status_code == 400
        assert "status" in error_of(response)["fields"]

    def test_list_queries_are_bounded(self, supervisor, django_assert_max_num_queries):
        for _ in range(15):
            ConversationFactory(assigned_agent=supervisor)
        client = client_for(supervisor)

        with django_assert_max_num_queries(6):
            response = client.get(f"{API}/conversations/")

        assert response.json()["count"] == 15


class TestMessages:
    def test_list_oldest_first_with_resume_after_id(self, api, conversation, agent):
        second = services.message_send(conversation=conversation, sender=agent, body="Second")
        first_id = conversation.messages.order_by("id").first().pk

        all_messages = api.get(f"{API}/conversations/{conversation.pk}/messages/").json()["results"]
        after = api.get(f"{API}/conversations/{conversation.pk}/messages/", {"after": first_id}).json()["results"]

        assert [row["body"] for row in all_messages] == ["Hello, how can I help?", "Second"]
        assert [row["id"] for row in after] == [second.pk]

    def test_send_outbound(self, api, conversation, published):
        response = api.post(
            f"{API}/conversations/{conversation.pk}/messages/", {"body": "Your order shipped today."}, format="json"
        )

        assert response.status_code == 201
        body = response.json()
        assert (body["direction"], body["sender_kind"], body["delivery_status"]) == ("outbound", "agent", "queued")
        assert body["sender_name"] == "Alice Agent"
        assert Message.objects.get(pk=body["id"]).body == "Your order shipped today."
        assert "message.created" in published.types

    def test_internal_note(self, api, conversation):
        response = api.post(
            f"{API}/conversations/{conversation.pk}/messages/", {"body": "VIP, be nice", "internal": True},
            format="json",
        )

        assert response.json()["direction"] == MessageDirection.INTERNAL

    def test_supervisor_reply_is_marked_as_supervisor(self, supervisor, conversation):
        response = client_for(supervisor).post(
            f"{API}/conversations/{conversation.pk}/messages/", {"body": "Stepping in"}, format="json"
        )

        assert response.json()["sender_kind"] == SenderKind.SUPERVISOR

    def test_empty_body_is_400_with_field(self, api, conversation):
        response = api.post(f"{API}/conversations/{conversation.pk}/messages/", {"body": ""}, format="json")

        assert response.status_code == 400
        error = error_of(response)
        assert error["code"] == "invalid"
        assert error["fields"] == {"body": ["This field may not be blank."]}

    def test_sending_on_a_closed_conversation_is_409(self, api, conversation, agent):
        services.conversation_close(conversation=conversation, actor=agent)

        response = api.post(f"{API}/conversations/{conversation.pk}/messages/", {"body": "hi"}, format="json")

        assert response.status_code == 409
        assert error_of(response)["code"] == "conversation_closed"

    def test_list_queries_are_bounded(self, api, conversation, agent, django_assert_max_num_queries):
        for n in range(20):
            services.message_send(conversation=conversation, sender=agent, body=f"Message {n}")

        with django_assert_max_num_queries(6):
            response = api.get(f"{API}/conversations/{conversation.pk}/messages/")

        assert response.json()["count"] == 21


class TestContacts:
    def test_create_normalises_phone_and_email(self, api):
        response = api.post(
            f"{API}/contacts/",
            {"first_name": "Maria", "last_name": "Lopez", "phone": "+1 (415) 555-0134", "email": "Maria@NorthWind.COM"},
            format="json",
        )

        assert response.status_code == 201
        body = response.json()
        assert (body["phone"], body["email"]) == ("+14155550134", "Maria@northwind.com")
        assert body["display_name"] == "Maria Lopez" and body["identities"] == []

    def test_create_validation_errors_name_each_field(self, api):
        response = api.post(f"{API}/contacts/", {"phone": "12", "email": "nope", "is_vip": "maybe"}, format="json")

        assert response.status_code == 400
        assert set(error_of(response)["fields"]) == {"phone", "email", "is_vip"}

    def test_contact_needs_some_way_to_name_it(self, api):
        response = api.post(f"{API}/contacts/", {"language": "de"}, format="json")

        assert response.status_code == 400
        assert "non_field_errors" in error_of(response)["fields"]

    def test_update(self, api):
        contact = ContactFactory(is_vip=False)

        response = api.patch(f"{API}/contacts/{contact.pk}/", {"is_vip": True}, format="json")

        assert response.status_code == 200 and response.json()["is_vip"] is True
        contact.refresh_from_db()
        assert contact.is_vip

    def test_put_is_not_allowed(self, api):
        contact = ContactFactory()

        response = api.put(f"{API}/contacts/{contact.pk}/", {"first_name": "X"}, format="json")

        assert response.status_code == 405
        assert error_of(response)["code"] == "method_not_allowed"

    def test_add_identity_and_read_it_nested(self, api):
        contact = ContactFactory()

        response = api.post(
            f"{API}/contacts/{contact.pk}/identities/", {"kind": "sms", "address": "+1 415 555 0199"}, format="json"
        )

        assert response.status_code == 201
        assert response.json()["address"] == "+14155550199"
        detail = api.get(f"{API}/contacts/{contact.pk}/").json()
        assert [(i["kind"], i["address"]) for i in detail["identities"]] == [("sms", "+14155550199")]

    def test_an_address_belongs_to_one_contact(self, api):
        ContactIdentity.objects.create(contact=ContactFactory(), kind="email", address="a@example.com")
        contact = ContactFactory()

        response = api.post(
            f"{API}/contacts/{contact.pk}/identities/", {"kind": "email", "address": "a@EXAMPLE.com"}, format="json"
        )

        assert response.status_code == 400
        assert "address" in error_of(response)["fields"]
        assert not contact.identities.exists()

    def test_search_and_filter(self, api):
        maria = ContactFactory(first_name="Maria", last_name="Lopez", is_vip=True)
        ContactFactory(first_name="John", last_name="Smith")
        ContactIdentity.objects.create(contact=maria, kind="webchat", address="visitor-xyz")

        by_name = api.get(f"{API}/contacts/", {"search": "lopez"}).json()["results"]
        by_identity = api.get(f"{API}/contacts/", {"search": "visitor-xyz"}).json()["results"]
        vips = api.get(f"{API}/contacts/", {"is_vip": "true"}).json()["results"]

        assert [row["id"] for row in by_name] == [maria.pk]
        assert [row["id"] for row in by_identity] == [maria.pk]
        assert [row["id"] for row in vips] == [maria.pk]

    def test_pagination_and_ordering(self, api):
        for name in ["Ames", "Baker", "Clark", "Dunn", "Evans"]:
            ContactFactory(last_name=name)

        first = api.get(f"{API}/contacts/", {"page_size": 2, "ordering": "-last_name"}).json()
        second = api.get(f"{API}/contacts/", {"page_size": 2, "ordering": "-last_name", "page": 2}).json()

        assert first["count"] == 5
        assert [row["last_name"] for row in first["results"]] == ["Evans", "Dunn"]
        assert [row["last_name"] for row in second["results"]] == ["Clark", "Baker"]
        assert first["next"] and first["previous"] is None

    def test_page_out_of_range_is_404_json(self, api):
        response = api.get(f"{API}/contacts/", {"page": 99})

        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"

    def test_list_queries_are_bounded(self, api, django_assert_max_num_queries):
        for n in range(15):
            contact = ContactFactory(account=AccountFactory())
            ContactIdentity.objects.create(contact=contact, kind="webchat", address=f"v-{n}")

        with django_assert_max_num_queries(6):
            response = api.get(f"{API}/contacts/")

        assert len(response.json()["results"]) == 15

    def test_timeline(self, api, agent):
        contact = ContactFactory()
        services.case_create(contact=contact, subject="Laptop overheats", actor=agent, owner=agent)

        response = api.get(f"{API}/contacts/{contact.pk}/timeline/")

        assert response.status_code == 200
        rows = response.json()["results"]
        assert [row["kind"] for row in rows] == [TimelineKind.CASE_OPENED]
        assert rows[0]["actor_name"] == "Alice Agent"

    def test_timeline_of_unknown_contact_is_404(self, api):
        assert api.get(f"{API}/contacts/999999/timeline/").status_code == 404

    def test_timeline_queries_are_bounded(self, api, agent, django_assert_max_num_queries):
        contact = ContactFactory()
        for n in range(10):
            services.case_create(contact=contact, subject=f"Issue {n}", actor=agent, owner=agent)

        with django_assert_max_num_queries(6):
            response = api.get(f"{API}/contacts/{contact.pk}/timeline/")

        assert response.json()["count"] == 10


class TestAccounts:
    def test_create_update_and_search(self, api, supervisor):
        created = api.post(
            f"{API}/accounts/", {"name": "Contoso Retail", "domain": "Contoso.COM", "tier": "gold"}, format="json"
        )
        assert created.status_code == 201
        account_id = created.json()["id"]
        assert created.json()["domain"] == "contoso.com"

        updated = api.patch(f"{API}/accounts/{account_id}/", {"owner": supervisor.pk}, format="json")

        assert updated.json()["owner_name"] == "Sam Supervisor"
        assert [row["id"] for row in api.get(f"{API}/accounts/", {"search": "contoso"}).json()["results"]] == [
            account_id
        ]
        assert api.get(f"{API}/accounts/", {"tier": "silver"}).json()["count"] == 0

    def test_owner_must_be_staff(self, api, outsider):
        response = api.post(f"{API}/accounts/", {"name": "X", "owner": outsider.pk}, format="json")

        assert response.status_code == 400
        assert "owner" in error_of(response)["fields"]

    def test_list_queries_are_bounded(self, api, agent, django_assert_max_num_queries):
        for _ in range(15):
            AccountFactory(owner=agent)

        with django_assert_max_num_queries(5):
            response = api.get(f"{API}/accounts/")

        assert response.json()["count"] == 15


class TestCases:
    def test_create_owned_by_caller_with_contacts_account(self, api, published):
        account = AccountFactory()
        contact = ContactFactory(account=account)

        response = api.post(
            f"{API}/cases/", {"contact": contact.pk, "subject": "Headphones will not pair", "priority": 1},
            format="json",
        )

        assert response.status_code == 201
        body = response.json()
        assert body["number"].startswith("CAS-")
        assert (body["owner_name"], body["account"], body["priority"], body["status"]) == (
            "Alice Agent", account.pk, 1, "new",
        )
        assert "case.created" in published.types

    def test_create_validation(self, api):
        response = api.post(f"{API}/cases/", {"contact": 999999, "priority": 7}, format="json")

        assert response.status_code == 400
        assert set(error_of(response)["fields"]) == {"contact", "subject", "priority"}

    def test_update_records_the_change(self, api, agent, published):
        case = services.case_create(contact=ContactFactory(), subject="TV flickers", owner=agent)

        response = api.patch(f"{API}/cases/{case.pk}/", {"status": "in_progress", "severity": 1}, format="json")

        assert response.status_code == 200
        assert (response.json()["status"], response.json()["severity"]) == ("in_progress", 1)
        event = TimelineEvent.objects.get(case=case, kind=TimelineKind.CASE_CHANGED)
        assert set(event.data["fields"]) == {"status", "severity"}
        assert "case.updated" in published.types

    def test_status_resolved_needs_the_resolve_action(self, api, agent):
        case = services.case_create(contact=ContactFactory(), subject="TV flickers", owner=agent)

        response = api.patch(f"{API}/cases/{case.pk}/", {"status": "resolved"}, format="json")

        assert response.status_code == 400
        assert "status" in error_of(response)["fields"]

    def test_resolve_then_edit_is_409(self, api, agent):
        case = services.case_create(contact=ContactFactory(), subject="TV flickers", owner=agent)

        resolved = api.post(f"{API}/cases/{case.pk}/resolve/", {"resolution": "Firmware 2.1"}, format="json")
        edit = api.patch(f"{API}/cases/{case.pk}/", {"subject": "Again"}, format="json")
        again = api.post(f"{API}/cases/{case.pk}/resolve/", {"resolution": "x"}, format="json")

        assert resolved.status_code == 200
        assert (resolved.json()["status"], resolved.json()["resolution"]) == ("resolved", "Firmware 2.1")
        assert (edit.status_code, again.status_code) == (409, 409)
        assert error_of(edit)["code"] == "case_closed"

    def test_cancel_cancels_open_activities(self, api, agent):
        case = services.case_create(contact=ContactFactory(), subject="Duplicate", owner=agent)
        activity = services.activity_create(actor=agent, subject="Call", kind=ActivityKind.PHONE_CALL, case=case)

        api.patch(f"{API}/cases/{case.pk}/", {"status": "cancelled"}, format="json")

        activity.refresh_from_db()
        assert activity.status == ActivityStatus.CANCELLED

    def test_filter_search_and_order(self, supervisor):
        contact = ContactFactory(last_name="Lopez")
        urgent = services.case_create(contact=contact, subject="Laptop will not boot", priority=1)
        services.case_create(contact=ContactFactory(), subject="Invoice copy", priority=3)
        client = client_for(supervisor)

        by_search = client.get(f"{API}/cases/", {"search": "boot"}).json()["results"]
        by_number = client.get(f"{API}/cases/", {"search": urgent.number}).json()["results"]
        by_priority = client.get(f"{API}/cases/", {"priority": 1}).json()["results"]
        ordered = client.get(f"{API}/cases/", {"ordering": "-priority"}).json()["results"]

        assert [row["id"] for row in by_search] == [urgent.pk]
        assert [row["id"] for row in by_number] == [urgent.pk]
        assert [row["id"] for row in by_priority] == [urgent.pk]
        assert [row["priority"] for row in ordered] == [3, 1]

    def test_list_queries_are_bounded(self, api, agent, django_assert_max_num_queries):
        for n in range(15):
            services.case_create(contact=ContactFactory(account=AccountFactory()), subject=f"Case {n}", owner=agent)

        with django_assert_max_num_queries(6):
            response = api.get(f"{API}/cases/")

        assert response.json()["count"] == 15


class TestActivities:
    def test_create_and_complete(self, api, agent):
        contact = ContactFactory()
        due = (timezone.now() + timedelta(days=1)).replace(microsecond=0)

        created = api.post(
            f"{API}/activities/",
            {
                "kind": "phone_call", "subject": "Call about the refund", "contact": contact.pk,
                "due_at": due.isoformat(),
            },
            format="json",
        )
        assert created.status_code == 201
        activity_id = created.json()["id"]
        assert created.json()["owner_name"] == "Alice Agent"

        done = api.patch(f"{API}/activities/{activity_id}/", {"status": "completed"}, format="json")

        assert done.json()["status"] == "completed" and done.json()["completed_at"]
        assert Activity.objects.get(pk=activity_id).completed_at is not None
        assert TimelineEvent.objects.filter(activity_id=activity_id).count() == 2

    def test_needs_a_case_or_contact(self, api):
        response = api.post(f"{API}/activities/", {"kind": "task", "subject": "Orphan"}, format="json")

        assert response.status_code == 400
        assert "non_field_errors" in error_of(response)["fields"]

    def test_agent_sees_own_activities_only(self, api, agent, other_agent):
        mine = services.activity_create(actor=agent, subject="Mine", kind="task", contact=ContactFactory())
        theirs = services.activity_create(actor=other_agent, subject="Theirs", kind="task", contact=ContactFactory())

        ids = [row["id"] for row in api.get(f"{API}/activities/").json()["results"]]

        assert ids == [mine.pk]
        assert api.get(f"{API}/activities/{theirs.pk}/").status_code == 404

    def test_filter_by_status(self, api, agent):
        contact = ContactFactory()
        services.activity_create(actor=agent, subject="Open", kind="task", contact=contact)
        done = services.activity_create(actor=agent, subject="Done", kind="task", contact=contact)
        services.activity_update(activity=done, actor=agent, status=ActivityStatus.COMPLETED)

        rows = api.get(f"{API}/activities/", {"status": "completed"}).json()["results"]

        assert [row["id"] for row in rows] == [done.pk]

    def test_list_queries_are_bounded(self, api, agent, django_assert_max_num_queries):
        for n in range(15):
            case = services.case_create(contact=ContactFactory(), subject=f"Case {n}", owner=agent)
            services.activity_create(actor=agent, subject=f"Task {n}", kind="task", case=case)

        with django_assert_max_num_queries(6):
            response = api.get(f"{API}/activities/")

        assert response.json()["count"] == 15


def test_contact_and_case_counts_are_unchanged_by_refused_writes(api, other_agent):
    contacts, cases = Contact.objects.count(), Case.objects.count()

    api.post(f"{API}/contacts/", {"phone": "bad"}, format="json")
    api.post(f"{API}/cases/", {"subject": "no contact"}, format="json")

    assert (Contact.objects.count(), Case.objects.count()) == (contacts, cases)

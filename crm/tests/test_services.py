import threading

import pytest
from django.db import connection

from crm import services
from crm.choices import CaseStatus, ChannelKind, ConversationStatus, MessageDirection, TimelineKind
from crm.exceptions import CaseAlreadyLinked, CaseClosed, ConversationClosed
from crm.models import Contact, ContactIdentity, Conversation, Message, TimelineEvent

pytestmark = pytest.mark.django_db


def ingest(**overrides):
    fields = {"channel_kind": ChannelKind.SMS, "address": "+1 (415) 555-0134", "body": "My headphones stopped charging"}
    return services.message_ingest(**{**fields, **overrides})


class TestMessageIngest:
    def test_new_customer_gets_contact_identity_conversation_and_message(self, published):
        result = ingest(provider_message_id="SM1")

        assert result.created and result.conversation_created
        identity = ContactIdentity.objects.get()
        assert (identity.kind, identity.address) == ("sms", "+14155550134")
        assert identity.contact.phone == "+14155550134"
        assert result.conversation.status == ConversationStatus.OPEN
        assert result.conversation.last_customer_message_at is not None
        assert result.message.direction == MessageDirection.INBOUND
        assert list(TimelineEvent.objects.values_list("kind", flat=True).order_by("id")) == [
            TimelineKind.CONVERSATION_STARTED, TimelineKind.MESSAGE,
        ]
        assert published.types == ["conversation.created", "message.created"]
        event, groups = published.of_type("message.created")[0]
        assert event["id"] == result.message.pk
        assert event["data"]["conversation_id"] == result.conversation.pk
        assert f"conversation.{result.conversation.pk}" in groups and "supervisors" in groups

    def test_a_message_needing_a_person_flags_the_conversation_until_routing_clears_it(self):
        flagged = ingest(provider_message_id="SM1", needs_routing=True).conversation
        assert Conversation.objects.get(pk=flagged.pk).needs_routing

        ingest(provider_message_id="SM2")  # an auto-reply or an IVR step leaves the flag as it is
        assert Conversation.objects.get(pk=flagged.pk).needs_routing
        services.conversation_routing_clear(conversation=flagged)
        assert not Conversation.objects.get(pk=flagged.pk).needs_routing

        ingest(provider_message_id="SM3")
        ingest(provider_message_id="SM1", needs_routing=True)  # a repeated delivery changes nothing
        assert not Conversation.objects.get(pk=flagged.pk).needs_routing

    def test_second_message_joins_the_open_conversation(self):
        first = ingest(provider_message_id="SM1")
        second = ingest(provider_message_id="SM2", body="It shows a red light")

        assert second.conversation == first.conversation and not second.conversation_created
        assert Conversation.objects.count() == 1 and Message.objects.count() == 2

    def test_repeated_provider_id_changes_nothing(self, published):
        first = ingest(provider_message_id="SM1")
        again = ingest(provider_message_id="SM1")

        assert again.message == first.message and not again.created
        assert Message.objects.count() == 1 and TimelineEvent.objects.count() == 2
        assert published.types.count("message.created") == 1

    def test_a_closed_conversation_is_never_reopened(self, agent):
        first = ingest()
        services.conversation_close(conversation=first.conversation, actor=agent)

        later = ingest(body="Hello again")

        assert later.conversation != first.conversation and later.conversation_created
        assert later.conversation.contact == first.conversation.contact

    def test_a_new_channel_with_a_known_email_resolves_to_the_same_contact(self):
        email = ingest(channel_kind=ChannelKind.EMAIL, address="Dana@Example.COM", body="Order 1234?")
        contact = email.conversation.contact
        assert contact.email == "Dana@example.com"

        sms = ingest(channel_kind=ChannelKind.SMS, address="+14155550199", body="sent you an email")
        Contact.objects.filter(pk=sms.conversation.contact_id).update(email="other@example.com")
        again = ingest(channel_kind=ChannelKind.EMAIL, address="dana@EXAMPLE.com", body="any news?")

        assert again.conversation.contact == contact
        assert Contact.objects.count() == 2

    def test_invalid_phone_number_is_refused(self):
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError):
            ingest(address="not a number")
        assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_ingests_of_one_provider_id_store_one_message():
    barrier = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(ingest(provider_message_id="SM-race"))
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Message.objects.count() == 1
    assert Contact.objects.count() == 1 and Conversation.objects.count() == 1
    assert sorted(result.created for result in results) == [False, True]
    assert len({result.message.pk for result in results}) == 1


class TestOutboundAndNotes:
    def test_first_agent_reply_stamps_first_response(self, agent, published):
        conversation = ingest().conversation

        message = services.message_send(conversation=conversation, sender=agent, body="Let's reset them together.")

        conversation.refresh_from_db()
        assert conversation.first_agent_response_at == message.created_at or conversation.first_agent_response_at
        assert message.direction == MessageDirection.OUTBOUND and message.delivery_status == "queued"
        assert published.types[-1] == "message.created"

    def test_cannot_send_on_a_closed_conversation(self, agent):
        conversation = ingest().conversation
        services.conversation_close(conversation=conversation, actor=agent)

        with pytest.raises(ConversationClosed):
            services.message_send(conversation=conversation, sender=agent, body="hello?")

    def test_note_is_internal_and_on_the_timeline(self, agent):
        conversation = ingest().conversation

        note = services.note_add(conversation=conversation, author=agent, body="Customer is a repeat caller")

        assert note.direction == MessageDirection.INTERNAL
        assert TimelineEvent.objects.filter(kind=TimelineKind.NOTE, message=note).exists()


class TestCases:
    def test_case_from_conversation_is_numbered_linked_and_owned(self, agent, published):
        conversation = ingest(body="Screen flickers on my X200 laptop").conversation

        case = services.case_open_from_conversation(conversation=conversation, actor=agent)

        assert case.number.startswith("CAS-") and len(case.number) == 10
        assert case.subject == "Screen flickers on my X200 laptop"
        assert case.owner == agent and case.contact == conversation.contact
        conversation.refresh_from_db()
        assert conversation.case == case
        assert "case.created" in published.types
        with pytest.raises(CaseAlreadyLinked):
            services.case_open_from_conversation(conversation=conversation, actor=agent)

    def test_case_numbers_increase(self, agent):
        first = services.case_create(contact=ingest().conversation.contact, subject="One", actor=agent)
        second = services.case_create(contact=first.contact, subject="Two", actor=agent)
        assert int(second.number[4:]) == int(first.number[4:]) + 1

    def test_resolve_records_resolution_and_cancels_open_activities(self, agent, published):
        case = services.case_create(contact=ingest().conversation.contact, subject="Refund", actor=agent)
        activity = services.activity_create(actor=agent, subject="Call back", kind="phone_call", case=case)

        services.case_resolve(case=case, actor=agent, resolution="Refund issued")

        case.refresh_from_db()
        activity.refresh_from_db()
        assert case.status == CaseStatus.RESOLVED and case.resolution == "Refund issued" and case.resolved_at
        assert activity.status == "cancelled"
        assert "case.resolved" in published.types
        with pytest.raises(CaseClosed):
            services.case_resolve(case=case, actor=agent, resolution="again")


def test_close_writes_a_system_message_and_publishes_status(agent, published, db):
    conversation = ingest().conversation

    services.conversation_close(conversation=conversation, actor=agent, reason="resolved on chat")

    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.CLOSED and conversation.closed_at
    system = conversation.messages.last()
    assert system.sender_kind == "system" and "resolved on chat" in system.body
    assert published.types[-2:] == ["message.created", "conversation.status_changed"]

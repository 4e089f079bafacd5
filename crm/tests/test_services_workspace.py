"""Services behind the agent workspace: wrap-up, 360 edits, case work, swarm and mentions."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm import services
from crm.choices import (
    ActivityKind,
    CaseStatus,
    ChannelKind,
    ConversationStatus,
    NotificationKind,
    TimelineKind,
)
from crm.exceptions import (
    CaseAlreadyLinked,
    CaseClosed,
    CaseMergeInvalid,
    CaseNotOnHold,
    ConversationClosed,
    ConversationNotLive,
    DispositionRequired,
    TooManyDispositions,
)
from crm.models import (
    Activity,
    CannedResponse,
    Conversation,
    DispositionCode,
    Notification,
    TimelineEvent,
    WrapUpPolicy,
)
from crm.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
create_system_codes = importlib.import_module("crm.migrations.0004_workspace").create_system_codes


def live_conversation(agent, *, address="visitor-1", body="My Pulse headphones stopped charging"):
    result = services.message_ingest(channel_kind=ChannelKind.WEBCHAT, address=address, body=body)
    Conversation.objects.filter(pk=result.conversation.pk).update(
        assigned_agent=agent, status=ConversationStatus.ACTIVE
    )
    result.conversation.refresh_from_db()
    return result.conversation


def codes(*names):
    return [DispositionCode.objects.get_or_create(code=name, defaults={"label": name.title()})[0] for name in names]


class TestWrapUp:
    def test_end_moves_to_wrap_up_and_wrap_up_closes_with_codes_and_notes(self, agent, published):
        conversation = live_conversation(agent)

        services.conversation_end(conversation=conversation, actor=agent)
        conversation.refresh_from_db()
        assert conversation.status == ConversationStatus.WRAP_UP

        closed = services.conversation_wrap_up(
            conversation=conversation, actor=agent, disposition_codes=codes("resolved"), notes="Reset fixed it"
        )

        assert closed.status == ConversationStatus.CLOSED and closed.closed_at
        assert [c.code for c in closed.disposition_codes.all()] == ["resolved"]
        assert closed.wrap_up_notes == "Reset fixed it" and closed.wrapped_up_at
        statuses = [event["data"]["status"] for event, _groups in published.of_type("conversation.status_changed")]
        assert statuses == [ConversationStatus.WRAP_UP, ConversationStatus.CLOSED]
        assert TimelineEvent.objects.filter(kind=TimelineKind.NOTE, summary="Wrap-up: Reset fixed it").exists()

    def test_required_code_is_enforced(self, agent):
        WrapUpPolicy.objects.create(disposition_required=True, max_dispositions=2)
        conversation = live_conversation(agent)

        with pytest.raises(DispositionRequired):
            services.conversation_wrap_up(conversation=conversation, actor=agent, disposition_codes=[])

        conversation.refresh_from_db()
        assert conversation.status == ConversationStatus.ACTIVE

    def test_at_most_n_codes(self, agent):
        WrapUpPolicy.objects.create(disposition_required=False, max_dispositions=1)
        conversation = live_conversation(agent)

        with pytest.raises(TooManyDispositions, match="at most 1"):
            services.conversation_wrap_up(conversation=conversation, actor=agent, disposition_codes=codes("a", "b"))

    def test_without_policy_no_code_is_needed(self, agent):
        conversation = live_conversation(agent)
        closed = services.conversation_wrap_up(conversation=conversation, actor=agent, disposition_codes=[])
        assert closed.status == ConversationStatus.CLOSED

    def test_closed_conversation_cannot_be_ended_or_wrapped_up_again(self, agent):
        conversation = live_conversation(agent)
        services.conversation_close(conversation=conversation, actor=agent)

        with pytest.raises(ConversationNotLive):
            services.conversation_end(conversation=conversation, actor=agent)
        with pytest.raises(ConversationClosed):
            services.conversation_wrap_up(conversation=conversation, actor=agent, disposition_codes=[])

    def test_migration_creates_the_system_code_do_not_contact(self):
        # Run the data migration's function again: flushes by transactional tests may have removed its row.
        create_system_codes(django_apps, None)
        code = DispositionCode.objects.get(code="do-not-contact")
        assert code.is_system and code.label == "Do Not Contact"


class TestReadMarker:
    def test_mark_read_moves_forward_for_the_assigned_agent_only(self, agent, other_agent):
        conversation = live_conversation(agent)
        last = conversation.messages.last().pk

        services.conversation_mark_read(conversation=conversation, user=other_agent)
        conversation.refresh_from_db()
        assert conversation.agent_read_up_to == 0

        services.conversation_mark_read(conversation=conversation, user=agent)
        conversation.refresh_from_db()
        assert conversation.agent_read_up_to == last


class TestCustomer360:
    def test_contact_update_normalises_email_and_phone(self, agent):
        contact = ContactFactory()
        services.contact_update(contact=contact, actor=agent, email="Ann@Example.COM", phone="+1 415 555 0134")
        contact.refresh_from_db()
        assert (contact.email, contact.phone) == ("Ann@example.com", "+14155550134")

    def test_contact_update_rejects_bad_phone(self, agent):
        with pytest.raises(ValidationError):
            services.contact_update(contact=ContactFactory(), actor=agent, phone="12")


def make_case(agent, **extra):
    return services.case_create(
        contact=extra.pop("contact", None) or ContactFactory(),
        subject="TV has dead pixels",
        actor=agent,
        owner=agent,
        **extra,
    )


class TestCaseWork:
    def test_update_refuses_resolved_case(self, agent):
        case = make_case(agent)
        services.case_resolve(case=case, actor=agent, resolution="Replaced")
        with pytest.raises(CaseClosed):
            services.case_update(case=case, actor=agent, subject="New")

    def test_hold_pauses_sla_and_resume_shifts_deadlines(self, agent):
        now = timezone.now()
        case = make_case(agent, first_response_by=now + timedelta(hours=1), resolve_by=now + timedelta(hours=8))
        services.case_hold(case=case, actor=agent, reason="Waiting for photos")
        case.refresh_from_db()
        assert case.status == CaseStatus.ON_HOLD
        # Pretend the case has been on hold for two hours.
        type(case).objects.filter(pk=case.pk).update(on_hold_since=now - timedelta(hours=2))

        services.case_resume(case=case, actor=agent)

        case.refresh_from_db()
        assert case.status == CaseStatus.IN_PROGRESS and case.on_hold_since is None
        assert abs(case.resolve_by - (now + timedelta(hours=10))) < timedelta(seconds=5)
        assert abs(case.first_response_by - (now + timedelta(hours=3))) < timedelta(seconds=5)

    def test_resume_requires_hold(self, agent):
        with pytest.raises(CaseNotOnHold):
            services.case_resume(case=make_case(agent), actor=agent)

    def test_note_keeps_full_text(self, agent):
        case = make_case(agent)
        body = "Customer sent photos. " * 20
        note = services.case_note_add(case=case, author=agent, body=body)
        assert note.kind == TimelineKind.NOTE and note.data["body"] == body and note.case == case

    def test_link_conversation_to_same_customers_case(self, agent):
        conversation = live_conversation(agent)
        case = make_case(agent, contact=conversation.contact)

        services.case_link_conversation(conversation=conversation, case=case, actor=agent)

        conversation.refresh_from_db()
        assert conversation.case == case
        with pytest.raises(CaseAlreadyLinked):
            services.case_link_conversation(conversation=conversation, case=case, actor=agent)

    def test_link_refuses_another_customers_case(self, agent):
        conversation = live_conversation(agent)
        with pytest.raises(CaseMergeInvalid):
            services.case_link_conversation(conversation=conversation, case=make_case(agent), actor=agent)

    def test_merge_moves_conversations_and_activities_and_cancels_source(self, agent, published):
        conversation = live_conversation(agent)
        source = services.case_open_from_conversation(conversation=conversation, actor=agent)
        target = make_case(agent, contact=conversation.contact)
        services.activity_create(actor=agent, subject="Call back", kind=ActivityKind.PHONE_CALL, case=source)

        services.case_merge(source=source, target=target, actor=agent)

        source.refresh_from_db()
        conversation.refresh_from_db()
        assert source.status == CaseStatus.CANCELLED and source.merged_into == target
        assert conversation.case == target
        assert Activity.objects.get().case == target
        assert len(published.of_type("case.updated")) == 2

    def test_merge_refuses_itself_and_closed_cases(self, agent):
        case, other = make_case(agent), make_case(agent)
        with pytest.raises(CaseMergeInvalid):
            services.case_merge(source=case, target=case, actor=agent)
        services.case_resolve(case=other, actor=agent, resolution="Done")
        with pytest.raises(CaseMergeInvalid):
            services.case_merge(source=case, target=other, actor=agent)


class TestSwarm:
    def test_invite_creates_discussion_with_summary_and_notifies(self, agent, other_agent, published):
        case = make_case(agent, description="Dead pixels in the top-left corner")

        discussion = services.swarm_invite(case=case, actor=agent, invitees=[other_agent], note="Seen this before?")

        assert case.number in discussion.summary and "Dead pixels" in discussion.summary
        assert set(discussion.participants.all()) == {agent, other_agent}
        assert discussion.posts.get().body == "Seen this before?"
        notification = Notification.objects.get()
        assert notification.recipient == other_agent and notification.kind == NotificationKind.SWARM_INVITE
        event, groups = published.of_type("notification.created")[0]
        assert groups == [f"agent.{other_agent.pk}"] and event["data"]["case_id"] == case.pk

    def test_reinviting_does_not_notify_twice(self, agent, other_agent):
        case = make_case(agent)
        services.swarm_invite(case=case, actor=agent, invitees=[other_agent])
        services.swarm_invite(case=case, actor=agent, invitees=[other_agent])
        assert Notification.objects.count() == 1

    def test_mention_notifies_staff_and_ignores_unknown_names(self, agent, other_agent, outsider, published):
        case = make_case(agent)

        services.discussion_post(case=case, author=agent, body="@agent.b can you check? cc @outsider @nobody")

        notification = Notification.objects.get()
        assert notification.recipient == other_agent and notification.kind == NotificationKind.MENTION
        assert other_agent in case.discussion.participants.all()
        assert published.types.count("notification.created") == 1
        assert "discussion.posted" in published.types

    def test_mark_read(self, agent, other_agent):
        case = make_case(agent)
        services.swarm_invite(case=case, actor=agent, invitees=[other_agent])
        assert services.notifications_mark_read(user=other_agent) == 1
        assert not Notification.objects.filter(read_at__isnull=True).exists()


class TestCannedResponses:
    def test_placeholders_are_filled_and_unknown_ones_stay(self):
        reply = CannedResponse(slug="hi", title="Hi", body="Hi {customerFirstName}, case {caseNumber} {unknown}")
        assert reply.render({"customerFirstName": "Emma", "caseNumber": ""}) == "Hi Emma, case {caseNumber} {unknown}"


class TestCustomerLink:
    def test_link_moves_identity_conversations_and_their_timeline(self, agent):
        conversation = live_conversation(agent)
        visitor = conversation.contact
        known = ContactFactory(first_name="Emma")

        services.conversation_contact_link(conversation=conversation, contact=known, actor=agent)

        conversation.refresh_from_db()
        assert conversation.contact == known and conversation.identity.contact == known
        assert not TimelineEvent.objects.filter(contact=visitor).exists()
        later = services.message_ingest(channel_kind=ChannelKind.WEBCHAT, address="visitor-1", body="Me again")
        assert later.conversation.contact == known

    def test_link_refuses_closed_conversation(self, agent):
        conversation = live_conversation(agent)
        services.conversation_close(conversation=conversation, actor=agent)
        with pytest.raises(ConversationClosed):
            services.conversation_contact_link(conversation=conversation, contact=ContactFactory(), actor=agent)

    def test_quick_note_on_the_timeline(self, agent):
        contact = ContactFactory()
        note = services.contact_note_add(contact=contact, author=agent, body="Prefers email")
        assert note.kind == TimelineKind.NOTE and contact.timeline.get().data["body"] == "Prefers email"

"""Case list (views, filters, bulk actions, bounded queries) and the case page."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm import services
from crm.choices import CasePriority, CaseStatus
from crm.models import Case, Notification, SavedView
from crm.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def case(actor, **extra):
    return services.case_create(
        contact=extra.pop("contact", None) or ContactFactory(),
        subject=extra.pop("subject", "Router drops wifi"),
        actor=actor,
        **extra,
    )


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def numbers(response) -> set[str]:
    html = response.content.decode()
    return {case.number for case in Case.objects.all() if f">{case.number}</a>" in html}


class TestCaseList:
    def test_views_mine_unassigned_breaching(self, client, supervisor, agent):
        mine = case(supervisor, owner=agent)
        unassigned = case(supervisor)
        breaching = case(supervisor, owner=agent, resolve_by=timezone.now() - timedelta(minutes=5))
        fine = case(supervisor, owner=supervisor, resolve_by=timezone.now() + timedelta(days=3))
        client.force_login(supervisor)

        assert numbers(client.get("/cases/?view=mine")) == {fine.number}
        assert numbers(client.get("/cases/?view=unassigned")) == {unassigned.number}
        assert numbers(client.get("/cases/?view=breaching")) == {breaching.number}
        assert numbers(client.get("/cases/?view=all")) == {
            mine.number,
            unassigned.number,
            breaching.number,
            fine.number,
        }

    def test_agent_sees_only_visible_cases(self, agent_client, agent, other_agent, supervisor):
        mine = case(supervisor, owner=agent)
        case(supervisor, owner=other_agent)
        assert numbers(agent_client.get("/cases/?view=all")) == {mine.number}

    def test_filters_and_search(self, client, supervisor):
        high = case(supervisor, subject="Smart TV will not boot", priority=CasePriority.HIGH)
        case(supervisor, subject="Cable question", priority=CasePriority.LOW)
        client.force_login(supervisor)

        assert numbers(client.get("/cases/?view=all&priority=1")) == {high.number}
        assert numbers(client.get("/cases/?view=all&q=smart+tv")) == {high.number}
        assert numbers(client.get(f"/cases/?view=all&q={high.number}")) == {high.number}

    def test_htmx_filter_returns_the_table_only(self, client, supervisor):
        case(supervisor)
        client.force_login(supervisor)
        html = client.get("/cases/?view=all", **HTMX).content.decode()
        assert html.startswith('<form id="case-table"') and "<html" not in html

    def test_pagination_with_bounded_queries(self, client, supervisor, django_assert_max_num_queries):
        for n in range(5):
            case(supervisor, subject=f"few {n}")
        client.force_login(supervisor)
        with django_assert_max_num_queries(15) as few:
            client.get("/cases/?view=all")
        for n in range(60):
            case(supervisor, subject=f"many {n}")
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = client.get("/cases/?view=all")
        assert response.content.decode().count('name="cases"') == 25
        assert "Page 1 of 3" in response.content.decode()

    def test_bulk_assign_to_me_and_priority(self, agent_client, agent, supervisor):
        ours = [case(supervisor, owner=agent) for _ in range(2)]

        agent_client.post("/cases/bulk/", {"cases": [c.pk for c in ours], "action": "priority_high"})

        assert set(Case.objects.values_list("priority", flat=True)) == {CasePriority.HIGH}

    def test_bulk_cannot_touch_invisible_cases(self, agent_client, other_agent, supervisor):
        hidden = case(supervisor, owner=other_agent)

        agent_client.post("/cases/bulk/", {"cases": [hidden.pk], "action": "assign_to_me"})

        hidden.refresh_from_db()
        assert hidden.owner == other_agent

    def test_save_view(self, agent_client, agent):
        response = agent_client.post("/cases/views/", {"name": "My high ones", "view": "mine", "priority": "1"})
        assert response.status_code == 302
        saved = SavedView.objects.get(owner=agent)
        assert saved.filters == {"view": "mine", "status": "", "priority": "1", "q": ""}
        assert "My high ones" in agent_client.get("/cases/").content.decode()


class TestCasePage:
    def test_outsider_and_other_agents_are_refused(self, client, outsider, agent, other_agent, supervisor):
        theirs = case(supervisor, owner=other_agent)
        client.force_login(outsider)
        assert client.get(f"/cases/{theirs.pk}/").status_code == 403
        client.force_login(agent)
        assert client.get(f"/cases/{theirs.pk}/").status_code == 404
        assert client.post(f"/cases/{theirs.pk}/notes/", {"body": "x"}, **HTMX).status_code == 404
        assert client.post(f"/cases/{theirs.pk}/resolve/", {"resolution": "x"}).status_code == 404

    def test_page_shows_sla_timers_with_states(self, agent_client, agent, supervisor):
        now = timezone.now()
        mine = case(
            supervisor,
            owner=agent,
            first_response_by=now - timedelta(minutes=10),
            resolve_by=now + timedelta(minutes=30),
        )

        html = agent_client.get(f"/cases/{mine.pk}/").content.decode()

        assert "sla-timer sla-breached" in html and "sla-timer sla-warning" in html

    def test_hold_pauses_timers_and_resume(self, agent_client, agent, supervisor):
        mine = case(supervisor, owner=agent, resolve_by=timezone.now() + timedelta(hours=5))

        agent_client.post(f"/cases/{mine.pk}/hold/")
        assert "sla-timer sla-paused" in agent_client.get(f"/cases/{mine.pk}/").content.decode()
        agent_client.post(f"/cases/{mine.pk}/resume/")
        mine.refresh_from_db()
        assert mine.status == CaseStatus.IN_PROGRESS

    def test_edit_note_and_activity_fragments(self, agent_client, agent, supervisor):
        mine = case(supervisor, owner=agent)

        edited = agent_client.post(
            f"/cases/{mine.pk}/edit/",
            {
                "subject": "Router drops wifi nightly",
                "description": "",
                "priority": 1,
                "severity": 2,
                "owner": agent.pk,
            },
            **HTMX,
        )
        noted = agent_client.post(f"/cases/{mine.pk}/notes/", {"body": "Asked for firmware version"}, **HTMX)
        planned = agent_client.post(
            f"/cases/{mine.pk}/activities/", {"kind": "phone_call", "subject": "Call customer"}, **HTMX
        )

        mine.refresh_from_db()
        assert edited.status_code == 200 and mine.subject == "Router drops wifi nightly" and mine.priority == 1
        assert 'id="case-notes"' in noted.content.decode() and "Asked for firmware version" in noted.content.decode()
        assert "Call customer" in planned.content.decode()

    def test_resolve_requires_text_and_resolves(self, agent_client, agent, supervisor):
        mine = case(supervisor, owner=agent)
        assert agent_client.post(f"/cases/{mine.pk}/resolve/", {"resolution": ""}).status_code == 422
        agent_client.post(f"/cases/{mine.pk}/resolve/", {"resolution": "Firmware 2.2 fixed it"})
        mine.refresh_from_db()
        assert mine.status == CaseStatus.RESOLVED and mine.resolution == "Firmware 2.2 fixed it"
        assert "Firmware 2.2 fixed it" in agent_client.get(f"/cases/{mine.pk}/").content.decode()

    def test_merge_duplicate(self, agent_client, agent, supervisor):
        contact = ContactFactory()
        duplicate, original = (
            case(supervisor, owner=agent, contact=contact),
            case(supervisor, owner=agent, contact=contact),
        )

        response = agent_client.post(f"/cases/{duplicate.pk}/merge/", {"target": original.number.lower()})

        duplicate.refresh_from_db()
        assert response.status_code == 302 and response.url == f"/cases/{original.pk}/"
        assert duplicate.status == CaseStatus.CANCELLED and duplicate.merged_into == original

    def test_merge_into_unknown_case_shows_error(self, agent_client, agent, supervisor):
        mine = case(supervisor, owner=agent)
        response = agent_client.post(f"/cases/{mine.pk}/merge/", {"target": "CAS-999999"})
        assert response.status_code == 422 and b"No case with that number" in response.content

    def test_swarm_invite_gives_access_and_mentions_notify(self, client, agent, other_agent, supervisor):
        mine = case(supervisor, owner=agent, description="Customer's router reboots at 8pm")
        client.force_login(agent)

        response = client.post(f"/cases/{mine.pk}/swarm/", {"invitees": [other_agent.pk], "note": "Ideas?"}, **HTMX)
        assert response.status_code == 200 and "reboots at 8pm" in response.content.decode()

        client.force_login(other_agent)
        assert client.get(f"/cases/{mine.pk}/").status_code == 200
        client.post(f"/cases/{mine.pk}/discussion/", {"body": "@supervisor should we swap the unit?"}, **HTMX)
        assert Notification.objects.filter(recipient=supervisor, kind="mention").exists()

        client.force_login(supervisor)
        listing = client.get("/notifications/").content.decode()
        assert "mentioned you" in listing
        client.post("/notifications/read/")
        assert not Notification.objects.filter(recipient=supervisor, read_at__isnull=True).exists()


def test_complete_activity(agent_client, agent, supervisor):
    mine = case(supervisor, owner=agent)
    activity = services.activity_create(actor=agent, subject="Call back", kind="phone_call", case=mine)

    response = agent_client.post(f"/cases/{mine.pk}/activities/{activity.pk}/complete/", **HTMX)

    activity.refresh_from_db()
    assert response.status_code == 200 and activity.status == "completed"
    assert agent_client.post(f"/cases/{mine.pk}/activities/{activity.pk}/complete/", **HTMX).status_code == 404


def test_resolved_case_is_read_only(agent_client, agent, supervisor):
    mine = case(supervisor, owner=agent)
    services.case_resolve(case=mine, actor=agent, resolution="Replaced the unit")

    page = agent_client.get(f"/cases/{mine.pk}/").content.decode()
    refused = agent_client.post(f"/cases/{mine.pk}/notes/", {"body": "late note"}, **HTMX)

    assert "Add note" not in page and "Edit details" not in page and "Merge duplicate" not in page
    assert refused.status_code == 422

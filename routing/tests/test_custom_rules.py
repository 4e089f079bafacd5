"""Custom assignment semantics (B.23), the agent operators of B.26 and shift calendars (B.26–B.27)."""

import io
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from routing import demo, services
from routing.choices import AssignmentMethod, BasePresence, DiagnosticStage, OrderBy, WorkItemStatus
from routing.models import AgentShift, AssignmentRule, CapacityProfile, RouteRule, WorkItem
from routing.tests import factories as f

pytestmark = pytest.mark.django_db
BASE = "/api/v1/routing"
CAPACITY_AVAILABLE = {"field": "capacity", "op": "available"}
IS_WORKING = {"field": "calendar", "op": "is_working"}


def enqueue(body="Hello"):
    return services.conversation_enqueue(conversation=f.inbound(body))


def custom_queue(members, *rule_conditions, order_by=OrderBy.ROUND_ROBIN):
    queue = f.queue(members=members, assignment_method=AssignmentMethod.CUSTOM)
    for order, conditions in enumerate(rule_conditions, start=1):
        AssignmentRule.objects.create(queue=queue, name=f"Rule {order}", order=order, conditions=conditions,
                                      order_by=order_by)
    return queue


def book(agent, activity="Work", *, assignable=True, from_minutes=-60, to_minutes=60):
    now = timezone.now()
    return AgentShift.objects.create(agent=agent, activity=activity, assignable=assignable,
                                     starts_at=now + timedelta(minutes=from_minutes),
                                     ends_at=now + timedelta(minutes=to_minutes))


def rejected_reasons(trace):
    return {row["agent"]: row["reasons"] for row in trace["rejected"]}


def shift_queries(queries):
    return [q["sql"] for q in queries if "routing_agentshift" in q["sql"]]


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


# B.23: custom queues apply unit capacity only when a rule asks for it


def test_b23_custom_queue_exceeds_unit_capacity_when_no_rule_asks_and_books_it_as_forced():
    alice = f.agent("alice", capacity=1)
    f.stream(fallback=custom_queue([alice], []))

    first, second = enqueue("one"), enqueue("two")

    assert first.agent == alice and second.agent == alice and second.status == WorkItemStatus.OFFERED
    profile = f.profile_of(alice)
    assert (profile.used_units, profile.capacity_units, profile.forced_units) == (2, 1, 1)
    assert (first.forced_units, second.forced_units) == (0, 1)
    diagnostic = second.diagnostics.get(stage=DiagnosticStage.ASSIGNMENT)
    assert "1 unit(s) over capacity booked as forced" in diagnostic.summary
    assert diagnostic.detail["forced_units"] == 1


def test_b26_capacity_available_keeps_a_custom_queue_within_unit_capacity():
    alice = f.agent("alice", capacity=1)
    f.stream(fallback=custom_queue([alice], [CAPACITY_AVAILABLE]))

    first, second = enqueue("one"), enqueue("two")

    assert first.agent == alice and second.status == WorkItemStatus.QUEUED and second.agent is None
    assert f.profile_of(alice).forced_units == 0
    trace = services.workitem_explain(workitem=second)
    assert trace["chosen_agent"] is None
    assert rejected_reasons(trace) == {alice.pk: ["capacity 0 < 1"]}


def test_b23_capacity_profiles_are_still_enforced_for_custom_queues():
    alice = f.agent("alice", capacity=5)
    stream = f.stream(fallback=custom_queue([alice], []))
    stream.capacity_profiles.add(CapacityProfile.objects.create(name="One chat", default_limit=1))

    first, second = enqueue("one"), enqueue("two")

    assert first.agent == alice and second.status == WorkItemStatus.QUEUED
    assert rejected_reasons(services.workitem_explain(workitem=second)) == {alice.pk: ["capacity profile full"]}


def test_b23_offline_agents_are_never_offered_custom_work():
    ghost = f.agent("ghost", presence=BasePresence.OFFLINE)
    f.stream(fallback=custom_queue([ghost], []))

    item = enqueue()

    assert item.status == WorkItemStatus.QUEUED
    assert rejected_reasons(services.workitem_explain(workitem=item)) == {ghost.pk: ["not signed in (offline)"]}


# B.26–B.27: "calendar: is working"


def test_b27_is_working_picks_the_agent_on_shift_and_says_why_the_others_are_not():
    at_lunch, no_shift, on_shift = f.agent("at_lunch"), f.agent("no_shift"), f.agent("on_shift")
    book(at_lunch, "Lunch", assignable=False)
    book(no_shift, from_minutes=30, to_minutes=90)  # later today: not now
    book(on_shift)
    f.stream(fallback=custom_queue([at_lunch, no_shift, on_shift], [IS_WORKING]))

    item = enqueue()

    assert item.agent == on_shift
    trace = services.workitem_explain(workitem=item)
    assert trace["chosen_agent"] == on_shift.pk
    assert rejected_reasons(trace) == {at_lunch.pk: ["not working (Lunch)"], no_shift.pk: ["no shift"]}


def test_b25_agents_outside_their_shift_fall_to_the_next_rule():
    at_lunch = f.agent("at_lunch")
    book(at_lunch, "Lunch", assignable=False)
    f.stream(fallback=custom_queue([at_lunch], [IS_WORKING], []))

    assert enqueue().agent == at_lunch


@pytest.mark.parametrize("method", [AssignmentMethod.HIGHEST_CAPACITY, AssignmentMethod.ROUND_ROBIN,
                                    AssignmentMethod.LEAST_ACTIVE])
def test_b27_out_of_the_box_methods_never_consult_shifts(method):
    at_lunch, no_shift = f.agent("at_lunch"), f.agent("no_shift")
    book(at_lunch, "Lunch", assignable=False)
    f.stream(fallback=f.queue(members=[at_lunch, no_shift], assignment_method=method))

    with CaptureQueriesContext(connection) as queries:
        first, second = enqueue("one"), enqueue("two")

    assert {first.agent, second.agent} == {at_lunch, no_shift}
    assert shift_queries(queries.captured_queries) == []


def test_b27_shifts_are_read_in_one_query_only_when_a_custom_rule_asks():
    alice, bob = f.agent("alice"), f.agent("bob")
    book(alice)
    f.stream(fallback=custom_queue([alice, bob], [{"field": "presence", "op": "eq", "value": "available"}]))
    with CaptureQueriesContext(connection) as queries:
        enqueue("no calendar rule")
    assert shift_queries(queries.captured_queries) == []

    AssignmentRule.objects.update(conditions=[IS_WORKING])
    with CaptureQueriesContext(connection) as queries:
        item = enqueue("calendar rule")
    assert item.agent == alice
    assert len(shift_queries(queries.captured_queries)) == 1


def test_b27_dry_run_shows_not_working_and_no_shift(supervisor):
    at_lunch, no_shift = f.agent("at_lunch"), f.agent("no_shift")
    book(at_lunch, "Lunch", assignable=False)
    f.stream(fallback=custom_queue([at_lunch, no_shift], [IS_WORKING]))

    result = client_for(supervisor).post(f"{BASE}/work-streams/dry-run/", {"channel_kind": "webchat", "text": "Hi"},
                                         format="json").json()

    assert result["assignment"]["chosen_agent"] is None
    assert rejected_reasons(result["assignment"]) == {at_lunch.pk: ["not working (Lunch)"], no_shift.pk: ["no shift"]}
    assert not WorkItem.objects.exists()


def test_b27_admin_test_this_rule_shows_not_working(client):
    at_lunch = f.agent("at_lunch")
    book(at_lunch, "Training", assignable=False)
    f.stream(fallback=custom_queue([at_lunch], [IS_WORKING]))
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))

    response = client.post(reverse("admin:routing_workstream_dry_run"),
                           {"channel_kind": "webchat", "text": "Hi", "context": "{}"})

    assert response.status_code == 200 and "not working (Training)" in response.content.decode()


# B.26: the agent operators are validated like every condition


@pytest.mark.parametrize("condition", [
    {"field": "calendar", "op": "eq", "value": True},
    {"field": "capacity", "op": "is_working"},
    {"field": "presence", "op": "available"},
    {"field": "calendar", "op": "is_working", "value": "yes"},
])
def test_b26_agent_operators_are_validated(condition):
    rule = AssignmentRule(queue=f.queue(), name="Bad", conditions=[condition])
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert "conditions" in error.value.message_dict


def test_b26_agent_operators_are_not_work_item_conditions():
    rule = RouteRule(work_stream=f.stream(), name="Bad", queue=f.queue(), conditions=[IS_WORKING])
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert "conditions" in error.value.message_dict


# B.26: the shift calendar, through the API and the model


def test_b26_supervisor_books_shifts_and_the_api_refuses_bad_ones(supervisor):
    alice = f.agent("alice")
    api = client_for(supervisor)
    start = timezone.now().replace(microsecond=0)

    created = api.post(f"{BASE}/shifts/", {"agent": alice.pk, "starts_at": start.isoformat(),
                                           "ends_at": (start + timedelta(hours=4)).isoformat()}, format="json")
    backwards = api.post(f"{BASE}/shifts/", {"agent": alice.pk, "starts_at": start.isoformat(),
                                             "ends_at": (start - timedelta(hours=1)).isoformat()}, format="json")
    overlapping = api.post(f"{BASE}/shifts/", {
        "agent": alice.pk, "activity": "Lunch", "assignable": False,
        "starts_at": (start + timedelta(hours=3)).isoformat(), "ends_at": (start + timedelta(hours=5)).isoformat(),
    }, format="json")
    after = api.post(f"{BASE}/shifts/", {
        "agent": alice.pk, "activity": "Lunch", "assignable": False,
        "starts_at": (start + timedelta(hours=4)).isoformat(), "ends_at": (start + timedelta(hours=5)).isoformat(),
    }, format="json")

    assert created.status_code == 201, created.json()
    assert created.json()["activity"] == "Work" and created.json()["assignable"] is True
    assert backwards.status_code == 400 and "ends_at" in backwards.json()["error"]["fields"]
    assert overlapping.status_code == 400 and "starts_at" in overlapping.json()["error"]["fields"]
    assert after.status_code == 201, after.json()
    assert AgentShift.objects.filter(agent=alice).count() == 2


def test_b26_an_agent_reads_own_shifts_and_cannot_write_them(agent, other_agent):
    book(agent)
    book(other_agent)
    api = client_for(agent)

    listed = api.get(f"{BASE}/shifts/").json()
    start = timezone.now() + timedelta(days=1)
    refused = api.post(f"{BASE}/shifts/", {"agent": agent.pk, "starts_at": start.isoformat(),
                                           "ends_at": (start + timedelta(hours=1)).isoformat()}, format="json")

    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["agent"] for row in rows] == [agent.pk]
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"


def test_b26_the_database_refuses_overlapping_shifts_of_one_agent():
    alice, bob = f.agent("alice"), f.agent("bob")
    book(alice)
    book(bob)  # another agent's shift may overlap
    with pytest.raises(IntegrityError), transaction.atomic():
        book(alice, "Lunch", assignable=False, from_minutes=0, to_minutes=30)


def test_demo_books_todays_shifts_once():
    for username in demo.SHIFTS:
        get_user_model().objects.create_user(username=username)
    demo.seed(io.StringIO())
    demo.seed(io.StringIO())
    assert AgentShift.objects.count() == sum(len(bookings) for bookings in demo.SHIFTS.values())
    assert set(AgentShift.objects.filter(assignable=False).values_list("activity", flat=True)) == {"Lunch", "Training"}


# B.25–B.26: order by any agent field; compare an agent field with a work-item field


def test_b26_an_agent_condition_compares_with_a_work_item_field():
    english, french = f.agent("english", attributes={"language": "en"}), f.agent("french", attributes={"language": "fr"})
    f.stream(fallback=custom_queue([english, french], [
        {"field": "agent.language", "op": "eq", "value": {"item": "contact.language"}}, CAPACITY_AVAILABLE,
    ]))

    item = services.conversation_enqueue(conversation=f.inbound("Bonjour", contact_defaults={"language": "fr"}))

    assert item.agent == french
    trace = services.workitem_explain(workitem=item)
    assert rejected_reasons(trace)[english.pk] == ["agent.language not eq 'fr'"]


@pytest.mark.parametrize(("order_field", "expected"), [("agent.seniority", "junior"), ("-agent.seniority", "senior")])
def test_b25_a_rule_orders_its_agents_by_an_agent_field(order_field, expected):
    agents = [f.agent(name, attributes={"seniority": years}) for name, years in
              [("middle", 5), ("senior", 12), ("junior", 1)]] + [f.agent("unknown")]
    queue = f.queue(members=agents, assignment_method=AssignmentMethod.CUSTOM)
    AssignmentRule.objects.create(queue=queue, name="By seniority", order_by=OrderBy.AGENT_FIELD,
                                  order_field=order_field, conditions=[CAPACITY_AVAILABLE])
    f.stream(fallback=queue)

    assert enqueue().agent.username == expected


def test_dynamic_comparisons_and_order_fields_are_validated_through_the_api(supervisor):
    api, queue = client_for(supervisor), f.queue(assignment_method=AssignmentMethod.CUSTOM)

    reads_text = api.post(f"{BASE}/assignment-rules/", {"queue": queue.pk, "name": "Echo", "conditions": [
        {"field": "agent.language", "op": "eq", "value": {"item": "text"}}]}, format="json")
    too_deep = api.post(f"{BASE}/assignment-rules/", {"queue": queue.pk, "name": "Deep", "conditions": [
        {"field": "user.email", "op": "eq", "value": {"item": "contact.account.owner.email"}}]}, format="json")
    no_field = api.post(f"{BASE}/assignment-rules/", {"queue": queue.pk, "name": "Order",
                                                      "order_by": "agent_field"}, format="json")
    bad_field = api.post(f"{BASE}/assignment-rules/", {"queue": queue.pk, "name": "Order", "order_by": "agent_field",
                                                       "order_field": "presence"}, format="json")
    good = api.post(f"{BASE}/assignment-rules/", {"queue": queue.pk, "name": "Language", "order_by": "agent_field",
                                                  "order_field": "-agent.seniority", "conditions": [
                                                      {"field": "agent.language", "op": "eq",
                                                       "value": {"item": "contact.language"}}]}, format="json")

    assert reads_text.status_code == 400 and "conditions" in reads_text.json()["error"]["fields"]
    assert too_deep.status_code == 400 and "conditions" in too_deep.json()["error"]["fields"]
    assert no_field.status_code == 400 and "order_field" in no_field.json()["error"]["fields"]
    assert bad_field.status_code == 400 and "order_field" in bad_field.json()["error"]["fields"]
    assert good.status_code == 201, good.json()

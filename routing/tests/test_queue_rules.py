"""Queue rules: operating hours bring a locked overflow pair (E.58), where an item goes when every matched
queue overflows (A.7), preferred agents (B.33) and offers that cannot be rejected (B.30)."""

from datetime import datetime
from datetime import timezone as dt_timezone
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from routing import hours, services
from routing.choices import OverflowAction, OverflowCondition, OverflowStage, WorkItemStatus
from routing.exceptions import RejectNotAllowed
from routing.models import OperatingHours, OverflowRule, RouteRule
from routing.tests import factories as f

pytestmark = pytest.mark.django_db
BASE = "/api/v1/routing"
HTMX = {"HTTP_HX_REQUEST": "true"}
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def hours_pair(queue) -> OverflowRule:
    return OverflowRule.objects.get(queue=queue, stage=OverflowStage.PRE_QUEUE,
                                    condition=OverflowCondition.OUT_OF_HOURS)


def never_open() -> OperatingHours:
    return OperatingHours.objects.create(name="Never", weekly={})


def weekdays_from(opening: str) -> OperatingHours:
    return OperatingHours.objects.create(name=f"From {opening}", weekly={d: [[opening, "17:00"]] for d in WEEKDAYS})


def contact_prefers(conversation, *agents) -> None:
    contact = conversation.contact
    contact.attributes = {**contact.attributes, "preferred_agents": [a.pk for a in agents]}
    contact.save(update_fields=["attributes"])


# --- E.58: attaching operating hours creates the locked "out of operating hours" pair -----------

def test_e58_attaching_hours_creates_one_locked_pair_that_assigns_anyway():
    queue = f.queue("Support")
    assert not OverflowRule.objects.filter(queue=queue).exists()

    queue.operating_hours = weekdays_from("09:00")
    services.queue_save(queue=queue)
    services.queue_save(queue=queue)

    pair = hours_pair(queue)
    assert pair.action == OverflowAction.ASSIGN_ANYWAY and pair.is_locked
    assert OverflowRule.objects.filter(queue=queue).count() == 1


def test_e58_closed_queue_assigns_anyway_by_default():
    alice = f.agent("alice")
    stream = f.stream(fallback=f.queue("Fallback"))
    support = f.queue("Support", members=[alice], operating_hours=never_open())
    RouteRule.objects.create(work_stream=stream, name="All", queue=support)
    item = services.conversation_enqueue(conversation=f.inbound("hello"))
    assert item.queue == support and item.status == WorkItemStatus.OFFERED and item.agent == alice
    assert item.diagnostics.get(stage="overflow").summary == "queue is outside its operating hours: assigned anyway"


def test_e58_an_existing_pair_keeps_its_action_and_removing_hours_removes_it_but_not_rule_pairs():
    after_hours, queue = f.queue("After hours"), f.queue("Support")
    OverflowRule.objects.create(queue=queue, condition=OverflowCondition.OUT_OF_HOURS,
                                action=OverflowAction.TRANSFER_QUEUE, target_queue=after_hours)
    rule = RouteRule.objects.create(work_stream=f.stream(), name="VIP", queue=queue)
    own = OverflowRule.objects.create(route_rule=rule, condition=OverflowCondition.OUT_OF_HOURS,
                                      action=OverflowAction.END)

    queue.operating_hours = never_open()
    services.queue_save(queue=queue)
    assert hours_pair(queue).action == OverflowAction.TRANSFER_QUEUE  # kept, now locked

    queue.operating_hours = None
    services.queue_save(queue=queue)
    assert not OverflowRule.objects.filter(queue=queue).exists()
    assert OverflowRule.objects.filter(pk=own.pk).exists()  # rule-specific pairs are not affected


def test_e58_the_locked_pair_keeps_its_condition_while_its_action_changes():
    after_hours = f.queue("After hours")
    pair = hours_pair(f.queue("Support", operating_hours=never_open()))

    pair.condition, pair.threshold = OverflowCondition.ITEM_LIMIT, 5
    with pytest.raises(ValidationError) as error:
        pair.full_clean()
    assert "condition" in error.value.message_dict

    pair.refresh_from_db()
    pair.action, pair.target_queue = OverflowAction.TRANSFER_QUEUE, after_hours
    pair.full_clean()
    pair.save()
    assert hours_pair(pair.queue).target_queue == after_hours


def test_e58_api_queue_with_hours_gets_the_pair_which_cannot_be_deleted_or_doubled(supervisor):
    api = api_for(supervisor)
    created = api.post(f"{BASE}/queues/", {"name": "Support", "operating_hours": weekdays_from("09:00").pk},
                       format="json")
    assert created.status_code == 201
    queue_id = created.json()["id"]
    [pair] = api.get(f"{BASE}/overflow-rules/", {"queue": queue_id}).json()["results"]
    assert pair["condition"] == "out_of_hours" and pair["action"] == "assign_anyway" and pair["is_locked"]
    url = f"{BASE}/overflow-rules/{pair['id']}/"

    changed = api.patch(url, {"condition": "item_limit", "threshold": 3}, format="json")
    assert changed.status_code == 400 and "condition" in changed.json()["error"]["fields"]
    second = api.post(f"{BASE}/overflow-rules/", {"queue": queue_id, "condition": "out_of_hours", "action": "end"},
                      format="json")
    assert second.status_code == 400 and "condition" in second.json()["error"]["fields"]
    deleted = api.delete(url)
    assert deleted.status_code == 403 and deleted.json()["error"]["code"] == "not_permitted"
    assert api.patch(url, {"action": "end", "message": "We are closed."}, format="json").json()["action"] == "end"

    assert api.patch(f"{BASE}/queues/{queue_id}/", {"operating_hours": None}, format="json").status_code == 200
    assert not OverflowRule.objects.filter(queue_id=queue_id).exists()


def test_e58_deleting_the_hours_removes_the_pair(supervisor):
    calendar = weekdays_from("09:00")
    queue = f.queue("Support", operating_hours=calendar)
    assert api_for(supervisor).delete(f"{BASE}/operating-hours/{calendar.pk}/").status_code == 204
    queue.refresh_from_db()
    assert queue.operating_hours is None and not OverflowRule.objects.filter(queue=queue).exists()


def test_e58_api_refuses_an_out_of_hours_pair_on_a_queue_without_hours(supervisor):
    queue = f.queue("Support")
    response = api_for(supervisor).post(
        f"{BASE}/overflow-rules/", {"queue": queue.pk, "condition": "out_of_hours", "action": "end"}, format="json")
    assert response.status_code == 400 and "condition" in response.json()["error"]["fields"]


def test_e58_admin_creates_the_pair_shows_it_locked_and_refuses_its_deletion():
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    inlines = {f"{prefix}-{key}": value for prefix in ("overflow_rules", "prioritization_rules", "assignment_rules")
               for key, value in (("TOTAL_FORMS", 0), ("INITIAL_FORMS", 0))}
    response = client.post(reverse("admin:routing_queue_add"), {
        "name": "Support", "kind": "messaging", "priority": 10, "operating_hours": weekdays_from("09:00").pk,
        "service_level_seconds": 60, "short_abandon_seconds": 10, "is_active": "on", **inlines,
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    pair = OverflowRule.objects.get(queue__name="Support")
    assert pair.is_locked and pair.action == OverflowAction.ASSIGN_ANYWAY

    change = client.get(reverse("admin:routing_queue_change", args=[pair.queue_id])).content.decode()
    assert 'name="overflow_rules-0-condition" disabled' in change
    assert client.get(reverse("admin:routing_overflowrule_delete", args=[pair.pk])).status_code == 403


# --- A.7: every matched queue overflows ----------------------------------------------------------

def test_a7_all_matched_queues_overflow_the_item_goes_to_an_open_one_and_its_action_fires():
    closed, busy = f.queue("Closed", operating_hours=never_open()), f.queue("Busy")
    closed_overflow, busy_overflow = f.queue("Closed overflow"), f.queue("Busy overflow")
    OverflowRule.objects.filter(queue=closed).update(action=OverflowAction.TRANSFER_QUEUE, target_queue=closed_overflow)
    OverflowRule.objects.create(queue=busy, condition=OverflowCondition.ITEM_LIMIT, threshold=1,
                                action=OverflowAction.TRANSFER_QUEUE, target_queue=busy_overflow)
    stream = f.stream(fallback=f.queue("Fallback"))
    RouteRule.objects.create(work_stream=stream, name="Closed first", order=1, queue=closed)
    RouteRule.objects.create(work_stream=stream, name="Busy second", order=2, queue=busy)

    first = services.conversation_enqueue(conversation=f.inbound("one"))
    second = services.conversation_enqueue(conversation=f.inbound("two"))

    assert first.queue == busy
    assert second.queue == busy_overflow  # Busy is open, so it is chosen and its own action fires
    route = second.diagnostics.get(stage="route_to_queue").detail
    assert route["all_overflowing"] and route["chosen"] == {"queue": "Busy", "why": "open now"}


def test_a7_all_matched_queues_closed_the_item_goes_to_the_one_opening_earliest():
    late = f.queue("Late", operating_hours=weekdays_from("11:00"))
    early = f.queue("Early", operating_hours=weekdays_from("09:00"))
    for queue in (late, early):
        OverflowRule.objects.filter(queue=queue).update(
            action=OverflowAction.TRANSFER_QUEUE, target_queue=f.queue(f"{queue.name} after hours"))
    stream = f.stream(fallback=f.queue("Fallback"))
    RouteRule.objects.create(work_stream=stream, name="Late first", order=1, queue=late)
    RouteRule.objects.create(work_stream=stream, name="Early second", order=2, queue=early)
    conversation = f.inbound("hello")

    monday_early = datetime(2026, 12, 7, 6, 0, tzinfo=dt_timezone.utc)
    with mock.patch("django.utils.timezone.now", return_value=monday_early):
        item = services.conversation_enqueue(conversation=conversation)

    assert item.queue.name == "Early after hours"
    route = item.diagnostics.get(stage="route_to_queue").detail
    assert route["chosen"] == {"queue": "Early", "why": "opens earliest, at 2026-12-07T09:00:00+00:00"}


def test_a7_next_opening_is_dst_safe():
    berlin = OperatingHours.objects.create(name="Berlin Sundays", timezone="Europe/Berlin",
                                           weekly={"sun": [["02:30", "18:00"]]})
    # Spring: 02:30 does not exist on 29 March 2026; the queue opens when the clocks jump to 03:00 (+30 min).
    spring = hours.next_opening(berlin, datetime(2026, 3, 29, 0, 15, tzinfo=dt_timezone.utc))
    assert spring == datetime(2026, 3, 29, 1, 30, tzinfo=dt_timezone.utc) and hours.is_open(berlin, spring)
    # Autumn: the Saturday-evening wait to Sunday 09:00 is one hour longer (25 h day), still 09:00 local.
    berlin.weekly = {"sun": [["09:00", "17:00"]]}
    autumn = hours.next_opening(berlin, datetime(2026, 10, 24, 20, 0, tzinfo=dt_timezone.utc))
    assert autumn == datetime(2026, 10, 25, 8, 0, tzinfo=dt_timezone.utc)
    # In the repeated hour, an opening at 02:20 that passed in summer time comes again in winter time.
    berlin.weekly = {"sun": [["02:20", "02:25"]]}
    repeated = hours.next_opening(berlin, datetime(2026, 10, 25, 1, 10, tzinfo=dt_timezone.utc))
    assert repeated.astimezone(dt_timezone.utc) == datetime(2026, 10, 25, 1, 20, tzinfo=dt_timezone.utc)


# --- B.33: preferred agents ----------------------------------------------------------------------

def test_b33_the_first_available_preferred_member_gets_the_item_first():
    alice, bob, carol = f.agent("alice", capacity=5), f.agent("bob", capacity=0), f.agent("carol", capacity=1)
    f.stream(fallback=f.queue("Support", members=[alice, bob, carol]), preferred_agents_first=True)
    conversation = f.inbound("I want my usual agent")
    contact_prefers(conversation, bob, carol)

    item = services.conversation_enqueue(conversation=conversation)

    # Highest capacity would pick Alice; Bob, preferred first, has no room: Carol, not Bob over capacity.
    assert item.agent == carol
    assert item.diagnostics.get(stage="assignment").detail["chosen_by"] == "preferred agent"
    assert f.profile_of(bob).forced_units == 0


def test_b33_no_preferred_agent_available_assigns_normally_by_default():
    alice, bob = f.agent("alice"), f.agent("bob", presence="away")
    f.stream(fallback=f.queue("Support", members=[alice, bob]), preferred_agents_first=True)
    conversation = f.inbound("hello")
    contact_prefers(conversation, bob)

    item = services.conversation_enqueue(conversation=conversation)

    assert item.agent == alice and item.preferred_agents == [bob.pk]
    assert item.diagnostics.get(stage="assignment").detail["preferred_agents"] == "none available: assigned normally"


def test_b33_with_wait_the_item_is_offered_only_to_a_preferred_agent():
    alice, bob = f.agent("alice"), f.agent("bob", presence="away")
    f.stream(fallback=f.queue("Support", members=[alice, bob]), preferred_agents_first=True,
             preferred_agents_fallback="wait")
    conversation = f.inbound("hello")
    contact_prefers(conversation, bob)

    item = services.conversation_enqueue(conversation=conversation)
    assert item.status == WorkItemStatus.QUEUED and item.agent is None
    assert services.workitem_explain(workitem=item)["chosen_by"] == "waiting for a preferred agent"
    dry_run = services.routing_dry_run(channel_kind="webchat", text="hello", contact=conversation.contact)
    assert dry_run["assignment"]["chosen_by"] == "waiting for a preferred agent"

    services.presence_set(agent=bob, presence="available")
    item.refresh_from_db()
    assert item.status == WorkItemStatus.OFFERED and item.agent == bob


def test_b33_work_stream_fallback_is_validated(supervisor):
    api, queue = api_for(supervisor), f.queue("Support")
    base = {"name": "Chat", "channel_kind": "webchat", "fallback_queue": queue.pk}
    wait_alone = api.post(f"{BASE}/work-streams/", {**base, "preferred_agents_fallback": "wait"}, format="json")
    assert wait_alone.status_code == 400 and "preferred_agents_fallback" in wait_alone.json()["error"]["fields"]
    unknown = api.post(f"{BASE}/work-streams/", {**base, "preferred_agents_fallback": "sometimes"}, format="json")
    assert unknown.status_code == 400 and "preferred_agents_fallback" in unknown.json()["error"]["fields"]
    created = api.post(f"{BASE}/work-streams/", {**base, "preferred_agents_first": True,
                                                  "preferred_agents_fallback": "wait"}, format="json")
    assert created.status_code == 201 and created.json()["preferred_agents_fallback"] == "wait"


# --- B.30: Reject can be hidden ------------------------------------------------------------------

def test_b30_with_reject_hidden_the_offer_has_no_decline_and_declining_is_refused(supervisor):
    alice = f.agent("alice")
    f.stream(fallback=f.queue("Support", members=[alice]), reject_allowed=False)
    item = services.conversation_enqueue(conversation=f.inbound("hello"))
    assert item.status == WorkItemStatus.OFFERED and item.agent == alice
    client = Client()
    client.force_login(alice)

    dialog = client.get("/").content.decode()
    assert f'id="offer-{item.pk}"' in dialog and "Accept" in dialog and "Decline offer" not in dialog
    with pytest.raises(RejectNotAllowed):
        services.offer_decline(workitem=item, agent=alice)
    refused = client.post(f"/workspace/offers/{item.pk}/decline/", {"reason": "busy"}, **HTMX)
    assert refused.status_code == 422 and "cannot be rejected" in refused.content.decode()
    answer = api_for(alice).post(f"{BASE}/work-items/{item.pk}/decline/", {}, format="json")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "reject_not_allowed"
    item.refresh_from_db()
    assert item.status == WorkItemStatus.OFFERED and item.decline_count == 0


def test_b30_with_auto_accept_the_item_opens_directly_and_there_is_nothing_to_reject():
    alice = f.agent("alice")
    f.stream(fallback=f.queue("Support", members=[alice]), auto_accept=True)
    item = services.conversation_enqueue(conversation=f.inbound("hello"))
    assert item.status == WorkItemStatus.ASSIGNED and item.agent == alice
    client = Client()
    client.force_login(alice)
    assert f'id="offer-{item.pk}"' not in client.get("/").content.decode()
    assert client.post(f"/workspace/offers/{item.pk}/decline/", {"reason": "busy"}, **HTMX).status_code == 404

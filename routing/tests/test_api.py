"""The routing API: configuration with the admin's validation, work items, presence, stats, JSON errors."""

import pytest
from rest_framework.test import APIClient

from routing import services
from routing.choices import WorkItemStatus
from routing.models import Presence, Queue, WorkStream
from routing.services.presence import presence_builtin
from routing.tests import factories as f

pytestmark = pytest.mark.django_db
BASE = "/api/v1/routing"


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_anonymous_and_outsiders_are_refused(outsider):
    assert APIClient().get(f"{BASE}/queues/").status_code in (401, 403)
    response = client_for(outsider).get(f"{BASE}/queues/")
    assert response.status_code == 403 and response.json()["error"]["code"] == "permission_denied"


def test_supervisor_configures_queue_stream_and_rules(supervisor):
    api = client_for(supervisor)
    queue = api.post(f"{BASE}/queues/", {"name": "Orders & Returns", "priority": 2}, format="json")
    assert queue.status_code == 201, queue.json()
    stream = api.post(f"{BASE}/work-streams/", {
        "name": "Chat", "channel_kind": "webchat", "kind": "messaging", "fallback_queue": queue.json()["id"],
        "allowed_presences": ["available", "busy"],
    }, format="json")
    assert stream.status_code == 201, stream.json()
    rule = api.post(f"{BASE}/route-rules/", {
        "work_stream": stream.json()["id"], "name": "Returns", "queue": queue.json()["id"],
        "conditions": [{"field": "text", "op": "contains_any", "value": ["refund"]}],
    }, format="json")
    assert rule.status_code == 201, rule.json()
    changed = api.patch(f"{BASE}/work-streams/{stream.json()['id']}/", {"distribution_mode": "pick"}, format="json")
    assert changed.status_code == 400
    assert "distribution_mode" in changed.json()["error"]["fields"]


def test_invalid_configuration_gets_field_errors(supervisor):
    api = client_for(supervisor)
    q = f.queue()
    bad_split = api.post(f"{BASE}/route-rules/", {
        "work_stream": f.stream().pk, "name": "Split",
        "split": [{"queue": q.pk, "percent": 60}, {"queue": q.pk, "percent": 30}],
    }, format="json")
    assert bad_split.status_code == 400 and "split" in bad_split.json()["error"]["fields"]
    bad_condition = api.post(f"{BASE}/classification-rules/", {
        "ruleset": api.post(f"{BASE}/classification-rulesets/", {"work_stream": WorkStream.objects.first().pk,
                                                                  "name": "R"}, format="json").json()["id"],
        "name": "Deep", "conditions": [{"field": "contact.account.owner.email", "op": "eq", "value": "x"}],
    }, format="json")
    assert bad_condition.status_code == 400
    overflow = api.post(f"{BASE}/overflow-rules/", {
        "queue": q.pk, "stage": "in_queue", "condition": "wait_exceeds", "threshold": 10, "action": "end",
    }, format="json")
    assert overflow.status_code == 400 and "threshold" in overflow.json()["error"]["fields"]
    hours = api.post(f"{BASE}/operating-hours/", {"name": "X", "timezone": "Mars/Olympus", "weekly": {}}, format="json")
    assert hours.status_code == 400 and "timezone" in hours.json()["error"]["fields"]


def test_agents_read_config_but_cannot_change_it(agent):
    api = client_for(agent)
    assert api.get(f"{BASE}/work-streams/").status_code == 200
    assert api.post(f"{BASE}/queues/", {"name": "Mine"}, format="json").status_code == 403


def test_builtin_presence_cannot_be_deleted(supervisor):
    available = presence_builtin("available")
    response = client_for(supervisor).delete(f"{BASE}/presences/{available.pk}/")
    assert response.status_code == 403 and Presence.objects.filter(pk=available.pk).exists()


def test_agent_sets_presence_and_answers_offers_over_the_api(agent, django_assert_max_num_queries):
    queue = f.queue(members=[agent])
    f.stream(fallback=queue)
    api = client_for(agent)
    me = api.get(f"{BASE}/agents/me/").json()
    assert me["presence_base"] == "offline"
    response = api.post(f"{BASE}/agents/{me['id']}/presence/", {"presence": "available"}, format="json")
    assert response.status_code == 200 and response.json()["presence_base"] == "available"

    item = services.conversation_enqueue(conversation=f.inbound("Hello"))
    assert item.status == WorkItemStatus.OFFERED
    with django_assert_max_num_queries(8):
        listing = api.get(f"{BASE}/work-items/")
    assert [row["id"] for row in listing.json()["results"]] == [item.pk]
    accepted = api.post(f"{BASE}/work-items/{item.pk}/accept/")
    assert accepted.status_code == 200 and accepted.json()["status"] == "assigned"
    again = api.post(f"{BASE}/work-items/{item.pk}/accept/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "offer_not_pending"
    diagnostics = api.get(f"{BASE}/work-items/{item.pk}/diagnostics/").json()
    assert [d["stage"] for d in diagnostics] == ["classification", "route_to_queue", "assignment"]


def test_other_agents_do_not_see_someone_elses_items(agent, other_agent):
    f.stream(fallback=f.queue(members=[agent]))
    services.agent_profile_ensure(agent=agent)
    services.presence_set(agent=agent, presence="available")
    item = services.conversation_enqueue(conversation=f.inbound("Hello"))
    response = client_for(other_agent).get(f"{BASE}/work-items/{item.pk}/")
    assert response.status_code == 404
    decline = client_for(other_agent).post(f"{BASE}/work-items/{item.pk}/decline/", {}, format="json")
    assert decline.status_code == 404


def test_supervisor_sees_queue_stats_and_force_assigns(supervisor, agent):
    queue = f.queue("Stats", members=[agent])
    f.stream(fallback=queue)
    item = services.conversation_enqueue(conversation=f.inbound("Hello"))
    api = client_for(supervisor)
    stats = api.get(f"{BASE}/queues/stats/").json()
    assert {"name": "Stats", "queued": 1} .items() <= next(s for s in stats if s["queue_id"] == queue.pk).items()
    explain = api.get(f"{BASE}/work-items/{item.pk}/explain/").json()
    assert explain["chosen_agent"] is None
    response = api.post(f"{BASE}/work-items/{item.pk}/force-assign/", {"agent": agent.pk}, format="json")
    assert response.status_code == 200 and response.json()["agent"] == agent.pk


def test_queue_membership_through_the_api_runs_assignment(supervisor):
    queue = f.queue("Join")
    f.stream(fallback=queue)
    item = services.conversation_enqueue(conversation=f.inbound("Hello"))
    alice = f.agent("alice")
    response = client_for(supervisor).post(f"{BASE}/queues/{queue.pk}/members/add/", {"agent": alice.pk}, format="json")
    assert response.status_code == 200 and response.json()["members"] == [alice.pk]
    item.refresh_from_db()
    assert item.agent == alice
    assert Queue.objects.get(pk=queue.pk).members.count() == 1

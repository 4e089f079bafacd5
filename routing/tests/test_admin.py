"""The routing admin: every page renders, the dry run explains, capacity edits keep the invariant."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from routing import models, services
from routing.choices import WorkItemStatus
from routing.tests import factories as f

pytestmark = pytest.mark.django_db
ADMIN_MODELS = [
    "operatinghours", "queue", "skill", "agentskill", "presence", "capacityprofile", "workstream", "agentprofile",
    "classificationruleset", "routerule", "overflowrule", "assignmentrule", "workitem", "routingdiagnostic",
    "effortmodel", "agentshift", "prioritizationrule", "autoclosetimer",
]


@pytest.fixture
def admin_client_logged(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_admin_changelists_render(admin_client_logged, model):
    alice = f.agent("alice")
    f.stream(fallback=f.queue(members=[alice]))
    services.conversation_enqueue(conversation=f.inbound("hello"))
    assert admin_client_logged.get(reverse(f"admin:routing_{model}_changelist")).status_code == 200


def test_admin_dry_run_shows_queue_and_agent(admin_client_logged):
    alice = f.agent("alice")
    orders = f.queue("Orders & Returns", members=[alice])
    stream = f.stream(fallback=f.queue("General"))
    models.RouteRule.objects.create(work_stream=stream, name="Returns", queue=orders,
                                    conditions=[{"field": "text", "op": "contains", "value": "refund"}])
    url = reverse("admin:routing_workstream_dry_run")
    assert admin_client_logged.get(url).status_code == 200
    response = admin_client_logged.post(url, {"channel_kind": "webchat", "text": "I want a refund", "context": "{}"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Orders &amp; Returns" in body and "alice" in body
    assert not models.WorkItem.objects.exists()  # a dry run writes nothing


def test_api_dry_run(supervisor):
    bob = f.agent("bob", presence="away")
    f.stream(fallback=f.queue("General", members=[bob]))
    client = APIClient()
    client.force_authenticate(supervisor)
    result = client.post("/api/v1/routing/work-streams/dry-run/", {"channel_kind": "webchat", "text": "Hi"},
                         format="json").json()
    assert result["queue"] == "General"
    assert result["assignment"]["chosen_agent"] is None
    assert result["assignment"]["rejected"] == [{"agent": bob.pk, "reasons": ["presence away"]}]


def test_admin_lowering_capacity_below_load_keeps_the_work(admin_client_logged):
    alice = f.agent("alice", capacity=2)
    f.stream(fallback=f.queue(members=[alice]), auto_accept=True)
    services.conversation_enqueue(conversation=f.inbound("one"))
    services.conversation_enqueue(conversation=f.inbound("two"))
    profile = f.profile_of(alice)
    url = reverse("admin:routing_agentprofile_change", args=[profile.pk])
    response = admin_client_logged.post(url, {
        "user": alice.pk, "presence": profile.presence_id, "capacity_units": 1, "attributes": "{}",
        "profile_capacities-TOTAL_FORMS": 0, "profile_capacities-INITIAL_FORMS": 0,
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    profile.refresh_from_db()
    assert (profile.capacity_units, profile.used_units, profile.forced_units) == (1, 2, 1)
    assert models.WorkItem.objects.filter(status=WorkItemStatus.ASSIGNED, agent=alice).count() == 2

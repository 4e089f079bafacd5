"""System defaults of routing configuration: default queues (A.2), voice queues' method (B.22), D.42."""

import pytest
from rest_framework.test import APIClient

from routing.choices import AssignmentMethod, CapacityReset, QueueKind
from routing.models import CapacityProfile, Queue, WorkStream
from routing.tests import factories as f

pytestmark = pytest.mark.django_db
BASE = "/api/v1/routing"


@pytest.fixture
def api(supervisor):
    client = APIClient()
    client.force_authenticate(supervisor)
    return client


def test_a2_each_queue_kind_has_one_system_default_queue():
    defaults = Queue.objects.filter(is_default=True)
    assert sorted(defaults.values_list("kind", flat=True)) == sorted(QueueKind.values)
    assert Queue.default_for(QueueKind.VOICE).assignment_method == AssignmentMethod.LEAST_ACTIVE


def test_a2_a_new_work_stream_defaults_to_the_default_queue_of_its_type(api):
    created = api.post(f"{BASE}/work-streams/", {"name": "Calls", "channel_kind": "voice", "kind": "voice"},
                       format="json")

    assert created.status_code == 201, created.json()
    assert created.json()["fallback_queue"] == Queue.default_for(QueueKind.VOICE).pk
    assert WorkStream.objects.create(name="Mail", channel_kind="email", kind=QueueKind.RECORD).fallback_queue == (
        Queue.default_for(QueueKind.RECORD)
    )


def test_a2_a_default_queue_cannot_be_deleted_and_a_queue_in_use_answers_409(api):
    default = Queue.default_for(QueueKind.MESSAGING)
    in_use = f.queue("In use")
    f.stream(fallback=in_use)

    refused = api.delete(f"{BASE}/queues/{default.pk}/")
    protected = api.delete(f"{BASE}/queues/{in_use.pk}/")

    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_permitted"
    assert protected.status_code == 409 and protected.json()["error"]["code"] == "in_use"
    assert Queue.objects.filter(pk__in=[default.pk, in_use.pk]).count() == 2


def test_b22_least_active_is_the_default_method_of_new_voice_queues(api):
    voice = api.post(f"{BASE}/queues/", {"name": "Phones", "kind": "voice"}, format="json")
    chat = api.post(f"{BASE}/queues/", {"name": "Chats"}, format="json")
    chosen = api.post(f"{BASE}/queues/", {"name": "Phones RR", "kind": "voice", "assignment_method": "round_robin"},
                      format="json")

    assert voice.json()["assignment_method"] == AssignmentMethod.LEAST_ACTIVE
    assert chat.json()["assignment_method"] == AssignmentMethod.HIGHEST_CAPACITY
    assert chosen.json()["assignment_method"] == AssignmentMethod.ROUND_ROBIN


def test_d42_the_reset_frequency_cannot_be_edited_after_creation(api):
    profile = CapacityProfile.objects.create(name="Cases per day", default_limit=5, reset=CapacityReset.END_OF_DAY)

    changed = api.patch(f"{BASE}/capacity-profiles/{profile.pk}/", {"reset": "immediate"}, format="json")
    renamed = api.patch(f"{BASE}/capacity-profiles/{profile.pk}/", {"default_limit": 6}, format="json")

    assert changed.status_code == 400 and "reset" in changed.json()["error"]["fields"]
    assert renamed.status_code == 200
    profile.refresh_from_db()
    assert profile.reset == CapacityReset.END_OF_DAY and profile.default_limit == 6

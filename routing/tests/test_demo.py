import io

import pytest
from django.contrib.auth import get_user_model

from routing import demo, services
from routing.models import AgentProfile, Queue, WorkStream
from routing.tests import factories as f

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent_and_routes_a_returns_chat():
    agent1 = get_user_model().objects.create_user(username="agent1")
    out = io.StringIO()
    demo.seed(out)
    demo.seed(out)
    assert "agent2 missing" in out.getvalue()
    assert set(Queue.objects.values_list("name", flat=True)) >= {
        "General Support", "Orders & Returns", "Technical Support", "VIP", "Voice"}
    assert WorkStream.objects.count() == 5
    for stream in WorkStream.objects.all():
        stream.full_clean()
    assert AgentProfile.objects.filter(user=agent1).count() == 1
    services.presence_set(agent=agent1, presence="available")
    item = services.conversation_enqueue(conversation=f.inbound("I'd like to return my headphones for a refund"))
    assert item.queue.name == "Orders & Returns" and item.agent == agent1

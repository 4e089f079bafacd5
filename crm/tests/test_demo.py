"""The demo seed: idempotent, and its logins are the ones README documents."""

import io

import pytest
from django.contrib.auth import authenticate

from crm import demo
from crm.models import CannedResponse, Case, Conversation

pytestmark = pytest.mark.django_db


def test_seed_twice_creates_everything_once_and_prints_logins():
    out = io.StringIO()
    demo.seed(out)
    counts = (Conversation.objects.count(), Case.objects.count(), CannedResponse.objects.count())
    demo.seed(io.StringIO())

    assert (Conversation.objects.count(), Case.objects.count(), CannedResponse.objects.count()) == counts
    assert counts[0] >= 8 and counts[1] >= 8
    assert "agent1" in out.getvalue() and "agent-demo-pass" in out.getvalue()
    for username, password, *_rest in demo.USERS:
        assert authenticate(username=username, password=password) is not None
    statuses = set(Conversation.objects.values_list("status", flat=True))
    assert {"active", "waiting", "wrap_up", "closed", "open"} <= statuses

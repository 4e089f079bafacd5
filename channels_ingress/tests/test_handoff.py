"""After an inbound message is stored, its conversation goes to routing (channels → crm → routing)."""

import pytest

from channels_ingress.tests.test_sms import URL, inbound, post_signed
from crm.models import Message
from routing.choices import WorkItemStatus
from routing.models import WorkItem
from routing.tests import factories

pytestmark = pytest.mark.django_db


def test_an_inbound_sms_is_routed_and_offered_to_an_available_agent(client, sms_channel, django_capture_on_commit_callbacks):
    agent = factories.agent("sms.agent")
    factories.stream(channel="sms", fallback=factories.queue("SMS support", members=[agent]))

    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(client, URL, inbound()).status_code == 200

    item = WorkItem.objects.select_related("conversation").get()
    assert item.conversation == Message.objects.get().conversation
    assert item.status == WorkItemStatus.OFFERED and item.agent == agent


def test_a_retried_webhook_is_not_routed_twice(client, sms_channel, django_capture_on_commit_callbacks):
    agent = factories.agent("sms.agent")
    factories.stream(channel="sms", fallback=factories.queue("SMS support", members=[agent]))

    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert post_signed(client, URL, inbound()).status_code == 200

    assert WorkItem.objects.count() == 1


def test_without_a_work_stream_the_message_is_kept_and_waits_unrouted(client, sms_channel, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(client, URL, inbound()).status_code == 200

    assert Message.objects.get().conversation.status == "open"
    assert not WorkItem.objects.exists()

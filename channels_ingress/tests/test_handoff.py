"""After an inbound message is stored, its conversation goes to routing (channels → crm → routing).

A conversation that needs a person is never left unrouted: the ingest flags it
(``needs_routing``) and the routing sweep retries it when the after-commit
hand-off did not run or its channel had no work stream yet.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from channels_ingress.models import EmailChannel
from channels_ingress.tests.test_email import AUTO_REPLY, SECRET, post_raw
from channels_ingress.tests.test_sms import URL, inbound, post_signed
from crm.models import Conversation, Message
from routing import services
from routing.choices import WorkItemStatus
from routing.models import WorkItem
from routing.services.cache import config_cache_clear
from routing.services.sweep import ROUTING_RETRY_AFTER_SECONDS
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


def _sweep_later():
    return services.routing_sweep(now=timezone.now() + timedelta(seconds=ROUTING_RETRY_AFTER_SECONDS + 1))


def test_ingest_without_a_work_stream_is_routed_by_the_sweep_once_one_exists(client, sms_channel,
                                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(client, URL, inbound()).status_code == 200
    conversation = Conversation.objects.get()
    assert conversation.needs_routing and not WorkItem.objects.exists()

    waiting = _sweep_later()
    conversation.refresh_from_db()
    assert waiting.awaiting_work_stream == 1 and waiting.routing_retried == 0
    assert conversation.needs_routing and not WorkItem.objects.exists()

    agent = factories.agent("sms.agent")
    factories.stream(channel="sms", fallback=factories.queue("SMS support", members=[agent]))
    config_cache_clear()  # routing configuration is cached for a few seconds; that has passed
    routed = _sweep_later()

    conversation.refresh_from_db()
    item = WorkItem.objects.get()
    assert routed.routing_retried == 1 and routed.awaiting_work_stream == 0
    assert item.conversation == conversation and item.agent == agent and item.status == WorkItemStatus.OFFERED
    assert not conversation.needs_routing


def test_a_flagged_conversation_whose_after_commit_enqueue_never_ran_is_routed_by_the_sweep(
    client, sms_channel, django_capture_on_commit_callbacks
):
    agent = factories.agent("sms.agent")
    factories.stream(channel="sms", fallback=factories.queue("SMS support", members=[agent]))
    with django_capture_on_commit_callbacks(execute=False):  # the process dies right after commit
        assert post_signed(client, URL, inbound()).status_code == 200

    soon = services.routing_sweep()
    assert soon.routing_retried == 0 and not WorkItem.objects.exists()  # the normal hand-off gets its chance
    later = _sweep_later()

    item = WorkItem.objects.get()
    assert later.routing_retried == 1 and item.agent == agent and item.status == WorkItemStatus.OFFERED
    assert not Conversation.objects.get().needs_routing


def test_a_routed_conversation_is_no_longer_flagged(client, sms_channel, django_capture_on_commit_callbacks):
    factories.stream(channel="sms", fallback=factories.queue("SMS support"))
    with django_capture_on_commit_callbacks(execute=True):
        assert post_signed(client, URL, inbound()).status_code == 200
        assert post_signed(client, URL, inbound(MessageSid="SM" + "b" * 32, Body="Any news?")).status_code == 200

    assert WorkItem.objects.count() == 1 and not Conversation.objects.get().needs_routing
    assert _sweep_later().routing_retried == 0


def test_a_message_needing_no_person_is_never_flagged_nor_enqueued_by_the_sweep(client):
    mailbox = EmailChannel.objects.create(name="Support", address="support@northwind.example", inbound_secret=SECRET)
    factories.stream(channel="email", fallback=factories.queue("Email"))

    assert post_raw(client, mailbox, AUTO_REPLY).status_code == 202
    report = _sweep_later()

    assert not Conversation.objects.get().needs_routing
    assert report.routing_retried == 0 and not WorkItem.objects.exists()


def test_a_retried_webhook_and_the_sweep_do_not_create_two_work_items(client, sms_channel,
                                                                      django_capture_on_commit_callbacks):
    factories.stream(channel="sms", fallback=factories.queue("SMS support"))
    with django_capture_on_commit_callbacks(execute=False):  # the first delivery's hand-off is lost
        assert post_signed(client, URL, inbound()).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):  # the provider retries the same message
        assert post_signed(client, URL, inbound()).status_code == 200
    _sweep_later()
    _sweep_later()

    assert Message.objects.count() == 1 and WorkItem.objects.count() == 1
    assert not Conversation.objects.get().needs_routing

"""Routing benchmarks: assignment throughput and enqueue → offer-on-socket latency.

Run with ``make bench``; prints one line per figure.
"""

from __future__ import annotations

import statistics
import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from django.contrib.auth.models import Group

from contactcenter.asgi import application
from contactcenter.choices import Role
from contactcenter.testing import capture_realtime
from crm import services as crm_services
from crm.choices import ChannelKind
from routing import services
from routing.choices import BasePresence
from routing.models import AgentProfile, Queue, WorkStream
from routing.services.cache import config_cache_clear
from routing.tests.scenarios import populate, violations

AGENTS = 1000
ITEMS = 10_000
QUEUES = 10
LATENCY_SAMPLES = 200


def _drain(queue_ids: list[int]) -> tuple[int, float]:
    started = time.perf_counter()
    total = 0
    while True:
        decisions = services.assignment_run(queue_ids=queue_ids, limit_per_queue=100)
        if not decisions:
            return total, time.perf_counter() - started
        total += len(decisions)


@pytest.mark.django_db(transaction=True)
def test_assignment_throughput():
    population = populate(agents=AGENTS, items=ITEMS, queues=QUEUES, capacity=ITEMS // AGENTS, prefix="bench")
    with capture_realtime():
        half = population["queues"][: QUEUES // 2]
        engine, engine_seconds = _drain(half)
    rest = population["queues"][QUEUES // 2:]
    delivered, delivered_seconds = _drain(rest)
    assert violations(population["queues"]) == {"double_offers": 0, "over_capacity": 0, "capacity_mismatch": 0}
    print(f"\nrouting assignments/s, engine only ({AGENTS} agents, {ITEMS} items, {engine} assigned): "
          f"{engine / engine_seconds:.0f}")
    print(f"routing assignments/s, with socket events ({AGENTS} agents, {ITEMS} items, {delivered} assigned): "
          f"{delivered / delivered_seconds:.0f}")


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_enqueue_to_offer_latency(django_user_model, settings):
    # One agent holds every sample's offer; the session limit (D.54) would stop at 10.
    settings.ROUTING_MAX_SESSIONS_PER_AGENT = 10 * LATENCY_SAMPLES
    @sync_to_async
    def setup():
        agent = django_user_model.objects.create_user(username="bench-latency-agent")
        agent.groups.add(Group.objects.get_or_create(name=Role.AGENT)[0])
        queue = Queue.objects.create(name="Latency")
        queue.members.add(agent)
        WorkStream.objects.create(name="Latency chat", channel_kind=ChannelKind.WEBCHAT, fallback_queue=queue)
        AgentProfile.objects.create(user=agent, capacity_units=10 * LATENCY_SAMPLES, presence_manual=True,
                                    presence=services.presence.presence_builtin(BasePresence.AVAILABLE))
        return agent

    @sync_to_async
    def inbound(n: int):
        return crm_services.message_ingest(channel_kind=ChannelKind.WEBCHAT, address=f"bench-visitor-{n}",
                                           body="Hello, my order #%d has not arrived yet" % n).conversation

    enqueue = sync_to_async(lambda conversation: services.conversation_enqueue(conversation=conversation))
    config_cache_clear()
    agent = await setup()
    communicator = WebsocketCommunicator(application, "/ws/agent/", headers=[(b"origin", b"http://127.0.0.1:8000")])
    communicator.scope["user"] = agent
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    await enqueue(await inbound(-1))  # warm up: first classification loads VADER
    await _offer(communicator)
    samples = []
    for n in range(LATENCY_SAMPLES):
        conversation = await inbound(n)
        started = time.perf_counter()
        await enqueue(conversation)
        await _offer(communicator)
        samples.append((time.perf_counter() - started) * 1000)
    await communicator.disconnect()
    samples.sort()
    p50 = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99) - 1]
    print(f"\nrouting enqueue→offer on agent socket p50 ms: {p50:.1f}")
    print(f"routing enqueue→offer on agent socket p99 ms: {p99:.1f}")


async def _offer(communicator) -> dict:
    while True:
        frame = await communicator.receive_json_from(timeout=10)
        if frame["type"] == "workitem.offered":
            return frame

"""The one way events reach clients (DESIGN.md, real-time contract).

``publish`` validates the event at once, so a bad payload fails inside the
service that made it, and hands it to the channel layer only after the
surrounding transaction commits: nobody is told about data that was rolled
back, and nothing is told before it is stored.

Sends run on one long-lived event loop per process, which keeps its Redis
connections open. A service that publishes many events at once (an
assignment cycle offering hundreds of items) wraps its work in
``batched()``: its events then leave together after commit, with their
Redis round trips overlapped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

TYPE_RE = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*$")
GROUP_RE = re.compile(r"^[A-Za-z0-9_.-]{1,99}$")
#: The message type consumers implement (``def realtime_event(self, message)``).
CONSUMER_HANDLER = "realtime.event"


@dataclass(frozen=True)
class Event:
    """``{"type": "message.created", "id": 42, "ts": "...", "data": {...}}``.

    Durable events carry the id of the row written with the change; ephemeral
    signals (typing, presence blips) have ``id=None`` and are never replayed.
    """

    type: str
    data: dict[str, Any]
    id: int | None = None
    ts: datetime = field(default_factory=timezone.now)

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, "ts": self.ts.isoformat(), "data": self.data}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), cls=DjangoJSONEncoder)


class groups:
    """Group names, built in one place (``groups.conversation(42)`` → ``"conversation.42"``)."""

    @staticmethod
    def conversation(conversation_id: int) -> str:
        return f"conversation.{conversation_id}"

    @staticmethod
    def agent(user_id: int) -> str:
        return f"agent.{user_id}"

    @staticmethod
    def queue(queue_id: int) -> str:
        return f"queue.{queue_id}"

    @staticmethod
    def supervisors() -> str:
        return "supervisors"

    @staticmethod
    def visitor(token: str) -> str:
        return f"visitor.{token}"


#: Concurrent channel-layer sends of one batch (each is a few Redis round trips).
SEND_CONCURRENCY = 32
#: How long a commit's sends may take before the caller stops waiting (Redis unreachable).
SEND_TIMEOUT_SECONDS = 10

Delivery = tuple[dict[str, Any], list[str]]
_batch: ContextVar[list[Delivery] | None] = ContextVar("realtime_batch", default=None)


def publish(event: Event, *, groups: Iterable[str]) -> None:
    """Send ``event`` to every group in ``groups`` once the current transaction commits.

    Inside ``batched()`` it leaves with the batch, when the outermost block has
    ended and its transaction committed.
    """
    if not TYPE_RE.match(event.type):
        raise ValueError(f"event type {event.type!r} is not noun.verb")
    targets = sorted(set(groups))
    for group in targets:
        if not GROUP_RE.match(group):
            raise ValueError(f"invalid group name {group!r}")
    # Serialise now: an unserialisable payload is a bug in the caller, found here.
    delivery = (json.loads(event.to_json()), targets)
    batch = _batch.get()
    if batch is None:
        transaction.on_commit(lambda: _send([delivery]), robust=True)
    else:
        # Joining the batch on commit keeps savepoint semantics: an event of a
        # rolled-back savepoint is discarded with its callback.
        transaction.on_commit(lambda: batch.append(delivery), robust=True)


@contextmanager
def batched() -> Iterator[None]:
    """Send the events published inside this block together, after commit, in publish order.

    Use it around work that publishes many events in one transaction. Nested
    blocks join the outermost one.
    """
    if _batch.get() is not None:
        yield
        return
    batch: list[Delivery] = []
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)
        # Registered last, so it runs after every event of the block has joined.
        transaction.on_commit(lambda: batch and _send(batch), robust=True)


class _Sender:
    """A daemon thread running one event loop with its own channel-layer instance.

    Sends reuse that loop's Redis connections instead of opening an event loop
    and a connection for every event (about 4 ms each). The instance belongs to
    this loop alone, so nothing else's loop ever touches its connections.
    """

    def __init__(self):
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        threading.Thread(target=self.loop.run_forever, name="realtime-sender", daemon=True).start()


_sender: _Sender | None = None
_sender_lock = threading.Lock()


def _sender_get() -> _Sender:
    global _sender
    with _sender_lock:
        if _sender is None or _sender.pid != os.getpid():
            # First send in this process, or in a child forked after the parent sent (a Celery worker).
            _sender = _Sender()
        return _sender


def _send(deliveries: list[Delivery]) -> None:
    """Hand ``deliveries`` to the sender loop and wait until the channel layer has them."""
    sender = _sender_get()
    asyncio.run_coroutine_threadsafe(_send_all(sender.layer, deliveries), sender.loop).result(SEND_TIMEOUT_SECONDS)


async def _send_all(layer, deliveries: list[Delivery]) -> None:
    limit = asyncio.Semaphore(SEND_CONCURRENCY)

    async def send(payload: dict[str, Any], group: str) -> None:
        async with limit:
            try:
                await layer.group_send(group, {"type": CONSUMER_HANDLER, "event": payload})
            except Exception:
                # The database is the source of truth; a client that missed this
                # push catches up from its last id on reconnect.
                logger.exception("could not publish %s to %s", payload["type"], group)

    # One group's events keep their order; different groups go concurrently.
    by_group: dict[str, list[dict[str, Any]]] = {}
    for payload, targets in deliveries:
        for group in targets:
            by_group.setdefault(group, []).append(payload)

    async def send_in_order(group: str, payloads: list[dict[str, Any]]) -> None:
        for payload in payloads:
            await send(payload, group)

    await asyncio.gather(*(send_in_order(group, payloads) for group, payloads in by_group.items()))

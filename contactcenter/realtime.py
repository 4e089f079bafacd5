"""The one way events reach clients (DESIGN.md, real-time contract).

``publish`` validates the event at once, so a bad payload fails inside the
service that made it, and hands it to the channel layer only after the
surrounding transaction commits: nobody is told about data that was rolled
back, and nothing is told before it is stored.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
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


def publish(event: Event, *, groups: Iterable[str]) -> None:
    """Send ``event`` to every group in ``groups`` once the current transaction commits."""
    if not TYPE_RE.match(event.type):
        raise ValueError(f"event type {event.type!r} is not noun.verb")
    targets = sorted(set(groups))
    for group in targets:
        if not GROUP_RE.match(group):
            raise ValueError(f"invalid group name {group!r}")
    # Serialise now: an unserialisable payload is a bug in the caller, found here.
    payload = json.loads(event.to_json())
    transaction.on_commit(lambda: _send(payload, targets), robust=True)


def _send(payload: dict[str, Any], targets: list[str]) -> None:
    # One event loop (and Redis connection) for all of an event's groups, not one per group.
    async_to_sync(_send_all)(payload, targets)


async def _send_all(payload: dict[str, Any], targets: list[str]) -> None:
    layer = get_channel_layer()
    for group in targets:
        try:
            await layer.group_send(group, {"type": CONSUMER_HANDLER, "event": payload})
        except Exception:
            # The database is the source of truth; a client that missed this
            # push catches up from its last id on reconnect.
            logger.exception("could not publish %s to %s", payload["type"], group)

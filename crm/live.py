"""Extra HTML fragments for the agent socket, contributed by apps that depend on crm.

``crm`` may not import routing, knowledge or copilot, yet their events (an
offer, a presence change) travel over the agent socket too. An app registers
a renderer for the event types it cares about, usually in its
``AppConfig.ready``; the agent consumer (``?format=html``) calls every
renderer for an event and sends what they return as out-of-band swaps.

A renderer is ``fn(*, user, event: dict) -> str``: it runs in a worker
thread, re-reads what it shows through its own selectors as ``user`` and
returns "" when that user may see nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

Renderer = Callable[..., str]

_renderers: dict[str, list[Renderer]] = defaultdict(list)


def fragment_renderer(*event_types: str) -> Callable[[Renderer], Renderer]:
    """Register the decorated function for ``event_types`` (idempotent)."""

    def register(function: Renderer) -> Renderer:
        for event_type in event_types:
            if function not in _renderers[event_type]:
                _renderers[event_type].append(function)
        return function

    return register


def has_renderers(event_type: str) -> bool:
    return bool(_renderers.get(event_type))


def fragments_render(*, user, event: dict) -> str:
    """Every registered renderer's fragment for this event and user, joined."""
    return "".join(renderer(user=user, event=event) for renderer in _renderers.get(event["type"], []))

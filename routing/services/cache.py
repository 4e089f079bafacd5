"""A short-lived, per-process cache of routing configuration read on every enqueue.

Configuration changes (admin or API) take effect within
``settings.ROUTING_CONFIG_CACHE_SECONDS`` (default 5) in
every process (the issue allows 10 s), without a query per rule table on the
enqueue → offer path. Nothing here is state another process needs: each
process reloads from the database when its copy expires.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings

_entries: dict[Any, tuple[float, Any]] = {}
_lock = threading.Lock()


def cached(key: Any, load: Callable[[], Any]) -> Any:
    now = time.monotonic()
    entry = _entries.get(key)
    if entry is not None and entry[0] > now:
        return entry[1]
    value = load()
    with _lock:
        _entries[key] = (now + settings.ROUTING_CONFIG_CACHE_SECONDS, value)
    return value


def config_cache_clear() -> None:
    """Forget every cached configuration (tests; after a bulk configuration import)."""
    with _lock:
        _entries.clear()

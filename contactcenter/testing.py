"""Helpers for tests: capture what services publish; browser-test utilities."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

from django.conf import settings
from django.db import connection

from contactcenter import realtime


@dataclass
class Published:
    """Events published after commit, in order, with the groups each went to.

    Inside a test's transaction nothing really commits; reading ``events``
    first runs the on-commit callbacks that are still pending, as a commit
    would. Callbacks discarded by a rolled-back savepoint never run.
    """

    sent: list[tuple[dict, list[str]]] = field(default_factory=list)
    _ran: set[int] = field(default_factory=set)

    def _drain(self) -> None:
        for _sids, callback, _robust in list(connection.run_on_commit):
            if id(callback) not in self._ran:
                self._ran.add(id(callback))
                callback()

    @property
    def events(self) -> list[tuple[dict, list[str]]]:
        self._drain()
        return self.sent

    @property
    def types(self) -> list[str]:
        return [event["type"] for event, _groups in self.events]

    def of_type(self, type: str) -> list[tuple[dict, list[str]]]:
        return [(event, groups) for event, groups in self.events if event["type"] == type]


@contextmanager
def capture_realtime() -> Iterator[Published]:
    """Record events instead of sending them to the channel layer."""
    published = Published()
    with mock.patch.object(realtime, "_send", side_effect=published.sent.extend):
        yield published


# --- Live servers and browser tests ----------------------------------------------

def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SCREENSHOTS = Path(settings.BASE_DIR) / "screenshots"


def outside_the_browser_loop(function, **kwargs):
    """Run a service in a plain thread and return its result.

    Playwright's sync API keeps an event loop running in the test's thread,
    and ``publish`` (``async_to_sync`` after commit) must not run inside one.
    """

    def call():
        try:
            return function(**kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def wait_for(condition, timeout: float = 10.0):
    """Poll ``condition`` until it returns something truthy (returned) or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def screenshot(page, name: str) -> None:
    """Save the page as ``screenshots/<name>.png`` (git ignores the folder) for people to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

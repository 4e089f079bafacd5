"""Helpers for tests: capture what services publish."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from unittest import mock

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
    with mock.patch.object(realtime, "_send", side_effect=lambda payload, targets: published.sent.append((payload, targets))):
        yield published

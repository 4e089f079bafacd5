"""IMAP: read unseen messages of a mailbox and mark them seen once stored (standard library imaplib)."""

from __future__ import annotations

import imaplib
from collections.abc import Iterator
from contextlib import contextmanager

TIMEOUT_SECONDS = 30
MAX_PER_POLL = 100


@contextmanager
def mailbox(
    *, host: str, port: int, use_ssl: bool, username: str, password: str, folder: str
) -> Iterator[imaplib.IMAP4]:
    client_class = imaplib.IMAP4_SSL if use_ssl else imaplib.IMAP4
    client = client_class(host, port, timeout=TIMEOUT_SECONDS)
    try:
        client.login(username, password)
        status, _data = client.select(folder)
        if status != "OK":
            raise imaplib.IMAP4.error(f"cannot select {folder}")
        yield client
    finally:
        try:
            client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def unseen(client: imaplib.IMAP4) -> Iterator[tuple[bytes, bytes]]:
    """(uid, raw message) of each unseen message, oldest first; peeking leaves them unseen."""
    status, data = client.uid("SEARCH", None, "UNSEEN")
    if status != "OK" or not data or not data[0]:
        return
    for uid in data[0].split()[:MAX_PER_POLL]:
        status, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
        if status == "OK":
            raw = next((part[1] for part in parts if isinstance(part, tuple)), None)
            if raw:
                yield uid, raw


def mark_seen(client: imaplib.IMAP4, uid: bytes) -> None:
    client.uid("STORE", uid, "+FLAGS", r"(\Seen)")

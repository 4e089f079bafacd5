"""The IMAP poller against a small local IMAP4rev1 server (no network)."""

import re
import socketserver
import threading

import pytest

from channels_ingress.models import EmailChannel
from channels_ingress.tasks import email_poll
from crm.models import Message

pytestmark = pytest.mark.django_db

GOOD = b"From: kim@example.com\r\nTo: support@northwind.example\r\nSubject: Broken hinge\r\nMessage-ID: <imap-1@example.com>\r\n\r\nThe hinge cracked.\r\n"
BAD = b"this is not an email"


class FakeImap:
    """Enough of IMAP4rev1 for imaplib: LOGIN, SELECT, UID SEARCH/FETCH/STORE, LOGOUT."""

    def __init__(self, messages: dict[int, bytes]):
        self.messages = messages
        self.seen: set[int] = set()
        self.logins: list[tuple[str, str]] = []
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"* OK [CAPABILITY IMAP4rev1] fake ready\r\n")
                for line in self.rfile:
                    tag, _sp, rest = line.decode().strip().partition(" ")
                    command = rest.upper()
                    if command.startswith("CAPABILITY"):
                        self.wfile.write(b"* CAPABILITY IMAP4rev1\r\n")
                        self.ok(tag)
                    elif command.startswith("LOGIN"):
                        fake.logins.append(tuple(part.strip('"') for part in rest.split()[1:3]))
                        self.ok(tag)
                    elif command.startswith("SELECT"):
                        self.wfile.write(f"* {len(fake.messages)} EXISTS\r\n".encode())
                        self.ok(tag, "[READ-WRITE] SELECT")
                    elif command.startswith("UID SEARCH"):
                        uids = " ".join(str(uid) for uid in fake.messages if uid not in fake.seen)
                        self.wfile.write(f"* SEARCH {uids}\r\n".encode())
                        self.ok(tag)
                    elif command.startswith("UID FETCH"):
                        uid = int(rest.split()[2])
                        raw = fake.messages[uid]
                        self.wfile.write(f"* {uid} FETCH (UID {uid} BODY[] {{{len(raw)}}}\r\n".encode() + raw + b")\r\n")
                        self.ok(tag)
                    elif command.startswith("UID STORE"):
                        uid = int(rest.split()[2])
                        fake.seen.add(uid)
                        self.wfile.write(f"* {uid} FETCH (FLAGS (\\Seen))\r\n".encode())
                        self.ok(tag)
                    elif command.startswith("LOGOUT"):
                        self.wfile.write(b"* BYE\r\n")
                        self.ok(tag)
                        return
                    else:
                        self.wfile.write(f"{tag} BAD unknown\r\n".encode())

            def ok(self, tag, text="done"):
                self.wfile.write(f"{tag} OK {text}\r\n".encode())

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def imap_server():
    server = FakeImap({1: GOOD, 2: BAD})
    yield server
    server.close()


def test_poll_receives_unseen_mail_marks_it_seen_and_skips_malformed(imap_server):
    channel = EmailChannel.objects.create(
        name="Support", address="support@northwind.example", imap_host="127.0.0.1", imap_port=imap_server.port,
        imap_use_ssl=False, imap_username="support", imap_password="secret",
    )
    assert email_poll.apply(args=[channel.pk]).get() == 1
    assert imap_server.logins == [("support", "secret")]
    assert imap_server.seen == {1, 2}
    message = Message.objects.get(direction="inbound")
    assert message.body == "The hinge cracked." and message.conversation.subject == "Broken hinge"

    assert email_poll.apply(args=[channel.pk]).get() == 0
    assert Message.objects.filter(direction="inbound").count() == 1
    assert re.match(r"CAS-\d{6}", message.conversation.case.number)

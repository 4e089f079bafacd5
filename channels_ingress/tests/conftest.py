import pytest

from channels_ingress.models import WebChatChannel

ORIGIN = "http://127.0.0.1:8000"


@pytest.fixture
def webchat_channel(db):
    return WebChatChannel.objects.create(name="Shop chat", public_key="shop-chat-key", agent_name_mode="first_name")


import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from channels_ingress.models import SmsChannel


class ProviderServer:
    """A local HTTP server standing in for a provider: records requests, answers from a script."""

    def __init__(self):
        self.requests: list[dict] = []
        self.responses: list[tuple[int, dict]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                server.requests.append({"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)})
                status, payload = server.responses.pop(0) if server.responses else (201, {"sid": "SM" + "0" * 32})
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def provider():
    server = ProviderServer()
    yield server
    server.close()


SMS_NUMBER = "+15005550006"
AUTH_TOKEN = "12345678901234567890123456789012"


@pytest.fixture
def sms_channel(db):
    return SmsChannel.objects.create(
        name="Support SMS", phone_number=SMS_NUMBER, account_sid="AC" + "1" * 32, auth_token=AUTH_TOKEN,
        public_base_url="https://cc.example.com",
    )

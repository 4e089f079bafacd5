import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from copilot.providers import ContextPassage, generate

CONTEXT = [
    ContextPassage(
        id="article:1", title="Pair AirBeats earbuds",
        text="Hold the case button for five seconds. The light blinks white when pairing. Our store opens at 9.",
    ),
    ContextPassage(id="article:2", title="Returns", text="You can return any item within 30 days of delivery."),
]


class ChatCompletions(BaseHTTPRequestHandler):
    """A local server speaking the OpenAI chat-completions protocol."""

    received: list = []
    status = 200

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append({"path": self.path, "auth": self.headers["Authorization"], "body": body})
        if type(self).status != 200:
            self.send_response(type(self).status)
            self.end_headers()
            return
        reply = {"model": body["model"], "choices": [{"message": {"role": "assistant",
                 "content": "Hold the button for five seconds [1]."}}]}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def llm_server(settings):
    ChatCompletions.received, ChatCompletions.status = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), ChatCompletions)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.LLM_BASE_URL = f"http://127.0.0.1:{server.server_port}/v1"
    settings.LLM_API_KEY = "sk-test"
    settings.LLM_MODEL = "northwind-7b"
    yield ChatCompletions
    server.shutdown()
    server.server_close()


@pytest.mark.slow
class TestGrounded:
    def test_answers_only_with_relevant_source_sentences_and_cites_them(self, settings):
        settings.LLM_BASE_URL = ""
        answer = generate("How do I put my earbuds in pairing mode?", CONTEXT)

        assert answer.provider == "grounded"
        assert "five seconds" in answer.text and "[1]" in answer.text
        assert "store opens" not in answer.text
        assert answer.sources[0] == "article:1"
        assert generate("How do I put my earbuds in pairing mode?", CONTEXT) == answer

    def test_sections_keep_every_source_in_order(self, settings):
        settings.LLM_BASE_URL = ""
        draft = generate("Write an article", [ContextPassage("case:1", "Problem", "It broke."),
                                              ContextPassage("case:1:resolution", "Resolution", "- Reset it.")],
                         sections=True)
        assert draft.text == "## Problem\nIt broke.\n\n## Resolution\nReset it."
        assert draft.sources == ["case:1", "case:1:resolution"]


class TestOpenAICompatible:
    def test_posts_chat_completions_and_records_the_cited_sources(self, llm_server):
        answer = generate("How do I pair?", CONTEXT)

        assert (answer.provider, answer.model) == ("openai", "northwind-7b")
        assert answer.text == "Hold the button for five seconds [1]."
        assert answer.sources == ["article:1"]
        [request] = llm_server.received
        assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
        assert request["body"]["messages"][0]["role"] == "system"
        assert "[2] Returns" in request["body"]["messages"][1]["content"]

    @pytest.mark.slow
    def test_falls_back_to_the_offline_provider_when_the_model_fails(self, llm_server):
        llm_server.status = 500
        answer = generate("How do I put my earbuds in pairing mode?", CONTEXT)
        assert answer.provider == "grounded" and "five seconds" in answer.text

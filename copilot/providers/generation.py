"""Text generation grounded in retrieved passages: ``generate(prompt, context)``.

Two providers behind one function:

* ``grounded`` (default, offline, deterministic): picks the sentences of the
  context passages closest in meaning to the prompt (MiniLM embeddings) and
  assembles them per source, in the sources' order, with ``[n]`` citations.
  It never writes a sentence that is not in a source.
* ``openai`` (when ``LLM_BASE_URL`` and ``LLM_MODEL`` are set): an
  OpenAI-compatible ``/chat/completions`` endpoint — OpenAI, Azure OpenAI,
  vLLM, llama.cpp server, Ollama. If it fails, the offline provider answers
  and the result says so in ``provider``.

Every result records provider, model and the source ids it used, so whatever
stores it can show an agent why.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings

from copilot.providers.embedding import EMBEDDING_MODEL, embed

logger = logging.getLogger(__name__)

GROUNDED_PROVIDER = "grounded"
OPENAI_PROVIDER = "openai"
#: Sentences taken from each source, at most, and the similarity a sentence
#: needs to the prompt to be taken at all (MiniLM cosine; unrelated text
#: scores below ~0.15, text on the same topic above ~0.3).
SENTENCES_PER_SOURCE = 3
MIN_SENTENCE_SIMILARITY = 0.2
REQUEST_TIMEOUT_SECONDS = 30
SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
DEFAULT_SYSTEM = (
    "You are a customer-service assistant for Northwind Electronics. Answer only from the numbered sources; "
    "cite them as [n]. If the sources do not contain the answer, say so."
)


@dataclass(frozen=True)
class ContextPassage:
    """One source the text may draw on; ``id`` is what gets recorded (``article:12``, ``case:7``)."""

    id: str
    title: str
    text: str


@dataclass(frozen=True)
class Generation:
    text: str
    provider: str
    model: str
    sources: list[str] = field(default_factory=list)


class GenerationError(Exception):
    """The configured language model could not answer."""


def sentences(text: str) -> list[str]:
    parts = []
    for line in text.splitlines():
        line = line.strip(" \t-*#>")
        if line:
            parts.extend(part.strip() for part in SENTENCE_RE.split(line) if part.strip())
    return parts


def _grounded(prompt: str, context: Sequence[ContextPassage], *, sections: bool) -> Generation:
    if sections:
        blocks = [(passage, " ".join(sentences(passage.text))) for passage in context]
        blocks = [(passage, text) for passage, text in blocks if text]
        return Generation(
            text="\n\n".join(f"## {passage.title}\n{text}" for passage, text in blocks),
            provider=GROUNDED_PROVIDER, model=EMBEDDING_MODEL, sources=[passage.id for passage, _text in blocks],
        )
    per_source = [(index, passage, sentences(passage.text)) for index, passage in enumerate(context, start=1)]
    flat = [sentence for _index, _passage, found in per_source for sentence in found]
    if not flat:
        return Generation(text="", provider=GROUNDED_PROVIDER, model=EMBEDDING_MODEL, sources=[])
    vectors = embed([prompt, *flat])
    query, sentence_vectors = vectors[0], iter(vectors[1:])
    answer, used = [], []
    for index, passage, found in per_source:
        scored = [
            (sum(a * b for a, b in zip(query, next(sentence_vectors))), position, sentence)
            for position, sentence in enumerate(found)
        ]
        best = sorted((item for item in scored if item[0] >= MIN_SENTENCE_SIMILARITY), reverse=True)
        chosen = sorted(best[:SENTENCES_PER_SOURCE], key=lambda item: item[1])
        if chosen:
            used.append(passage.id)
            answer.append(" ".join(sentence for _score, _position, sentence in chosen) + f" [{index}]")
    return Generation(text=" ".join(answer), provider=GROUNDED_PROVIDER, model=EMBEDDING_MODEL, sources=used)


def _openai(prompt: str, context: Sequence[ContextPassage], *, system: str, max_tokens: int) -> Generation:
    numbered = "\n\n".join(f"[{i}] {passage.title}\n{passage.text}" for i, passage in enumerate(context, start=1))
    body = {
        "model": settings.LLM_MODEL,
        "temperature": 0.2,
        "max_tokens": max_tokens,
        "messages": [
            {"role": "system", "content": system or DEFAULT_SYSTEM},
            {"role": "user", "content": f"Sources:\n{numbered}\n\n{prompt}" if context else prompt},
        ],
    }
    request = urllib.request.Request(
        settings.LLM_BASE_URL.rstrip("/") + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {settings.LLM_API_KEY}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            payload = json.loads(response.read().decode())
        text = payload["choices"][0]["message"]["content"].strip()
    except (urllib.error.URLError, TimeoutError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise GenerationError(str(exc)) from exc
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    sources = [passage.id for i, passage in enumerate(context, start=1) if i in cited] or [p.id for p in context]
    return Generation(text=text, provider=OPENAI_PROVIDER, model=payload.get("model") or settings.LLM_MODEL,
                      sources=sources)


def llm_configured() -> bool:
    return bool(settings.LLM_BASE_URL and settings.LLM_MODEL)


def generate(
    prompt: str,
    context: Sequence[ContextPassage],
    *,
    system: str = "",
    sections: bool = False,
    max_tokens: int = 800,
) -> Generation:
    """Text answering ``prompt`` from ``context``.

    ``sections`` asks for one Markdown section per source (titled by the
    source) holding all of it — how the offline provider drafts structured
    documents such as a knowledge article from a case's problem, environment
    and resolution.
    """
    if llm_configured():
        try:
            return _openai(prompt, context, system=system, max_tokens=max_tokens)
        except GenerationError:
            logger.exception("the language model at %s failed; answering offline", settings.LLM_BASE_URL)
    return _grounded(prompt, context, sections=sections)

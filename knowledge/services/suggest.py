"""AI suggestions for authors (REFERENCE J.130): keywords and a summary, extracted from the article itself.

Deterministic and offline: candidate words and two-word phrases of the text
are ranked by how close their MiniLM embedding is to the whole article's
(the KeyBERT method), and the summary is the article's most central sentence.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from copilot.providers import embed
from copilot.providers.generation import sentences
from knowledge.text import plain_text

MAX_CANDIDATES = 60
SUMMARY_CHARS = 300
HEADING_RE = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)
WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9+\-]{2,}")
STOPWORDS = frozenset(
    """about above after again against all also and any are because been before being below between both but can
    cannot could did does doing down during each few for from further had has have having her here hers him his how
    into its itself just more most must not now off once only other our ours out over own same she should some such
    than that the their them then there these they this those through too under until very was were what when where
    which while who whom why will with would you your yours the one two use using used make sure again try open
    press hold turn until then first next""".split()
)


@dataclass(frozen=True)
class ArticleSuggestion:
    keywords: list[str]
    summary: str


def _stems(term: str) -> set[str]:
    return {word.rstrip("s") for word in term.split()}


def _candidates(text: str) -> list[str]:
    words = [word for word in WORD_RE.findall(text)]
    counts: Counter[str] = Counter()
    for index, word in enumerate(words):
        if word.lower() in STOPWORDS:
            continue
        counts[word.lower()] += 1
        if index + 1 < len(words) and words[index + 1].lower() not in STOPWORDS:
            counts[f"{word.lower()} {words[index + 1].lower()}"] += 1
    return [term for term, _count in counts.most_common(MAX_CANDIDATES)]


def article_suggestions(*, title: str, body: str, keywords: int = 5) -> ArticleSuggestion:
    """Keywords and a one-to-two sentence summary suggested from ``title`` and ``body``; the author decides."""
    # Headings end a sentence of their own, so they are not glued to the paragraph after them.
    text = plain_text(HEADING_RE.sub(lambda match: f"{match.group(1).rstrip('.')}.\n", body))
    found = sentences(text)
    candidates = _candidates(f"{title} {text}")
    if not candidates:
        return ArticleSuggestion(keywords=[], summary="")
    document, *vectors = embed([f"{title}. {text}", *candidates, *found])
    candidate_vectors, sentence_vectors = vectors[: len(candidates)], vectors[len(candidates):]

    def similarity(vector) -> float:
        return sum(a * b for a, b in zip(document, vector))

    ranked = sorted(zip(candidates, candidate_vectors), key=lambda item: similarity(item[1]), reverse=True)
    chosen: list[str] = []
    for term, _vector in ranked:
        # Terms sharing a word say nearly the same thing; keep the first (best) of them.
        if any(_stems(term) & _stems(other) for other in chosen):
            continue
        chosen.append(term)
        if len(chosen) == keywords:
            break
    summary = ""
    if found:
        order = sorted(range(len(found)), key=lambda i: similarity(sentence_vectors[i]), reverse=True)
        for index in sorted(order[:2]):
            if len(summary) + len(found[index]) <= SUMMARY_CHARS:
                summary = f"{summary} {found[index]}".strip()
    return ArticleSuggestion(keywords=chosen, summary=summary)

"""Markdown rendering, sanitising and heading-aware chunking of article bodies."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass

import markdown
import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"}, "th": {"align"}, "td": {"align"},
    "abbr": {"title"},
}
URL_SCHEMES = {"http", "https", "mailto"}

#: Passages of about this many words (MiniLM reads 256 word pieces, roughly
#: 180 English words; the title and heading are prefixed to each passage).
CHUNK_WORDS = 140
#: Words repeated from the end of one passage at the start of the next, so an
#: answer that straddles a boundary is still whole in one passage.
OVERLAP_WORDS = 30

HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE_RE = re.compile(r"^(```|~~~)")


def render_markdown(body: str) -> str:
    """Markdown → HTML that is safe to show anywhere (scripts, handlers and odd URLs removed)."""
    raw = markdown.markdown(body, extensions=["extra", "sane_lists"], output_format="html")
    return nh3.clean(
        raw, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def plain_text(body: str) -> str:
    """The readable text of Markdown, without markup."""
    stripped = nh3.clean(markdown.markdown(body, extensions=["extra"]), tags=set())
    return re.sub(r"\s+", " ", html.unescape(stripped)).strip()


@dataclass(frozen=True)
class Chunk:
    position: int
    heading: str
    text: str


def _sections(body: str) -> list[tuple[str, str]]:
    sections: list[tuple[str, list[str]]] = [("", [])]
    in_fence = False
    for line in body.splitlines():
        if FENCE_RE.match(line.strip()):
            in_fence = not in_fence
        match = None if in_fence else HEADING_RE.match(line)
        if match:
            sections.append((match.group(2).strip(), []))
        else:
            sections[-1][1].append(line)
    return [(heading, "\n".join(lines)) for heading, lines in sections]


def chunk_article(*, title: str, summary: str, body: str) -> list[Chunk]:
    """Split an article into passages that never cross a heading, with overlap inside long sections."""
    chunks: list[Chunk] = []
    for index, (heading, section) in enumerate(_sections(body)):
        text = plain_text(section)
        if index == 0 and summary.strip():
            text = f"{summary.strip()} {text}".strip()
        words = text.split()
        if not words:
            continue
        start = 0
        while True:
            window = words[start:start + CHUNK_WORDS]
            chunks.append(Chunk(position=len(chunks), heading=heading[:255], text=" ".join(window)))
            if start + CHUNK_WORDS >= len(words):
                break
            start += CHUNK_WORDS - OVERLAP_WORDS
    if not chunks:
        chunks.append(Chunk(position=0, heading="", text=title))
    return chunks


def embedding_text(*, title: str, chunk: Chunk) -> str:
    """What is embedded for a passage: its text in the context of the article and section."""
    prefix = title if not chunk.heading or chunk.heading == title else f"{title} — {chunk.heading}"
    return f"{prefix}. {chunk.text}"


def content_hash(*, title: str, summary: str, body: str, keywords: list[str], language: str) -> str:
    payload = "\x1f".join([title, summary, body, ",".join(keywords), language])
    return hashlib.sha256(payload.encode()).hexdigest()

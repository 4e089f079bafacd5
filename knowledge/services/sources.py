"""External knowledge providers (REFERENCE J.132): ingest a site's pages from its sitemap.

The crawl is I/O: pages are fetched first, then each becomes (or updates) a
published article through ``article_import`` — keyed by its URL, so a refresh
changes only pages whose text changed. Failures are reported per URL on the
source (``last_report``), never silently dropped.
"""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from xml.etree import ElementTree

import nh3
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from knowledge.choices import ArticleStatus
from knowledge.models import KnowledgeSource
from knowledge.services.articles import article_index
from knowledge.services.importing import article_import

TRIAL_PAGE_LIMIT = 1000
FETCH_TIMEOUT_SECONDS = 15
MAX_PAGE_BYTES = 2 * 1024 * 1024
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
USER_AGENT = "NorthwindContactCenter-KnowledgeCrawler/1.0"
TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
MAIN_RE = re.compile(r"<(main|article)\b[^>]*>(.*?)</\1>", re.I | re.S)
BLOCK_TAGS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "br", "tr", "section"}
BLOCK_RE = re.compile(r"</?(p|div|h[1-6]|li|br|tr|section)\b[^>]*>", re.I)


@dataclass
class CrawlReport:
    pages: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_old: int = 0
    failures: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        keys = ("pages", "created", "updated", "unchanged", "skipped_old", "failures")
        return {key: getattr(self, key) for key in keys}


def _fetch(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:
        return response.read(MAX_PAGE_BYTES)


def _lastmod(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value.strip())
    if parsed is None and (day := parse_date(value.strip()[:10])):
        parsed = datetime(day.year, day.month, day.day)
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt_timezone.utc)
    return parsed


def sitemap_entries(xml: bytes) -> list[tuple[str, datetime | None]]:
    """(URL, last modified) of every ``<url>`` in a sitemap."""
    root = ElementTree.fromstring(xml)
    entries = []
    for node in root.iter(f"{SITEMAP_NS}url"):
        loc = node.findtext(f"{SITEMAP_NS}loc")
        if loc and loc.strip().startswith(("http://", "https://")):
            entries.append((loc.strip(), _lastmod(node.findtext(f"{SITEMAP_NS}lastmod"))))
    return entries


def page_content(raw: bytes) -> tuple[str, str]:
    """(title, Markdown-ish body) of an HTML page: its <main>/<article> if it has one, as plain paragraphs."""
    page = raw.decode("utf-8", errors="replace")
    title_match = TITLE_RE.search(page)
    title = html.unescape(re.sub(r"\s+", " ", title_match.group(1))).strip() if title_match else ""
    main = MAIN_RE.search(page)
    content = main.group(2) if main else page
    content = BLOCK_RE.sub("\n\n", nh3.clean(content, tags=BLOCK_TAGS))
    text = html.unescape(nh3.clean(content, tags=set()))
    paragraphs = [re.sub(r"[ \t]+", " ", block).strip() for block in re.split(r"\n\s*\n", text)]
    return title, "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


def source_crawl(*, source: KnowledgeSource, actor, now: datetime | None = None) -> CrawlReport:
    """Fetch the source's sitemap and ingest pages modified within its look-back window.

    A trial source stops at 1,000 pages. ``actor`` publishes (a knowledge
    manager). Side effects: Article rows (published), their passages, the
    source's ``last_crawled_at`` and ``last_report``.
    """
    now = now or timezone.now()
    report = CrawlReport()
    try:
        entries = sitemap_entries(_fetch(source.sitemap_url))
    except (urllib.error.URLError, TimeoutError, ElementTree.ParseError, ValueError) as error:
        report.failures.append({"url": source.sitemap_url, "error": str(error)})
        entries = []
    since = now - timedelta(days=source.lookback_days)
    limit = TRIAL_PAGE_LIMIT if source.trial else None
    for url, modified in entries:
        if limit is not None and report.pages >= limit:
            break
        if modified is not None and modified < since:
            report.skipped_old += 1
            continue
        report.pages += 1
        try:
            title, body = page_content(_fetch(url))
            if not title or not body:
                raise ValueError("the page has no title or no text")
            result = article_import(
                actor=actor, external_id=url[:200], status=ArticleStatus.PUBLISHED, title=title, body=body,
                product=source.product, visibility=source.visibility, language=source.language,
                category=source.name,
            )
        except (urllib.error.URLError, TimeoutError, ValueError) as error:
            report.failures.append({"url": url, "error": str(error)})
            continue
        setattr(report, result.outcome, getattr(report, result.outcome) + 1)
        if result.outcome != "unchanged":
            article_index(article_id=result.article.pk)
    with transaction.atomic():
        KnowledgeSource.objects.filter(pk=source.pk).update(last_crawled_at=now, last_report=report.as_dict())
    return report

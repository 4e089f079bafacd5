"""Hybrid search: pgvector nearest neighbours + PostgreSQL full text, fused with RRF.

One entry point, ``search``, serves the agent workspace, bots, IVR, help
center and API. Both retrievers apply the filters inside their index scans
(the filter columns live on the passages), so a selective filter still
returns a full page: for the HNSW scan that takes pgvector's iterative scans
(``hnsw.iterative_scan``), which keep walking the graph until enough rows pass
the filter, and a filter the planner expects to leave few rows is answered by
an exact scan of those rows instead.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction

from contactcenter.permissions import is_staff_member
from copilot.providers import embed
from knowledge.choices import SEARCH_CONFIGS, ArticleStatus, Language, SearchSort, Visibility
from knowledge.models import Article, SearchLog

#: Reciprocal rank fusion constant (Cormack et al. 2009): 60 damps the head of
#: each list so agreement between retrievers outweighs one list's top rank.
RRF_K = 60
#: Passages each retriever returns per requested article: several passages of
#: one article collapse into one hit, so each list must over-fetch.
CANDIDATES_PER_HIT = 4
MIN_CANDIDATES = 40
#: ANY_TERM_MATCHING — the hybrid's full-text side requires every query term
#: (AND). Measured on bench/knowledge_eval.py (200 articles, 468 queries):
#: with AND the hybrid reaches recall@5 0.957 / MRR 0.787 against vector-only
#: 0.942 / 0.767; feeding it any-term (OR) matches at full weight dropped it to
#: 0.797 / 0.611, at 0.1 weight MRR fell to 0.755 — OR lists of a customer's
#: question are mostly passages sharing one common word. Exact tokens (error
#: codes, model numbers) are what full text adds, and AND keeps those.
#: ``hnsw.ef_search`` for the query. bench/bench_knowledge.py at 100k passages
#: (quiet machine): ef_search 40 and 100 both gave recall@10 0.996 at p95
#: ≈ 2.7–2.9 ms for the database part (numpy exact search: ~8 ms); 100 is kept
#: as headroom for real embeddings, which cluster less kindly than the bench's.
EF_SEARCH = 100
#: Iterative scans (pgvector ≥ 0.8): ``relaxed_order`` continues the graph walk
#: until LIMIT rows pass the WHERE clause; results are re-sorted by distance
#: below. ``max_scan_tuples`` bounds the work for filters that match nothing.
ITERATIVE_SCAN = "relaxed_order"
MAX_SCAN_TUPLES = 40000
#: Below this many matching passages (planner estimate) a filtered query is
#: answered by an exact scan. bench/bench_knowledge.py at 100k passages: a 1 %
#: filter (~1,000 rows) took p50 ≈ 14 ms walking the HNSW graph (iterative
#: scan rejecting ~600 rows per query) and ≈ 2 ms in the database exactly.
EXACT_SCAN_ROWS = 5000
HEADLINE_START, HEADLINE_STOP = "\x02", "\x03"
HEADLINE_OPTIONS = (
    f"StartSel={HEADLINE_START}, StopSel={HEADLINE_STOP}, MaxWords=35, MinWords=15, "
    "MaxFragments=2, FragmentDelimiter=\" … \""
)
SNIPPET_CHARS = 220
PUBLIC = "public"
STAFF = "staff"


@dataclass(frozen=True)
class SearchFilters:
    """What a search may return; the public audience is always published + external."""

    statuses: tuple[str, ...] = (ArticleStatus.PUBLISHED,)
    visibilities: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    modified_since: datetime | None = None

    @classmethod
    def from_mapping(cls, values: dict[str, Any] | None) -> SearchFilters:
        values = values or {}

        def many(key: str) -> tuple[str, ...]:
            value = values.get(key)
            if value in (None, "", [], ()):
                return ()
            return tuple(value) if isinstance(value, list | tuple | set | frozenset) else (str(value),)

        return cls(
            statuses=many("status") or (ArticleStatus.PUBLISHED,), visibilities=many("visibility"),
            languages=many("language"), products=many("product"), modified_since=values.get("modified_since"),
        )

    def for_audience(self, audience: str) -> SearchFilters:
        if audience == STAFF:
            return self
        return SearchFilters(
            statuses=(ArticleStatus.PUBLISHED,), visibilities=(Visibility.EXTERNAL,), languages=self.languages,
            products=self.products, modified_since=self.modified_since,
        )

    def sql(self, alias: str = "") -> tuple[str, dict[str, Any]]:
        """A WHERE clause over the passages' copied columns, with named parameters."""
        prefix = f"{alias}." if alias else ""
        clauses, params = [f"{prefix}status = ANY(%(f_status)s)"], {"f_status": list(self.statuses)}
        columns = (("visibility", self.visibilities), ("language", self.languages), ("product", self.products))
        for column, values in columns:
            if values:
                clauses.append(f"{prefix}{column} = ANY(%(f_{column})s)")
                params[f"f_{column}"] = list(values)
        if self.modified_since:
            clauses.append(f"{prefix}modified_at >= %(f_modified_since)s")
            params["f_modified_since"] = self.modified_since
        return " AND ".join(clauses), params


@dataclass(frozen=True)
class SearchHit:
    """One article found, with the passage that matched best."""

    article: Article
    score: float
    passage_id: int
    heading: str
    highlight: str
    passage_text: str
    similarity: float | None = None
    vector_rank: int | None = None
    text_rank: int | None = None


@dataclass
class _Candidate:
    article_id: int
    score: float = 0.0
    vector_passage: int | None = None
    text_passage: int | None = None
    similarity: float | None = None
    vector_rank: int | None = None
    text_rank: int | None = None


def vector_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(f"{value:.7f}" for value in vector) + "]"


def _audience(user) -> str:
    return STAFF if user is not None and is_staff_member(user) else PUBLIC


def _tsquery_sql(configs: Iterable[str], *, require_all: bool = True) -> str:
    if require_all:
        parts = [f"plainto_tsquery('{config}', %(q)s)" for config in configs]
    else:
        parts = [f"replace(plainto_tsquery('{config}', %(q)s)::text, ' & ', ' | ')::tsquery" for config in configs]
    return " || ".join(parts)


def _configs(filters: SearchFilters) -> list[str]:
    if filters.languages:
        return sorted({Language.search_config(code) for code in filters.languages})
    languages = cache.get("knowledge:search:languages")
    if languages is None:
        languages = sorted(set(Article.objects.values_list("language", flat=True).distinct())) or ["en"]
        cache.set("knowledge:search:languages", languages, 300)
    return sorted({SEARCH_CONFIGS.get(code, "simple") for code in languages})


def _estimated_rows(filters: SearchFilters) -> float:
    """The planner's estimate of the passages passing the filters: statistics only, no rows read."""
    where, params = filters.sql()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM knowledge_articlepassage WHERE {where}", params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return float(plan[0]["Plan"]["Plan Rows"])


def _exact_candidates(cursor, where: str, params: dict[str, Any]) -> list[tuple[int, int, float]]:
    # "+ 0" keeps the planner off the HNSW index: this ORDER BY is a plain sort of the filtered rows.
    cursor.execute(
        f"""
        SELECT id, article_id, embedding <=> %(vector)s::vector AS distance
        FROM knowledge_articlepassage WHERE {where}
        ORDER BY (embedding <=> %(vector)s::vector) + 0 LIMIT %(limit)s
        """,
        params,
    )
    return cursor.fetchall()


def vector_candidates(
    *, vector: Sequence[float], filters: SearchFilters, limit: int, ef_search: int = EF_SEARCH
) -> list[tuple[int, int, float]]:
    """(passage id, article id, cosine distance) of the nearest passages that pass the filters.

    A filter the planner expects to leave few rows (a product, a recent
    modified-since) is answered exactly: the filter's index finds the rows and
    their distances are sorted — exact, and faster than walking the graph past
    thousands of rejected rows. Everything else walks the HNSW graph with
    iterative scans, the filter applied inside the scan; should that stop
    short of ``limit`` rows (``max_scan_tuples``), the exact scan answers, so a
    filtered query always returns ``limit`` rows when that many match.
    """
    where, params = filters.sql()
    params = {**params, "vector": vector_literal(vector), "limit": limit}
    narrowed = bool(filters.products or filters.modified_since or filters.languages or filters.visibilities)
    with transaction.atomic(), connection.cursor() as cursor:
        if narrowed and _estimated_rows(filters) < EXACT_SCAN_ROWS:
            return _exact_candidates(cursor, where, params)
        cursor.execute(
            "SELECT set_config('hnsw.ef_search', %s, true), set_config('hnsw.iterative_scan', %s, true),"
            " set_config('hnsw.max_scan_tuples', %s, true)",
            [str(ef_search), ITERATIVE_SCAN, str(MAX_SCAN_TUPLES)],
        )
        cursor.execute(
            f"""
            WITH nearest AS MATERIALIZED (
                SELECT id, article_id, embedding <=> %(vector)s::vector AS distance
                FROM knowledge_articlepassage WHERE {where}
                ORDER BY embedding <=> %(vector)s::vector LIMIT %(limit)s
            ) SELECT id, article_id, distance FROM nearest ORDER BY distance
            """,
            params,
        )
        rows = cursor.fetchall()
        if len(rows) < limit and narrowed:
            return _exact_candidates(cursor, where, params)
        return rows


def text_candidates(
    *, query: str, filters: SearchFilters, limit: int, require_all: bool = True
) -> list[tuple[int, int, float]]:
    """(passage id, article id, rank) of the best full-text matches that pass the filters.

    ``require_all`` matches passages containing every query term (AND);
    otherwise any term (OR), ranked by cover density.
    """
    where, params = filters.sql("p")
    tsquery = _tsquery_sql(_configs(filters), require_all=require_all)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.id, p.article_id, ts_rank_cd(p.search_vector, q.query, 1) AS rank
            FROM knowledge_articlepassage p, (SELECT {tsquery} AS query) q
            WHERE p.search_vector @@ q.query AND {where}
            ORDER BY rank DESC, p.id LIMIT %(limit)s
            """,
            {**params, "q": query, "limit": limit},
        )
        return cursor.fetchall()


def _fuse(vector_rows, text_rows) -> dict[int, _Candidate]:
    candidates: dict[int, _Candidate] = {}
    for rank, (passage_id, article_id, distance) in enumerate(_first_per_article(vector_rows), start=1):
        candidate = candidates.setdefault(article_id, _Candidate(article_id))
        candidate.score += 1.0 / (RRF_K + rank)
        candidate.vector_passage, candidate.similarity, candidate.vector_rank = passage_id, 1.0 - distance, rank
    for rank, (passage_id, article_id, _score) in enumerate(_first_per_article(text_rows), start=1):
        candidate = candidates.setdefault(article_id, _Candidate(article_id))
        candidate.score += 1.0 / (RRF_K + rank)
        candidate.text_passage, candidate.text_rank = passage_id, rank
    return candidates


def _first_per_article(rows):
    seen: set[int] = set()
    for row in rows:
        if row[1] not in seen:
            seen.add(row[1])
            yield row


def _highlights(passage_ids: list[int], query: str, configs: list[str]) -> dict[int, tuple[str, str, str]]:
    """passage id → (heading, highlighted HTML, text); marks come from ts_headline, escaped here."""
    if not passage_ids:
        return {}
    tsquery = _tsquery_sql(configs, require_all=False)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT p.id, p.heading, p.text,
                   ts_headline(p.search_config::regconfig, p.text, {tsquery}, %(options)s)
            FROM knowledge_articlepassage p WHERE p.id = ANY(%(ids)s)
            """,
            {"q": query, "options": HEADLINE_OPTIONS, "ids": passage_ids},
        )
        rows = cursor.fetchall()
    found = {}
    for passage_id, heading, text, headline in rows:
        marked = html.escape(headline).replace(HEADLINE_START, "<mark>").replace(HEADLINE_STOP, "</mark>")
        found[passage_id] = (heading, marked, text)
    return found


def _snippet(text: str) -> str:
    if len(text) <= SNIPPET_CHARS:
        return html.escape(text)
    return html.escape(text[:SNIPPET_CHARS].rsplit(" ", 1)[0]) + " …"


def search(
    query: str,
    *,
    filters: dict[str, Any] | SearchFilters | None = None,
    k: int = 10,
    user=None,
    sort: str = SearchSort.RELEVANCE,
    mode: str = "hybrid",
    vector: Sequence[float] | None = None,
    log: bool = True,
    audience: str | None = None,
) -> list[SearchHit]:
    """The ``k`` best articles for ``query``, best first, with highlights.

    ``user`` decides the audience: staff (agents and up) may filter by any
    status and see internal articles; anyone else — customers, the help
    center, bots and the IVR, which pass ``user=None`` — only ever gets
    published external articles, whatever the filters say. ``mode`` is
    ``hybrid``, ``vector`` or ``text`` (the benchmark compares them).
    ``audience`` (``"staff"`` / ``"public"``) overrides what ``user`` implies,
    for callers that have already decided (smart assist serves agents).
    Side effects: a SearchLog row when ``log``.
    """
    query = " ".join(query.split())[:500]
    if not query or k <= 0:
        return []
    audience = audience or _audience(user)
    if not isinstance(filters, SearchFilters):
        filters = SearchFilters.from_mapping(filters)
    filters = filters.for_audience(audience)
    limit = max(k * CANDIDATES_PER_HIT, MIN_CANDIDATES)
    vector_rows = text_rows = []
    if mode in ("hybrid", "vector"):
        query_vector = vector if vector is not None else embed([query])[0]
        vector_rows = vector_candidates(vector=query_vector, filters=filters, limit=limit)
    if mode in ("hybrid", "text"):
        text_rows = text_candidates(query=query, filters=filters, limit=limit)
        if not text_rows and mode == "text":
            # Any-term matching rescues full text on its own (typos, partial wording) but only adds noise
            # to the fusion: see ANY_TERM_MATCHING.
            text_rows = text_candidates(query=query, filters=filters, limit=limit, require_all=False)
    candidates = _fuse(vector_rows, text_rows)
    articles = Article.objects.in_bulk(list(candidates))
    allowed = [
        candidate for candidate in candidates.values()
        if (article := articles.get(candidate.article_id)) is not None
        and article.status in filters.statuses
        and (not filters.visibilities or article.visibility in filters.visibilities)
    ]
    if sort == SearchSort.VIEWS:
        allowed.sort(key=lambda c: (-articles[c.article_id].view_count, -c.score))
    elif sort == SearchSort.RECENCY:
        allowed.sort(key=lambda c: (articles[c.article_id].updated_at, c.score), reverse=True)
    else:
        allowed.sort(key=lambda c: (-c.score, c.article_id))
    top = allowed[:k]
    passages = _highlights(
        [c.text_passage or c.vector_passage for c in top], query, _configs(filters)
    )
    hits = []
    for candidate in top:
        passage_id = candidate.text_passage or candidate.vector_passage
        heading, marked, text = passages.get(passage_id, ("", "", ""))
        hits.append(
            SearchHit(
                article=articles[candidate.article_id], score=candidate.score, passage_id=passage_id,
                heading=heading, highlight=marked if candidate.text_passage else _snippet(text), passage_text=text,
                similarity=candidate.similarity, vector_rank=candidate.vector_rank, text_rank=candidate.text_rank,
            )
        )
    if log:
        SearchLog.objects.create(
            query=query, result_count=len(hits), audience=audience, user=user if audience == STAFF else None
        )
    return hits

"""Knowledge search benchmarks (``make bench``): retrieval quality and latency, one line per figure.

* Quality: the built-in evaluation set (knowledge_eval.py: 200 articles, 468
  customer queries) — recall@5 and MRR@10 of vector-only, full-text-only and
  hybrid search. Hybrid must beat both.
* Latency: 100,000 passages (synthetic: real MiniLM vectors of the evaluation
  set mixed with noise, with the evaluation texts), HNSW built with the
  production parameters. Database part p50/p95 with and without a selective
  filter (1 % of passages), HNSW recall@10 against exact search, rows a
  filtered query returns, and end-to-end API search p95 including the query
  embedding.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pytest
from django.db import connection
from django.utils import timezone
from knowledge_eval import evaluation_set
from rest_framework.test import APIClient

from copilot.providers import embed
from knowledge import services
from knowledge.choices import ArticleStatus, Visibility
from knowledge.models import HNSW_EF_CONSTRUCTION, HNSW_M, Article, ArticlePassage
from knowledge.services.search import EF_SEARCH, SearchFilters, vector_candidates

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

PASSAGES = 100_000
PASSAGES_PER_ARTICLE = 5
RARE_SHARE = 0.01
K = 10


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


def _rank(hits, key_by_id: dict[int, str], target: str) -> int | None:
    for position, hit in enumerate(hits, start=1):
        if key_by_id.get(hit.article.pk) == target:
            return position
    return None


def test_retrieval_quality(agent, supervisor):
    articles, queries = evaluation_set()
    key_by_id = {}
    for item in articles:
        article = services.article_create(author=agent, title=item.title, body=item.body, product=item.product,
                                          visibility=Visibility.EXTERNAL)
        services.article_submit(article=article, actor=agent)
        services.article_approve(article=article, actor=supervisor)
        services.article_publish(article=article, actor=supervisor)
        services.article_index(article_id=article.pk)
        key_by_id[article.pk] = item.key
    vectors = embed([query.text for query in queries])

    results = {}
    for mode in ("vector", "text", "hybrid"):
        ranks = []
        for query, vector in zip(queries, vectors, strict=True):
            hits = services.search(query.text, k=K, user=agent, mode=mode, vector=vector, log=False)
            ranks.append((query.kind, _rank(hits, key_by_id, query.article_key)))
        recall = sum(1 for _kind, rank in ranks if rank and rank <= 5) / len(ranks)
        mrr = sum(1 / rank for _kind, rank in ranks if rank) / len(ranks)
        by_kind = {
            kind: sum(1 for k, rank in ranks if k == kind and rank and rank <= 5)
            / sum(1 for k, _r in ranks if k == kind)
            for kind in sorted({kind for kind, _rank in ranks})
        }
        results[mode] = (recall, mrr)
        detail = " ".join(f"{kind}={value:.3f}" for kind, value in by_kind.items())
        print(f"knowledge quality {mode:>6}: recall@5={recall:.3f} MRR={mrr:.3f} "
              f"({len(articles)} articles, {len(queries)} queries; recall@5 by kind: {detail})")
    assert results["hybrid"][0] > max(results["vector"][0], results["text"][0])
    assert results["hybrid"][1] > max(results["vector"][1], results["text"][1])


def _load_passages(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """100k passages around real embeddings, 1 % of them in a rare product; indexes built after the load."""
    articles, queries = evaluation_set()
    texts = [f"{item.title}. {item.body}" for item in articles]
    base = np.array(embed(texts + [query.text for query in queries]), dtype=np.float32)
    first = rng.integers(0, len(base), PASSAGES)
    second = rng.integers(0, len(base), PASSAGES)
    noise = rng.standard_normal((PASSAGES, base.shape[1]), dtype=np.float32) * 0.03
    matrix = 0.8 * base[first] + 0.2 * base[second] + noise
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    rare = rng.random(PASSAGES) < RARE_SHARE

    now = timezone.now()
    count = PASSAGES // PASSAGES_PER_ARTICLE
    Article.objects.bulk_create(
        Article(number=f"KB-{n:06d}", title=f"Synthetic article {n}", status=ArticleStatus.PUBLISHED,
                visibility=Visibility.EXTERNAL, published_at=now)
        for n in range(count)
    )
    article_ids = list(Article.objects.filter(number__startswith="KB-").order_by("pk").values_list("pk", flat=True))
    from pgvector.psycopg import register_vector

    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX knowledge_passage_embedding")
        cursor.execute("DROP INDEX knowledge_passage_fts")
        register_vector(connection.connection)
        raw = connection.connection.cursor()
        # Load through a staging table so the tsvector is computed on insert (an UPDATE afterwards
        # would leave 100k dead rows behind and double the heap).
        columns = (
            "article_id, position, heading, text, embedding, search_config, status, visibility, language, product,"
            " modified_at"
        )
        cursor.execute(
            f"CREATE TEMP TABLE passage_load ON COMMIT DROP AS SELECT {columns} FROM knowledge_articlepassage LIMIT 0"
        )
        with raw.copy(f"COPY passage_load ({columns}) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "int4", "varchar", "text", "vector", "varchar", "varchar", "varchar", "varchar",
                            "varchar", "timestamptz"])
            for index in range(PASSAGES):
                copy.write_row([
                    article_ids[index // PASSAGES_PER_ARTICLE], index % PASSAGES_PER_ARTICLE, "",
                    texts[first[index] % len(texts)], matrix[index], "english", "published", "external", "en",
                    "Rare" if rare[index] else "Common", now,
                ])
        cursor.execute(
            f"INSERT INTO knowledge_articlepassage ({columns}, search_vector) "
            f"SELECT {columns}, to_tsvector('english', text) FROM passage_load ORDER BY article_id, position"
        )
        # Django's foreign keys are deferred; check them now, or CREATE INDEX refuses the table.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        started = time.perf_counter()
        cursor.execute(
            f"CREATE INDEX knowledge_passage_embedding ON knowledge_articlepassage USING hnsw "
            f"(embedding vector_cosine_ops) WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
        )
        build = time.perf_counter() - started
        cursor.execute("CREATE INDEX knowledge_passage_fts ON knowledge_articlepassage USING gin (search_vector)")
        cursor.execute("ANALYZE knowledge_articlepassage")
    ids = np.array(list(ArticlePassage.objects.order_by("id").values_list("id", flat=True)), dtype=np.int64)
    print(f"knowledge index build: {PASSAGES} passages, HNSW m={HNSW_M} ef_construction={HNSW_EF_CONSTRUCTION} "
          f"in {build:.1f} s")
    return matrix, rare, [query.text for query in queries], ids


def test_search_latency_at_100k_passages(agent):
    rng = np.random.default_rng(11)
    matrix, rare, query_texts, ids = _load_passages(rng)
    query_vectors = np.array(embed(query_texts[:200]), dtype=np.float32)
    everything = SearchFilters()
    filtered = SearchFilters(products=("Rare",))
    rare_rows = np.flatnonzero(rare)

    # Exact search in numpy, the baseline the index must beat.
    started = time.perf_counter()
    for vector in query_vectors[:50]:
        np.argpartition(-(matrix @ vector), K)[:K]
    numpy_ms = (time.perf_counter() - started) / 50 * 1000
    # Printed first: other processes on a shared 2-core machine inflate every figure below alike.
    print(f"knowledge exact search in numpy: {numpy_ms:.1f} ms per query over {PASSAGES} x 384 (machine load gauge)")

    for ef_search in (40, EF_SEARCH, 200):
        for label, filters, limit in (("unfiltered", everything, K), ("filtered 1%", filtered, K),
                                      ("unfiltered", everything, 4 * K)):
            timings, recalls, returned = [], [], []
            for vector in query_vectors:
                started = time.perf_counter()
                rows = vector_candidates(vector=vector, filters=filters, limit=limit, ef_search=ef_search)
                timings.append(time.perf_counter() - started)
                scores = matrix @ vector
                if filters is filtered:
                    exact_rows = rare_rows[np.argsort(-scores[rare_rows])[:limit]]
                else:
                    exact_rows = np.argsort(-scores)[:limit]
                exact = set(ids[exact_rows].tolist())
                recalls.append(len(exact & {row[0] for row in rows}) / limit)
                returned.append(len(rows))
            p50, p95 = _ms(timings)
            target = f" (target p95 <= 5 ms: {'met' if p95 <= 5 else 'missed'})" if limit == K else ""
            print(f"knowledge db vector search {label:>11} k={limit:<3} ef_search={ef_search:<3}: "
                  f"p50={p50:.2f} ms p95={p95:.2f} ms recall@{limit}={statistics.mean(recalls):.3f} "
                  f"rows returned min={min(returned)}/{limit}{target}")
            if ef_search == EF_SEARCH and limit == K:
                # Correctness holds whatever the machine's load: full pages and recall.
                assert min(returned) == K
                assert statistics.mean(recalls) >= 0.97

    from knowledge.services.search import text_candidates

    parts = {"embedding": [], "full text": []}
    for text in query_texts[:200]:
        started = time.perf_counter()
        embed([text])
        parts["embedding"].append(time.perf_counter() - started)
        started = time.perf_counter()
        text_candidates(query=text, filters=everything, limit=4 * K)
        parts["full text"].append(time.perf_counter() - started)
    for name, samples in parts.items():
        p50, p95 = _ms(samples)
        print(f"knowledge search part {name}: p50={p50:.1f} ms p95={p95:.1f} ms")

    client = APIClient()
    client.force_authenticate(agent)
    client.get("/api/v1/knowledge/search", {"q": "warm up"})
    timings = []
    for text in query_texts[:200]:
        started = time.perf_counter()
        response = client.get("/api/v1/knowledge/search", {"q": text, "k": K})
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200
    p50, p95 = _ms(timings)
    print(f"knowledge API search end to end (embedding + hybrid + highlights), {PASSAGES} passages: "
          f"p50={p50:.1f} ms p95={p95:.1f} ms (target p95 <= 50 ms: {'met' if p95 <= 50 else 'missed'})")

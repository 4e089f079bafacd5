"""Case-to-knowledge (REFERENCE H.110): draft an article from a resolved case, for a person to review.

Nothing here publishes: an accepted draft becomes a draft article (or a new
draft version of the article it would update) in the normal review workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from contactcenter.realtime import publish
from copilot.providers import ContextPassage, embed, generate
from crm.choices import CaseStatus
from crm.models import Case
from knowledge import events
from knowledge.choices import ArticleStatus, DraftKind, DraftStatus
from knowledge.exceptions import DraftAlreadyReviewed, KnowledgePermissionDenied
from knowledge.models import Article, KnowledgeDraft, ResolvedCaseIndex
from knowledge.permissions import can_manage
from knowledge.services.articles import article_create, article_update, article_version_create
from knowledge.services.assist import case_index
from knowledge.services.search import SearchFilters, vector_candidates

#: A draft whose best passage is at least this similar to a published article
#: is proposed as an update of that article instead of a new one.
DUPLICATE_THRESHOLD = getattr(settings, "KNOWLEDGE_DUPLICATE_THRESHOLD", 0.75)
#: H.110 "rule-filtered": only resolutions that say something become drafts.
MIN_RESOLUTION_WORDS = 5
RESOLVED_SWEEP_WINDOW_HOURS = 24
RESOLVED_SWEEP_BATCH = 200
DRAFT_PROMPT = (
    "Write a knowledge article for customer-service agents from this resolved case, in Markdown with the "
    "sections Problem, Environment and Resolution (numbered steps). Leave out names, emails and phone numbers."
)


@dataclass(frozen=True)
class DuplicatePair:
    first: Article
    second: Article
    similarity: float


def case_resolved_draft_enqueue(*, case: Case) -> bool:
    """Queue drafting an article from a just-resolved case; returns whether it was queued.

    Called after ``crm.services.case_resolve``. Side effects: after commit the
    ``case_knowledge_draft`` task (which also indexes the case for similar-case
    suggestions).
    """
    from knowledge import tasks

    if case.status != CaseStatus.RESOLVED:
        return False
    case_id = case.pk
    transaction.on_commit(lambda: tasks.case_knowledge_draft.delay(case_id))
    return True


def resolved_cases_draft_sweep(*, now=None, window_hours: int = RESOLVED_SWEEP_WINDOW_HOURS) -> int:
    """Queue drafting for cases resolved in the last ``window_hours`` that were never processed.

    crm may not import knowledge, so ``crm.services.case_resolve`` (case page,
    API) cannot call ``case_resolved_draft_enqueue``; this sweep, run every
    minute by beat, picks them up instead. A case counts as processed once the
    drafting task has indexed it (``ResolvedCaseIndex``), so the sweep is
    idempotent; a task still in flight may be queued twice, which
    ``case_draft_create`` absorbs. Returns how many were queued.
    Side effects: after commit ``case_knowledge_draft`` tasks.
    """
    since = (now or timezone.now()) - timedelta(hours=window_hours)
    pending = (
        Case.objects.filter(status=CaseStatus.RESOLVED, resolved_at__gte=since)
        .exclude(resolution="")
        .exclude(pk__in=ResolvedCaseIndex.objects.values("case_id"))
        .exclude(pk__in=KnowledgeDraft.objects.values("case_id"))
        .order_by("resolved_at")[:RESOLVED_SWEEP_BATCH]
    )
    queued = 0
    for case in pending:
        queued += case_resolved_draft_enqueue(case=case)
    return queued


def _case_context(case: Case) -> list[ContextPassage]:
    environment = [
        f"Channel: {conversation.get_channel_kind_display()}" for conversation in case.conversations.all()[:1]
    ]
    if case.account_id:
        environment.append(f"Customer tier: {case.account.get_tier_display()}")
    passages = [
        ContextPassage(
            id=f"case:{case.pk}:problem", title="Problem", text=f"{case.subject}. {case.description}".strip()
        ),
        ContextPassage(id=f"case:{case.pk}:environment", title="Environment", text=". ".join(environment)),
        ContextPassage(id=f"case:{case.pk}:resolution", title="Resolution", text=case.resolution),
    ]
    return [passage for passage in passages if passage.text.strip(". ")]


def _nearest_published(text: str) -> tuple[int | None, float | None]:
    [vector] = embed([text])
    rows = vector_candidates(vector=vector, filters=SearchFilters(), limit=1)
    if not rows:
        return None, None
    _passage_id, article_id, distance = rows[0]
    return article_id, 1.0 - distance


def case_draft_create(*, case_id: int) -> KnowledgeDraft | None:
    """Draft an article from a resolved case (the ``case_knowledge_draft`` task's body). Idempotent.

    Generation and embedding happen before the write transaction. Above
    ``DUPLICATE_THRESHOLD`` similarity to a published article the draft
    proposes updating it. Side effects: ResolvedCaseIndex, KnowledgeDraft;
    ``knowledge_draft.created`` to supervisors.
    """
    case = Case.objects.select_related("account").filter(pk=case_id).first()
    if case is None or case.status != CaseStatus.RESOLVED:
        return None
    case_index(case_id=case.pk)
    existing = KnowledgeDraft.objects.filter(case=case).first()
    if existing or len(case.resolution.split()) < MIN_RESOLUTION_WORDS:
        return existing
    generation = generate(DRAFT_PROMPT, _case_context(case), sections=True)
    target_id, similarity = _nearest_published(f"{case.subject}\n{case.description}\n{case.resolution}")
    is_update = similarity is not None and similarity >= DUPLICATE_THRESHOLD
    with transaction.atomic():
        draft, created = KnowledgeDraft.objects.get_or_create(
            case=case,
            defaults={
                "kind": DraftKind.UPDATE if is_update else DraftKind.NEW, "title": case.subject[:255],
                "body": generation.text, "target_id": target_id if is_update else None, "similarity": similarity,
                "provider": generation.provider, "model": generation.model, "sources": generation.sources,
            },
        )
        if created:
            publish(events.draft_created(draft), groups=events.draft_groups())
    return draft


def draft_accept(*, draft: KnowledgeDraft, actor) -> Article:
    """A knowledge manager takes a case draft into the workflow: a new draft article, or a new
    version of the article it updates with the case's resolution appended. Nothing is published."""
    if not can_manage(actor):
        raise KnowledgePermissionDenied()
    with transaction.atomic():
        draft = KnowledgeDraft.objects.select_for_update(of=("self",)).select_related("case", "target").get(pk=draft.pk)
        if draft.status != DraftStatus.PENDING:
            raise DraftAlreadyReviewed()
        target = None
        if draft.kind == DraftKind.UPDATE and draft.target_id:
            target = Article.objects.filter(
                number=draft.target.number, language=draft.target.language, status=ArticleStatus.PUBLISHED
            ).first()
        if target is not None:
            article = article_version_create(article=target, actor=actor)
            body = f"{article.body.rstrip()}\n\n## Update from {draft.case.number}\n\n{draft.body}"
            article = article_update(article=article, actor=actor, body=body)
        else:
            article = article_create(author=actor, title=draft.title, body=draft.body, product=draft.product)
        draft.status, draft.article, draft.reviewed_by, draft.reviewed_at = (
            DraftStatus.ACCEPTED, article, actor, timezone.now()
        )
        draft.save(update_fields=["status", "article", "reviewed_by", "reviewed_at"])
    return article


def draft_dismiss(*, draft: KnowledgeDraft, actor) -> KnowledgeDraft:
    """Reject a case draft (it stays on record, dismissed)."""
    if not can_manage(actor):
        raise KnowledgePermissionDenied()
    with transaction.atomic():
        draft = KnowledgeDraft.objects.select_for_update().get(pk=draft.pk)
        if draft.status != DraftStatus.PENDING:
            raise DraftAlreadyReviewed()
        draft.status, draft.reviewed_by, draft.reviewed_at = DraftStatus.DISMISSED, actor, timezone.now()
        draft.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    return draft


def duplicates_find(*, threshold: float = 0.9, limit: int = 100) -> list[DuplicatePair]:
    """Pairs of published articles (different numbers) with passages at least ``threshold`` similar.

    Each passage looks up its nearest neighbours through the HNSW index, so
    the clean-up report scales with the base rather than its square.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)")
        cursor.execute(
            """
            SELECT LEAST(a.article_id, n.article_id), GREATEST(a.article_id, n.article_id), MAX(1 - n.distance)
            FROM knowledge_articlepassage a
            CROSS JOIN LATERAL (
                SELECT b.article_id, b.embedding <=> a.embedding AS distance FROM knowledge_articlepassage b
                WHERE b.status = 'published' AND b.article_id <> a.article_id
                ORDER BY b.embedding <=> a.embedding LIMIT 5
            ) n
            WHERE a.status = 'published' AND n.distance <= %(max_distance)s
            GROUP BY 1, 2 ORDER BY 3 DESC LIMIT %(limit)s
            """,
            {"max_distance": 1 - threshold, "limit": limit * 2},
        )
        rows = cursor.fetchall()
    articles = Article.objects.in_bulk({pk for row in rows for pk in row[:2]})
    pairs = [
        DuplicatePair(articles[first], articles[second], similarity)
        for first, second, similarity in rows
        if articles[first].number != articles[second].number
    ]
    return pairs[:limit]

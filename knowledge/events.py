"""Real-time events of the knowledge base: their types, payloads and target groups."""

from __future__ import annotations

from contactcenter.realtime import Event, groups
from knowledge.models import Article, KnowledgeDraft

ARTICLE_STATUS_CHANGED = "article.status_changed"
DRAFT_CREATED = "knowledge_draft.created"


def article_groups(article: Article) -> list[str]:
    """Supervisors (who manage the base) and the article's author."""
    targets = [groups.supervisors()]
    if article.author_id:
        targets.append(groups.agent(article.author_id))
    return targets


def article_status_changed(article: Article, *, previous: str) -> Event:
    return Event(
        type=ARTICLE_STATUS_CHANGED,
        data={
            "article_id": article.pk, "number": article.number, "version": article.version,
            "status": article.status, "previous_status": previous,
        },
    )


def draft_created(draft: KnowledgeDraft) -> Event:
    return Event(
        type=DRAFT_CREATED,
        data={"draft_id": draft.pk, "case_id": draft.case_id, "kind": draft.kind, "target_id": draft.target_id},
    )


def draft_groups() -> list[str]:
    """Case drafts wait for knowledge managers, who follow the supervisors' group."""
    return [groups.supervisors()]

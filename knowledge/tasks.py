"""Celery interface of the knowledge base: load by id, call a service. Every task is idempotent."""

from __future__ import annotations

from celery import shared_task

from knowledge import services


@shared_task(bind=True, acks_late=True, max_retries=3, default_retry_delay=30)
def article_index(self, article_id: int) -> int:
    """Embed an article's passages (after create, edit, publish and new version)."""
    return services.article_index(article_id=article_id)


@shared_task(bind=True, acks_late=True)
def articles_lifecycle_sweep(self) -> tuple[int, int]:
    """Every 5 minutes (beat, see migration 0002): publish scheduled, expire due articles."""
    return services.articles_lifecycle_sweep()


@shared_task(bind=True, acks_late=True, max_retries=3, default_retry_delay=60)
def case_knowledge_draft(self, case_id: int) -> int | None:
    """Index a resolved case and draft a knowledge article from it for review."""
    draft = services.case_draft_create(case_id=case_id)
    return draft.pk if draft else None


@shared_task(bind=True, acks_late=True)
def resolved_cases_draft_sweep(self) -> int:
    """Every minute (beat, see migration 0007): queue drafting for newly resolved cases."""
    return services.resolved_cases_draft_sweep()

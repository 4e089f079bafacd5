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
def knowledge_sources_refresh(self) -> int:
    """Daily (beat): re-crawl every active external knowledge source, acting as the first administrator."""
    from django.contrib.auth import get_user_model

    from knowledge.models import KnowledgeSource

    actor = get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    if actor is None:
        return 0
    sources = list(KnowledgeSource.objects.filter(is_active=True))
    for source in sources:
        services.source_crawl(source=source, actor=actor)
    return len(sources)


@shared_task(bind=True, acks_late=True)
def knowledge_source_crawl(self, source_id: int, user_id: int) -> dict:
    """Crawl one source now (the admin's "Crawl now"), acting as the user who asked."""
    from django.contrib.auth import get_user_model

    from knowledge.models import KnowledgeSource

    source = KnowledgeSource.objects.filter(pk=source_id).first()
    actor = get_user_model().objects.filter(pk=user_id).first()
    if source is None or actor is None:
        return {}
    return services.source_crawl(source=source, actor=actor).as_dict()


@shared_task(bind=True, acks_late=True)
def resolved_cases_draft_sweep(self) -> int:
    """Every minute (beat, see migration 0010): queue drafting for newly resolved cases."""
    return services.resolved_cases_draft_sweep()

"""Bring an existing knowledge base in: one article per external id, idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from knowledge.choices import ArticleStatus
from knowledge.models import Article
from knowledge.services.articles import (
    CONTENT_FIELDS,
    _clean_keywords,
    article_approve,
    article_create,
    article_publish,
    article_reopen,
    article_submit,
    article_update,
    article_version_create,
)

#: The lifecycle order an import walks an article through, up to the target status.
STEPS = [ArticleStatus.DRAFT, ArticleStatus.IN_REVIEW, ArticleStatus.APPROVED, ArticleStatus.PUBLISHED]
IMPORTABLE_STATUSES = frozenset(STEPS)


@dataclass(frozen=True)
class ImportResult:
    article: Article
    outcome: str  # "created", "updated", "unchanged"


def _latest(external_id: str) -> Article | None:
    seed = Article.objects.filter(external_id=external_id).first()
    if seed is None:
        return None
    return (
        Article.objects.filter(number=seed.number, language=seed.language)
        .exclude(status=ArticleStatus.DISCARDED)
        .order_by("-major_version", "-minor_version")
        .first()
    ) or seed


def _differs(article: Article, fields: dict[str, Any]) -> bool:
    return any(
        (_clean_keywords(value) if name == "keywords" else value) != getattr(article, name)
        for name, value in fields.items()
    )


def _advance(article: Article, *, actor, status: str) -> Article:
    target = STEPS.index(status)
    if article.status == ArticleStatus.DRAFT and target >= 1:
        article = article_submit(article=article, actor=actor)
    if article.status == ArticleStatus.IN_REVIEW and target >= 2:
        article = article_approve(article=article, actor=actor, comment="Imported")
    if article.status == ArticleStatus.APPROVED and target >= 3:
        article = article_publish(article=article, actor=actor)
    return article


def article_import(*, actor, external_id: str, status: str = ArticleStatus.DRAFT, **fields: Any) -> ImportResult:
    """Create or update the article known elsewhere as ``external_id`` and bring it to ``status``.

    A changed draft is edited in place; a changed published article gets a
    new minor version (the live one stays until the new one is published).
    Re-importing the same content changes nothing. ``actor`` needs the roles
    the steps need (a knowledge manager to approve and publish).
    Side effects: as the lifecycle services it calls.
    """
    if status not in IMPORTABLE_STATUSES:
        raise ValueError(f"cannot import into status {status!r}")
    unknown = set(fields) - set(CONTENT_FIELDS)
    if unknown:
        raise ValueError(f"unknown article fields: {sorted(unknown)}")
    with transaction.atomic():
        latest = _latest(external_id)
        if latest is None:
            article = article_create(author=actor, external_id=external_id, **fields)
            return ImportResult(_advance(article, actor=actor, status=status), "created")
        content = {name: value for name, value in fields.items() if name != "language"}
        if not _differs(latest, content):
            reached = latest.status not in IMPORTABLE_STATUSES or STEPS.index(latest.status) >= STEPS.index(status)
            if reached:
                return ImportResult(latest, "unchanged")
            return ImportResult(_advance(latest, actor=actor, status=status), "updated")
        if latest.status in ArticleStatus.versionable():
            latest = article_version_create(article=latest, actor=actor)
        elif latest.status != ArticleStatus.DRAFT:
            latest = article_reopen(article=latest, actor=actor, comment="Superseded by an import")
        article = article_update(article=latest, actor=actor, **content)
        return ImportResult(_advance(article, actor=actor, status=status), "updated")


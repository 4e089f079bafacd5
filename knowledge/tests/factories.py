"""Articles in a given state, built through the services (so they are indexed like real ones)."""

from __future__ import annotations

from knowledge import services
from knowledge.choices import ArticleStatus, Visibility
from knowledge.models import Article


def make_article(
    *, author, manager=None, status: str = ArticleStatus.PUBLISHED, visibility: str = Visibility.EXTERNAL,
    title: str = "Pair your Northwind AirBeats earbuds", body: str = "## Steps\nOpen the case and hold the button.",
    **fields,
) -> Article:
    article = services.article_create(author=author, title=title, body=body, visibility=visibility, **fields)
    if status != ArticleStatus.DRAFT:
        services.article_submit(article=article, actor=author)
    if status in (ArticleStatus.APPROVED, ArticleStatus.PUBLISHED):
        services.article_approve(article=article, actor=manager)
    if status == ArticleStatus.PUBLISHED:
        services.article_publish(article=article, actor=manager)
    services.article_index(article_id=article.pk)
    article.refresh_from_db()
    return article


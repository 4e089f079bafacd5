"""Knowledge reads, each restricted to what the acting user may see.

Staff (agents and up) read every article in every state; everyone else —
customers in the help center, bots, the IVR — only published external ones.
"""

from __future__ import annotations

from django.db.models import Count, QuerySet, Sum

from contactcenter.permissions import is_staff_member
from knowledge.choices import ArticleStatus, DraftStatus, UsageKind
from knowledge.models import Article, ArticleTemplate, ArticleUsage, KnowledgeDraft, ResolvedCaseIndex, SearchLog
from knowledge.permissions import can_manage


def articles_visible_to(user) -> QuerySet[Article]:
    qs = Article.objects.select_related("author", "reviewer")
    if user is not None and is_staff_member(user):
        return qs
    return qs.public()


def article_get(*, user, article_id: int) -> Article | None:
    return articles_visible_to(user).filter(pk=article_id).first()


def public_article_get(*, number: str, language: str | None = None) -> Article | None:
    """The live external version of an article, in ``language`` when it has one."""
    versions = Article.objects.public().filter(number=number)
    if language:
        found = versions.filter(language=language).first()
        if found:
            return found
    return versions.filter(translation_of__isnull=True).first() or versions.first()


def public_articles_popular(*, language: str | None = None, limit: int = 10) -> list[Article]:
    qs = Article.objects.public()
    if language:
        qs = qs.filter(language=language)
    return list(qs.order_by("-view_count", "title")[:limit])


def article_family(article: Article) -> list[Article]:
    """Every version and translation sharing the article's number, newest first."""
    return list(
        Article.objects.filter(number=article.number).order_by("language", "-major_version", "-minor_version")
    )


def languages_in_use() -> list[str]:
    """J.131: the language filter lists only languages that have articles."""
    return sorted(set(Article.objects.values_list("language", flat=True).distinct()))


def article_analytics(*, article: Article) -> dict[str, int]:
    """J.133: views, votes, uses and linked cases of every version of the article."""
    family = Article.objects.filter(number=article.number, language=article.language)
    counters = family.aggregate(
        views=Sum("view_count"), helpful=Sum("helpful_count"), not_helpful=Sum("not_helpful_count")
    )
    usages = ArticleUsage.objects.filter(article__in=family)
    usage = dict(usages.values_list("kind").annotate(n=Count("pk")))
    linked_cases = usages.filter(case__isnull=False).values("case").distinct().count()
    return {
        "views": counters["views"] or 0,
        "helpful": counters["helpful"] or 0,
        "not_helpful": counters["not_helpful"] or 0,
        "linked": usage.get(UsageKind.LINKED, 0),
        "sent": usage.get(UsageKind.SENT, 0),
        "resolutions": usage.get(UsageKind.RESOLUTION, 0),
        "linked_cases": linked_cases,
    }


def drafts_for_review(user) -> QuerySet[KnowledgeDraft]:
    qs = KnowledgeDraft.objects.select_related("case", "target", "article")
    if not can_manage(user):
        return qs.none()
    return qs.filter(status=DraftStatus.PENDING)


def review_queue(user) -> QuerySet[Article]:
    """Articles waiting for a knowledge manager: in review or approved but not yet live."""
    if not can_manage(user):
        return Article.objects.none()
    return Article.objects.select_related("author").filter(
        status__in=[ArticleStatus.IN_REVIEW, ArticleStatus.APPROVED]
    )


def searches_recent(user, *, limit: int = 50) -> list[SearchLog]:
    return list(SearchLog.objects.all()[:limit]) if can_manage(user) else []


def public_articles_of(*, number: str) -> list[Article]:
    """The live external language versions of one article (for the help center's language links)."""
    return list(Article.objects.public().filter(number=number).order_by("language"))


def suggestable_case_get(*, case_id: int):
    """A resolved case that smart assist may show as a similar case (it is in the case index)."""
    entry = ResolvedCaseIndex.objects.select_related("case").filter(case_id=case_id).first()
    return entry.case if entry else None


def article_templates() -> list[ArticleTemplate]:
    return list(ArticleTemplate.objects.all())


def article_template_get(*, template_id: str) -> ArticleTemplate | None:
    return ArticleTemplate.objects.filter(pk=int(template_id)).first() if str(template_id).isdigit() else None

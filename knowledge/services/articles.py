"""Article lifecycle (REFERENCE J.126–129), indexing and usage analytics.

Every transition checks the actor's role (``knowledge.permissions``) and the
article's state, changes the row under a lock, keeps the passages' copied
filter columns in step, and publishes ``article.status_changed`` after commit.
Embedding is I/O: it runs in the ``article_index`` task, never inside these
transactions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from contactcenter.realtime import publish
from copilot.providers import embed
from knowledge import events
from knowledge.choices import ArticleStatus, FeedbackSource, Language, UsageKind, Visibility
from knowledge.exceptions import InvalidTransition, KnowledgePermissionDenied, TranslationExists, VersionExists
from knowledge.models import Article, ArticleFeedback, ArticlePassage, ArticleUsage
from knowledge.permissions import can_author, can_edit, can_manage
from knowledge.text import chunk_article, content_hash, embedding_text, render_markdown

ARTICLE_NUMBER_SEQUENCE = "knowledge_article_number_seq"
CONTENT_FIELDS = ("title", "body", "summary", "keywords", "product", "category", "visibility", "language")


def _article_number() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [ARTICLE_NUMBER_SEQUENCE])
        (value,) = cursor.fetchone()
    return f"KA-{value:06d}"


def _clean_keywords(keywords: Sequence[str]) -> list[str]:
    seen: dict[str, None] = {}
    for keyword in keywords:
        keyword = keyword.strip()[:60]
        if keyword and keyword.lower() not in {k.lower() for k in seen}:
            seen[keyword] = None
    return list(seen)


def _require(allowed: bool) -> None:
    if not allowed:
        raise KnowledgePermissionDenied()


def _locked(article: Article) -> Article:
    return Article.objects.select_for_update().get(pk=article.pk)


def _passages_sync(article: Article) -> None:
    """Copy the article's filter columns onto its passages (they filter inside the index scans)."""
    ArticlePassage.objects.filter(article_id=article.pk).update(
        status=article.status, visibility=article.visibility, language=article.language,
        product=article.product, modified_at=article.updated_at,
    )


def _index_enqueue(article: Article) -> None:
    from knowledge import tasks

    article_id = article.pk
    transaction.on_commit(lambda: tasks.article_index.delay(article_id))


def _status_set(article: Article, *, status: str, fields: Sequence[str] = ()) -> Article:
    previous = article.status
    article.status = status
    article.save(update_fields=["status", "updated_at", *fields])
    _passages_sync(article)
    publish(events.article_status_changed(article, previous=previous), groups=events.article_groups(article))
    return article


def article_create(
    *,
    author,
    title: str,
    body: str = "",
    summary: str = "",
    keywords: Sequence[str] = (),
    product: str = "",
    category: str = "",
    language: str = Language.ENGLISH,
    visibility: str = Visibility.INTERNAL,
    external_id: str | None = None,
) -> Article:
    """Write a new draft article with a fresh public number.

    Side effects: Article (numbered from a database sequence); after commit the
    ``article_index`` task embeds its passages. Raises KnowledgePermissionDenied.
    """
    if author is not None:
        _require(can_author(author))
    with transaction.atomic():
        article = Article.objects.create(
            number=_article_number(), title=title.strip()[:255], body=body, body_html=render_markdown(body),
            summary=summary.strip(), keywords=_clean_keywords(keywords), product=product.strip(),
            category=category.strip(), language=language, visibility=visibility, author=author,
            external_id=external_id or None,
        )
        _index_enqueue(article)
    return article


def article_update(*, article: Article, actor, **changes) -> Article:
    """Change a draft's content (only drafts are edited; a published article gets a new version).

    Side effects: Article; after commit ``article_index`` re-embeds it.
    Raises KnowledgePermissionDenied, InvalidTransition.
    """
    unknown = set(changes) - set(CONTENT_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        article = _locked(article)
        if actor is not None:
            _require(can_edit(actor, article))
        if article.status not in ArticleStatus.editable():
            raise InvalidTransition()
        if "keywords" in changes:
            changes["keywords"] = _clean_keywords(changes["keywords"])
        for field, value in changes.items():
            setattr(article, field, value.strip() if isinstance(value, str) and field != "body" else value)
        article.body_html = render_markdown(article.body)
        article.save()
        _passages_sync(article)
        _index_enqueue(article)
    return article


def article_submit(*, article: Article, actor) -> Article:
    """Draft → in review. Side effects: Article; ``article.status_changed``."""
    with transaction.atomic():
        article = _locked(article)
        _require(can_edit(actor, article))
        if article.status != ArticleStatus.DRAFT:
            raise InvalidTransition()
        return _status_set(article, status=ArticleStatus.IN_REVIEW)


def article_approve(*, article: Article, actor, comment: str = "") -> Article:
    """In review → approved, by a knowledge manager. Side effects: Article; ``article.status_changed``."""
    _require(can_manage(actor))
    with transaction.atomic():
        article = _locked(article)
        if article.status != ArticleStatus.IN_REVIEW:
            raise InvalidTransition()
        article.reviewer = actor
        article.review_comment = comment.strip()
        return _status_set(article, status=ArticleStatus.APPROVED, fields=["reviewer", "review_comment"])


def article_reject(*, article: Article, actor, comment: str) -> Article:
    """In review → back to draft with the reviewer's comment (J.127). Side effects: as approve."""
    _require(can_manage(actor))
    with transaction.atomic():
        article = _locked(article)
        if article.status != ArticleStatus.IN_REVIEW:
            raise InvalidTransition()
        article.reviewer = actor
        article.review_comment = comment.strip()
        return _status_set(article, status=ArticleStatus.DRAFT, fields=["reviewer", "review_comment"])


def article_reopen(*, article: Article, actor, comment: str = "") -> Article:
    """Send an article that is in review, approved or scheduled back to draft (a manager changes their mind)."""
    _require(can_manage(actor))
    with transaction.atomic():
        article = _locked(article)
        if article.status not in (ArticleStatus.IN_REVIEW, ArticleStatus.APPROVED, ArticleStatus.SCHEDULED):
            raise InvalidTransition()
        article.review_comment = comment.strip()
        return _status_set(article, status=ArticleStatus.DRAFT, fields=["review_comment"])


def _go_live(article: Article, *, now: datetime) -> Article:
    """Publish ``article`` (locked), retiring the version of its number and language that was live."""
    live = (
        Article.objects.select_for_update()
        .filter(number=article.number, language=article.language, status=ArticleStatus.PUBLISHED)
        .exclude(pk=article.pk)
    )
    for old in live:
        _status_set(old, status=ArticleStatus.ARCHIVED)
    article.published_at = now
    article.publish_at = article.publish_at or now
    _status_set(article, status=ArticleStatus.PUBLISHED, fields=["published_at", "publish_at"])
    _index_enqueue(article)
    return article


def article_publish(
    *,
    article: Article,
    actor,
    publish_at: datetime | None = None,
    expires_at: datetime | None = None,
    cascade_translations: bool = False,
) -> Article:
    """Approved → published now, or → scheduled for ``publish_at`` (J.126).

    Publishing retires (archives) the version that was live for the same
    number and language, so one version is published at a time; with
    ``cascade_translations`` approved translations go live too (J.129).
    Side effects: Article rows; ``article.status_changed`` per row; the
    ``article_index`` task. Raises KnowledgePermissionDenied, InvalidTransition.
    """
    _require(can_manage(actor))
    now = timezone.now()
    if expires_at is not None and expires_at <= (publish_at or now):
        raise InvalidTransition("The expiry date must come after the publication date.")
    with transaction.atomic():
        article = _locked(article)
        if article.status not in (ArticleStatus.APPROVED, ArticleStatus.SCHEDULED):
            raise InvalidTransition()
        article.reviewer = article.reviewer or actor
        article.expires_at = expires_at
        if publish_at is not None and publish_at > now:
            article.publish_at = publish_at
            _status_set(article, status=ArticleStatus.SCHEDULED, fields=["publish_at", "expires_at", "reviewer"])
        else:
            article.save(update_fields=["expires_at", "reviewer"])
            _go_live(article, now=now)
        if cascade_translations:
            translations = Article.objects.select_for_update().filter(
                number=article.number, status=ArticleStatus.APPROVED
            ).exclude(language=article.language)
            for translation in translations:
                translation.expires_at = expires_at
                translation.publish_at = article.publish_at
                if article.status == ArticleStatus.SCHEDULED:
                    _status_set(translation, status=ArticleStatus.SCHEDULED, fields=["publish_at", "expires_at"])
                else:
                    translation.save(update_fields=["expires_at"])
                    _go_live(translation, now=now)
    return article


def article_expire(*, article: Article, actor=None) -> Article:
    """Published → expired (by a manager, or by the sweep when ``actor`` is None)."""
    if actor is not None:
        _require(can_manage(actor))
    with transaction.atomic():
        article = _locked(article)
        if article.status != ArticleStatus.PUBLISHED:
            raise InvalidTransition()
        return _status_set(article, status=ArticleStatus.EXPIRED)


def article_archive(*, article: Article, actor) -> Article:
    """Take an article out of service for good: published, expired or approved → archived."""
    _require(can_manage(actor))
    with transaction.atomic():
        article = _locked(article)
        if article.status not in (ArticleStatus.PUBLISHED, ArticleStatus.EXPIRED, ArticleStatus.APPROVED):
            raise InvalidTransition()
        return _status_set(article, status=ArticleStatus.ARCHIVED)


def article_discard(*, article: Article, actor) -> Article:
    """Abandon a version that never went live (draft, in review or approved)."""
    with transaction.atomic():
        article = _locked(article)
        _require(can_edit(actor, article))
        if article.status not in (ArticleStatus.DRAFT, ArticleStatus.IN_REVIEW, ArticleStatus.APPROVED):
            raise InvalidTransition()
        return _status_set(article, status=ArticleStatus.DISCARDED)


def articles_lifecycle_sweep(*, now: datetime | None = None) -> tuple[int, int]:
    """The periodic job: publish scheduled articles whose time came, expire those past expiry.

    Returns (published, expired). Side effects: as ``article_publish`` / ``article_expire``.
    """
    now = now or timezone.now()
    published = expired = 0
    due = Article.objects.filter(status=ArticleStatus.SCHEDULED, publish_at__lte=now).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            article = Article.objects.select_for_update(skip_locked=True).filter(
                pk=pk, status=ArticleStatus.SCHEDULED
            ).first()
            if article:
                _go_live(article, now=now)
                published += 1
    stale = Article.objects.filter(status=ArticleStatus.PUBLISHED, expires_at__lte=now).values_list("pk", flat=True)
    for pk in list(stale):
        with transaction.atomic():
            article = Article.objects.select_for_update(skip_locked=True).filter(
                pk=pk, status=ArticleStatus.PUBLISHED
            ).first()
            if article:
                _status_set(article, status=ArticleStatus.EXPIRED)
                expired += 1
    return published, expired


def article_version_create(*, article: Article, actor, major: bool = False) -> Article:
    """Branch a new draft version from a published (or retired) one (J.128).

    The copy keeps number and language; ``major`` bumps 1.x → 2.0, otherwise
    1.0 → 1.1. The live version stays published until the new one is.
    Side effects: Article; the ``article_index`` task. Raises VersionExists.
    """
    _require(can_author(actor))
    with transaction.atomic():
        family = list(
            Article.objects.select_for_update()
            .filter(number=article.number, language=article.language)
            .order_by("-major_version", "-minor_version")
        )
        source = next(item for item in family if item.pk == article.pk)
        if source.status not in ArticleStatus.versionable():
            raise InvalidTransition()
        open_states = (ArticleStatus.DRAFT, ArticleStatus.IN_REVIEW, ArticleStatus.APPROVED)
        if any(item.status in open_states for item in family):
            raise VersionExists()
        latest = family[0]
        major_version, minor_version = (
            (latest.major_version + 1, 0) if major else (latest.major_version, latest.minor_version + 1)
        )
        version = Article.objects.create(
            number=source.number, language=source.language, title=source.title, body=source.body,
            body_html=source.body_html, summary=source.summary, keywords=source.keywords, product=source.product,
            category=source.category, visibility=source.visibility, translation_of=source.translation_of,
            previous_version=source, author=actor, major_version=major_version, minor_version=minor_version,
        )
        _index_enqueue(version)
    return version


def article_translation_create(
    *, article: Article, actor, language: str, title: str, body: str = "", summary: str = "",
    keywords: Sequence[str] = (),
) -> Article:
    """A draft translation linked to the original, sharing its public number (J.129).

    Raises TranslationExists when the number already has that language.
    """
    _require(can_author(actor))
    with transaction.atomic():
        original = _locked(article)
        if Article.objects.filter(number=original.number, language=language).exists():
            raise TranslationExists()
        translation = Article.objects.create(
            number=original.number, language=language, title=title.strip()[:255], body=body,
            body_html=render_markdown(body), summary=summary.strip(), keywords=_clean_keywords(keywords),
            product=original.product, category=original.category, visibility=original.visibility,
            translation_of=original.translation_of or original, author=actor,
        )
        _index_enqueue(translation)
    return translation


def article_index(*, article_id: int, force: bool = False) -> int:
    """Chunk and embed an article, then replace its passages. Returns the number of passages.

    Skips the embedding when the content is unchanged since the last index
    (then only the filter columns are refreshed), unless ``force``.
    The embedding runs before the transaction; the write re-checks that the
    content did not change meanwhile (a later task will index the newer text).
    """
    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        return 0
    digest = content_hash(
        title=article.title, summary=article.summary, body=article.body, keywords=article.keywords,
        language=article.language,
    )
    if not force and digest == article.indexed_hash and article.passages.exists():
        with transaction.atomic():
            _passages_sync(_locked(article))
        return article.passages.count()
    chunks = chunk_article(title=article.title, summary=article.summary, body=article.body)
    vectors = embed([embedding_text(title=article.title, chunk=chunk) for chunk in chunks])
    with transaction.atomic():
        current = _locked(article)
        if content_hash(
            title=current.title, summary=current.summary, body=current.body, keywords=current.keywords,
            language=current.language,
        ) != digest:
            return 0
        ArticlePassage.objects.filter(article=current).delete()
        ArticlePassage.objects.bulk_create(
            ArticlePassage(
                article=current, position=chunk.position, heading=chunk.heading, text=chunk.text, embedding=vector,
                search_config=current.search_config, status=current.status, visibility=current.visibility,
                language=current.language, product=current.product, modified_at=current.updated_at,
            )
            for chunk, vector in zip(chunks, vectors, strict=True)
        )
        head = " ".join([current.title, *current.keywords])
        with connection.cursor() as cursor:
            cursor.execute(
                """
                UPDATE knowledge_articlepassage SET search_vector =
                    setweight(to_tsvector(search_config::regconfig, %s), 'A')
                    || setweight(to_tsvector(search_config::regconfig, heading), 'B')
                    || setweight(to_tsvector(search_config::regconfig, text), 'D')
                WHERE article_id = %s
                """,
                [head, current.pk],
            )
        Article.objects.filter(pk=current.pk).update(indexed_at=timezone.now(), indexed_hash=digest)
    return len(chunks)


def article_view_record(*, article: Article) -> None:
    """Count one view (help center or workspace). Side effects: Article.view_count."""
    Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)


def article_feedback_add(
    *, article: Article, helpful: bool, source: str = FeedbackSource.CUSTOMER, user=None, comment: str = ""
) -> ArticleFeedback:
    """Record a helpful / not helpful vote. Side effects: ArticleFeedback, the article's vote counters."""
    with transaction.atomic():
        feedback = ArticleFeedback.objects.create(
            article=article, helpful=helpful, source=source, user=user, comment=comment.strip()[:2000]
        )
        counter = "helpful_count" if helpful else "not_helpful_count"
        Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})
    return feedback


def article_usage_record(*, article: Article, kind: str, user=None, conversation=None, case=None) -> ArticleUsage:
    """Record an article linked to a case, sent to a customer or used in a resolution (J.133)."""
    if kind not in UsageKind.values:
        raise ValueError(f"unknown usage kind {kind!r}")
    return ArticleUsage.objects.create(article=article, kind=kind, user=user, conversation=conversation, case=case)


def knowledge_index_rebuild(*, force: bool = True) -> int:
    """Re-embed every article (the ``rebuild_knowledge_index`` command). Returns passages written."""
    return sum(article_index(article_id=pk, force=force) for pk in Article.objects.values_list("pk", flat=True))

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from pgvector.django import HnswIndex, VectorField

from copilot.providers import EMBEDDING_DIMENSIONS
from knowledge.choices import (
    ArticleStatus,
    DraftKind,
    DraftStatus,
    FeedbackSource,
    Language,
    SuggestionKind,
    UsageKind,
    Visibility,
)

#: HNSW build parameters: pgvector's defaults. bench/bench_knowledge.py at 100k
#: passages on this 2-core machine builds the index in ~21 s and reaches
#: recall@10 ≥ 0.99 against exact search already at ef_search=40, so larger
#: m / ef_construction (slower builds and inserts) buy nothing measurable here.
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64


class ArticleQuerySet(models.QuerySet):
    def published(self) -> ArticleQuerySet:
        return self.filter(status=ArticleStatus.PUBLISHED)

    def external(self) -> ArticleQuerySet:
        return self.filter(visibility=Visibility.EXTERNAL)

    def public(self) -> ArticleQuerySet:
        """What customers, the help center and bots may read."""
        return self.published().external()


class Article(models.Model):
    """One version of a knowledge article in one language.

    Every version and translation of an article shares its public number
    (``KA-000123``); ``(number, language, major, minor)`` names one version, and
    the database holds that at most one version per number and language is
    published at a time.
    """

    number = models.CharField(_("number"), max_length=20, editable=False, db_index=True)
    title = models.CharField(_("title"), max_length=255)
    body = models.TextField(_("body (Markdown)"), blank=True)
    body_html = models.TextField(_("body (HTML)"), blank=True, editable=False)
    summary = models.TextField(_("summary"), blank=True)
    keywords = ArrayField(models.CharField(max_length=60), default=list, blank=True, verbose_name=_("keywords"))
    product = models.CharField(_("product"), max_length=100, blank=True, db_index=True)
    category = models.CharField(_("category"), max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.ENGLISH)
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    status = models.CharField(_("status"), max_length=16, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    major_version = models.PositiveIntegerField(_("major version"), default=1)
    minor_version = models.PositiveIntegerField(_("minor version"), default=0)
    previous_version = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="next_versions"
    )
    translation_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="translations",
        help_text=_("The original-language article this one translates."),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="authored_articles"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="reviewed_articles"
    )
    review_comment = models.TextField(_("review comment"), blank=True)
    external_id = models.CharField(
        _("external id"), max_length=200, null=True, blank=True, unique=True,
        help_text=_("Stable id of the article in the system it was imported from."),
    )
    publish_at = models.DateTimeField(_("publish on"), null=True, blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    view_count = models.PositiveIntegerField(_("views"), default=0, editable=False)
    helpful_count = models.PositiveIntegerField(_("helpful votes"), default=0, editable=False)
    not_helpful_count = models.PositiveIntegerField(_("not helpful votes"), default=0, editable=False)
    indexed_at = models.DateTimeField(null=True, blank=True, editable=False)
    indexed_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(_("modified"), auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["number", "language", "major_version", "minor_version"], name="knowledge_article_unique_version"
            ),
            models.UniqueConstraint(
                fields=["number", "language"], condition=Q(status=ArticleStatus.PUBLISHED),
                name="knowledge_article_one_published_version",
            ),
            models.UniqueConstraint(
                fields=["number", "language"],
                condition=Q(status__in=[ArticleStatus.DRAFT, ArticleStatus.IN_REVIEW, ArticleStatus.APPROVED]),
                name="knowledge_article_one_open_version",
            ),
        ]
        indexes = [models.Index(fields=["status", "visibility", "language"])]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def version(self) -> str:
        return f"{self.major_version}.{self.minor_version}"

    @property
    def search_config(self) -> str:
        return Language.search_config(self.language)


class ArticlePassage(models.Model):
    """A heading-aware chunk of an article, embedded and full-text indexed.

    The article's status, visibility, language, product and modified time are
    copied here so search filters run inside the HNSW and GIN index scans
    instead of after them (services keep the copies in step).
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="passages")
    position = models.PositiveIntegerField()
    heading = models.CharField(max_length=255, blank=True)
    text = models.TextField()
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)
    search_config = models.CharField(max_length=32, default="english")
    search_vector = SearchVectorField(null=True)
    status = models.CharField(max_length=16, choices=ArticleStatus.choices)
    visibility = models.CharField(max_length=16, choices=Visibility.choices)
    language = models.CharField(max_length=8)
    product = models.CharField(max_length=100, blank=True)
    modified_at = models.DateTimeField()

    class Meta:
        ordering = ["article", "position"]
        constraints = [
            models.UniqueConstraint(fields=["article", "position"], name="knowledge_passage_unique_position"),
        ]
        indexes = [
            HnswIndex(
                name="knowledge_passage_embedding", fields=["embedding"], m=HNSW_M,
                ef_construction=HNSW_EF_CONSTRUCTION, opclasses=["vector_cosine_ops"],
            ),
            GinIndex(fields=["search_vector"], name="knowledge_passage_fts"),
            models.Index(fields=["status", "visibility", "language"], name="knowledge_passage_filters"),
            # Selective filters are answered by an exact scan of the rows they match (see search.EXACT_SCAN_ROWS).
            models.Index(fields=["product"], name="knowledge_passage_product"),
            models.Index(fields=["modified_at"], name="knowledge_passage_modified"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id}#{self.position} {self.heading}"


class ArticleFeedback(models.Model):
    """A helpful / not helpful vote from an agent or a customer."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="feedback")
    source = models.CharField(max_length=16, choices=FeedbackSource.choices)
    helpful = models.BooleanField()
    comment = models.TextField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]


class ArticleUsage(models.Model):
    """An article used in service: viewed, linked to a case, sent to a customer, used in a resolution."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="usages")
    kind = models.CharField(max_length=16, choices=UsageKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    conversation = models.ForeignKey(
        "crm.Conversation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    case = models.ForeignKey("crm.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["article", "kind"])]


class SearchLog(models.Model):
    """One search, for the analytics of what people look for and don't find (J.133)."""

    query = models.CharField(max_length=500)
    result_count = models.PositiveIntegerField()
    audience = models.CharField(max_length=16)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]


class ResolvedCaseIndex(models.Model):
    """The embedding of a resolved case, for "similar resolved cases" suggestions (H.109)."""

    case = models.OneToOneField("crm.Case", on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            HnswIndex(
                name="knowledge_case_embedding", fields=["embedding"], m=HNSW_M,
                ef_construction=HNSW_EF_CONSTRUCTION, opclasses=["vector_cosine_ops"],
            ),
        ]


class SuggestionFeedback(models.Model):
    """An agent's thumbs up/down on a smart-assist card, kept for retraining (H.109)."""

    kind = models.CharField(max_length=16, choices=SuggestionKind.choices)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    suggested_case = models.ForeignKey("crm.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    conversation = models.ForeignKey(
        "crm.Conversation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    case = models.ForeignKey("crm.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    helpful = models.BooleanField()
    confidence = models.FloatField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=SuggestionKind.ARTICLE, article__isnull=False, suggested_case__isnull=True)
                | Q(kind=SuggestionKind.CASE, article__isnull=True, suggested_case__isnull=False),
                name="knowledge_suggestion_feedback_target",
            ),
        ]


class KnowledgeDraft(models.Model):
    """An article drafted from a resolved case, waiting for a knowledge manager (H.110).

    Accepting it creates a draft article (or a new version of the article it
    proposes to update), which then follows the normal review workflow.
    """

    case = models.OneToOneField("crm.Case", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=DraftKind.choices)
    status = models.CharField(max_length=16, choices=DraftStatus.choices, default=DraftStatus.PENDING)
    title = models.CharField(max_length=255)
    body = models.TextField()
    product = models.CharField(max_length=100, blank=True)
    target = models.ForeignKey(
        Article, on_delete=models.SET_NULL, null=True, blank=True, related_name="update_proposals",
        help_text=_("The existing article this draft would update instead of duplicating."),
    )
    similarity = models.FloatField(null=True, blank=True)
    provider = models.CharField(max_length=64)
    model = models.CharField(max_length=128, blank=True)
    sources = models.JSONField(default=list, blank=True)
    article = models.ForeignKey(Article, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class ArticleTemplate(models.Model):
    """A starting point for new articles (J.130): prefilled structure, keywords, product and visibility."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    title = models.CharField(_("title"), max_length=255, blank=True)
    body = models.TextField(_("body (Markdown)"), blank=True)
    summary = models.TextField(_("summary"), blank=True)
    keywords = ArrayField(models.CharField(max_length=60), default=list, blank=True, verbose_name=_("keywords"))
    product = models.CharField(_("product"), max_length=100, blank=True)
    category = models.CharField(_("category"), max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.ENGLISH)
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.INTERNAL
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def initial(self) -> dict:
        fields = ["title", "body", "summary", "keywords", "product", "category", "language", "visibility"]
        return {field: getattr(self, field) for field in fields}


class KnowledgeSource(models.Model):
    """An external knowledge provider crawled from its sitemap (J.132), e.g. a product-documentation site.

    Its pages become published articles (one per URL, keyed by the URL as the
    external id), refreshed on schedule for pages modified within ``lookback_days``.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    sitemap_url = models.URLField(_("sitemap URL"), max_length=500)
    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.INTERNAL
    )
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.ENGLISH)
    product = models.CharField(_("product"), max_length=100, blank=True)
    lookback_days = models.PositiveIntegerField(_("look back (days)"), default=30)
    trial = models.BooleanField(_("trial"), default=True, help_text=_("A trial ingests at most 1,000 pages."))
    is_active = models.BooleanField(_("active"), default=True)
    last_crawled_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_report = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

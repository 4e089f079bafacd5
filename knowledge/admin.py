"""Admin: articles edited as drafts with a rendered preview; lifecycle steps as actions calling the services."""

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from contactcenter.exceptions import DomainError
from knowledge import services
from knowledge.choices import ArticleStatus
from knowledge.models import (
    Article,
    ArticleFeedback,
    ArticleTemplate,
    KnowledgeDraft,
    KnowledgeSource,
    SearchLog,
    SuggestionFeedback,
)


def _lifecycle_action(operation, description):
    def run(modeladmin, request, queryset):
        done = 0
        for article in queryset:
            try:
                operation(article=article, actor=request.user)
                done += 1
            except DomainError as error:
                modeladmin.message_user(request, f"{article.number}: {error.message}", messages.ERROR)
        if done:
            modeladmin.message_user(request, _("%(n)d article(s) updated.") % {"n": done}, messages.SUCCESS)

    run.short_description = description
    run.__name__ = f"action_{operation.__name__}"
    return run


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "version", "language", "visibility", "status", "view_count", "updated_at"]
    list_filter = ["status", "visibility", "language", "product"]
    search_fields = ["number", "title", "keywords", "external_id"]
    readonly_fields = [
        "number", "status", "major_version", "minor_version", "previous_version", "translation_of", "reviewer",
        "review_comment", "published_at", "view_count", "helpful_count", "not_helpful_count", "indexed_at",
        "preview", "created_at", "updated_at",
    ]
    fields = [
        "number", "title", "summary", "body", "preview", "keywords", "product", "category", "language",
        "visibility", "status", "major_version", "minor_version", "author", "reviewer", "review_comment",
        "publish_at", "expires_at", "published_at", "external_id", "previous_version", "translation_of",
        "view_count", "helpful_count", "not_helpful_count", "indexed_at", "created_at", "updated_at",
    ]
    raw_id_fields = ["author"]
    actions = [
        _lifecycle_action(services.article_submit, _("Submit for review")),
        _lifecycle_action(services.article_approve, _("Approve")),
        _lifecycle_action(services.article_publish, _("Publish now")),
        _lifecycle_action(services.article_expire, _("Expire")),
        _lifecycle_action(services.article_archive, _("Archive")),
    ]

    @admin.display(description=_("Preview"))
    def preview(self, article: Article):
        # body_html is sanitised by knowledge.text.render_markdown when saved through the services.
        return format_html('<div style="max-width:720px">{}</div>', mark_safe(article.body_html))

    def has_change_permission(self, request, obj=None):
        """Only drafts are edited; published text changes through a new version."""
        if obj is not None and obj.status != ArticleStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        content = services.articles.CONTENT_FIELDS
        values = {name: form.cleaned_data[name] for name in form.changed_data if name in content}
        if change:
            services.article_update(article=obj, actor=request.user, **values)
        else:
            created = services.article_create(
                author=request.user, **{name: form.cleaned_data.get(name) for name in services.articles.CONTENT_FIELDS
                                        if form.cleaned_data.get(name) is not None},
            )
            obj.pk = created.pk
            obj.refresh_from_db()


@admin.register(KnowledgeDraft)
class KnowledgeDraftAdmin(admin.ModelAdmin):
    list_display = ["title", "case", "kind", "status", "target", "similarity", "provider", "created_at"]
    list_filter = ["status", "kind", "provider"]
    readonly_fields = [field.name for field in KnowledgeDraft._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ArticleFeedback)
class ArticleFeedbackAdmin(admin.ModelAdmin):
    list_display = ["article", "source", "helpful", "user", "created_at"]
    list_filter = ["source", "helpful"]
    readonly_fields = ["article", "source", "helpful", "comment", "user", "created_at"]


@admin.register(SearchLog)
class SearchLogAdmin(admin.ModelAdmin):
    list_display = ["query", "result_count", "audience", "user", "created_at"]
    list_filter = ["audience"]
    search_fields = ["query"]


@admin.register(SuggestionFeedback)
class SuggestionFeedbackAdmin(admin.ModelAdmin):
    list_display = ["kind", "article", "suggested_case", "helpful", "confidence", "user", "created_at"]
    list_filter = ["kind", "helpful"]


@admin.register(ArticleTemplate)
class ArticleTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "product", "language", "visibility"]
    search_fields = ["name", "title"]


@admin.register(KnowledgeSource)
class KnowledgeSourceAdmin(admin.ModelAdmin):
    list_display = ["name", "sitemap_url", "visibility", "lookback_days", "trial", "is_active", "last_crawled_at"]
    readonly_fields = ["last_crawled_at", "last_report"]
    actions = ["crawl_now"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "sitemap_url":
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    @admin.action(description=_("Crawl now (in the background)"))
    def crawl_now(self, request, queryset):
        from django.db import transaction

        from knowledge import tasks

        for source in queryset:
            source_id, user_id = source.pk, request.user.pk
            transaction.on_commit(lambda s=source_id, u=user_id: tasks.knowledge_source_crawl.delay(s, u))
        self.message_user(request, _("Crawl queued; the report appears on each source."), messages.SUCCESS)

"""Knowledge business operations; views, API, tasks, commands and other apps call these."""

from knowledge.services.articles import (
    article_approve,
    article_archive,
    article_create,
    article_discard,
    article_expire,
    article_feedback_add,
    article_index,
    article_publish,
    article_reject,
    article_reopen,
    article_submit,
    article_translation_create,
    article_update,
    article_usage_record,
    article_version_create,
    article_view_record,
    articles_lifecycle_sweep,
    knowledge_index_rebuild,
)
from knowledge.services.assist import SmartAssist, Suggestion, case_index, smart_assist, suggestion_rate
from knowledge.services.drafts import (
    case_draft_create,
    case_resolved_draft_enqueue,
    draft_accept,
    draft_dismiss,
    duplicates_find,
)
from knowledge.services.importing import ImportResult, article_import
from knowledge.services.search import SearchFilters, SearchHit, search
from knowledge.services.sources import CrawlReport, source_crawl
from knowledge.services.suggest import ArticleSuggestion, article_suggestions

__all__ = [
    "CrawlReport",
    "source_crawl",
    "ArticleSuggestion",
    "article_suggestions",
    "ImportResult",
    "article_import",
    "SearchFilters",
    "SearchHit",
    "SmartAssist",
    "Suggestion",
    "case_draft_create",
    "case_index",
    "case_resolved_draft_enqueue",
    "draft_accept",
    "draft_dismiss",
    "duplicates_find",
    "smart_assist",
    "suggestion_rate",
    "article_approve",
    "article_archive",
    "article_create",
    "article_discard",
    "article_expire",
    "article_feedback_add",
    "article_index",
    "article_publish",
    "article_reject",
    "article_reopen",
    "article_submit",
    "article_translation_create",
    "article_update",
    "article_usage_record",
    "article_version_create",
    "article_view_record",
    "articles_lifecycle_sweep",
    "knowledge_index_rebuild",
    "search",
]

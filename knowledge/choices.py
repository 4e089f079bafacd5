from django.db import models
from django.utils.translation import gettext_lazy as _


class ArticleStatus(models.TextChoices):
    """J.126: draft → in review → approved → (scheduled →) published → expired / archived / discarded."""

    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    APPROVED = "approved", _("Approved")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHED = "published", _("Published")
    EXPIRED = "expired", _("Expired")
    ARCHIVED = "archived", _("Archived")
    DISCARDED = "discarded", _("Discarded")

    @classmethod
    def editable(cls) -> frozenset[str]:
        return frozenset({cls.DRAFT})

    @classmethod
    def versionable(cls) -> frozenset[str]:
        """States a new version may be branched from: the live or a retired version."""
        return frozenset({cls.PUBLISHED, cls.EXPIRED, cls.ARCHIVED})


class Visibility(models.TextChoices):
    INTERNAL = "internal", _("Internal (agents only)")
    EXTERNAL = "external", _("External (customers too)")


class Language(models.TextChoices):
    """Article languages; each maps to a PostgreSQL text-search configuration."""

    ENGLISH = "en", _("English")
    FRENCH = "fr", _("French")
    GERMAN = "de", _("German")
    SPANISH = "es", _("Spanish")
    ITALIAN = "it", _("Italian")
    PORTUGUESE = "pt", _("Portuguese")
    DUTCH = "nl", _("Dutch")

    @classmethod
    def search_config(cls, code: str) -> str:
        return SEARCH_CONFIGS.get(code, "simple")


SEARCH_CONFIGS = {
    "en": "english", "fr": "french", "de": "german", "es": "spanish",
    "it": "italian", "pt": "portuguese", "nl": "dutch",
}


class FeedbackSource(models.TextChoices):
    AGENT = "agent", _("Agent")
    CUSTOMER = "customer", _("Customer")


class UsageKind(models.TextChoices):
    """J.133: how an article was used in service."""

    VIEWED = "viewed", _("Viewed")
    LINKED = "linked", _("Linked to a case")
    SENT = "sent", _("Sent to a customer")
    RESOLUTION = "resolution", _("Used in a resolution")


class SearchSort(models.TextChoices):
    RELEVANCE = "relevance", _("Relevance")
    VIEWS = "views", _("Views")
    RECENCY = "recency", _("Recently modified")


class DraftKind(models.TextChoices):
    NEW = "new", _("New article")
    UPDATE = "update", _("Update an existing article")


class DraftStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    ACCEPTED = "accepted", _("Accepted")
    DISMISSED = "dismissed", _("Dismissed")


class SuggestionKind(models.TextChoices):
    ARTICLE = "article", _("Knowledge article")
    CASE = "case", _("Similar case")

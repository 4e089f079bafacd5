from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.utils import timezone

from knowledge import services
from knowledge.choices import ArticleStatus, Visibility
from knowledge.exceptions import InvalidTransition, KnowledgePermissionDenied, TranslationExists, VersionExists
from knowledge.models import Article, ArticleFeedback
from knowledge.tests.factories import make_article

pytestmark = pytest.mark.django_db


class TestCreateAndEdit:
    def test_a_new_article_is_a_numbered_draft_with_safe_html(self, agent):
        article = services.article_create(
            author=agent, title=" Laptop battery drains fast ", keywords=["battery", "Battery", " power "],
            body="## Check\n<script>alert(1)</script>Open **Settings** [x](javascript:alert(1))",
        )

        assert article.number.startswith("KA-") and len(article.number) == 9
        assert article.status == ArticleStatus.DRAFT and article.version == "1.0"
        assert article.title == "Laptop battery drains fast"
        assert article.keywords == ["battery", "power"]
        assert "<strong>Settings</strong>" in article.body_html
        assert "<script" not in article.body_html and "javascript:" not in article.body_html

    def test_numbers_are_unique_and_increasing(self, agent):
        first = services.article_create(author=agent, title="A")
        second = services.article_create(author=agent, title="B")
        assert int(second.number[3:]) == int(first.number[3:]) + 1

    def test_people_outside_the_contact_center_cannot_write(self, outsider):
        with pytest.raises(KnowledgePermissionDenied):
            services.article_create(author=outsider, title="Nope")

    def test_only_the_author_or_a_manager_edits_a_draft(self, agent, other_agent, manager):
        article = services.article_create(author=agent, title="Draft")
        with pytest.raises(KnowledgePermissionDenied):
            services.article_update(article=article, actor=other_agent, title="Hijacked")

        services.article_update(article=article, actor=manager, title="Better title", body="*new*")

        article.refresh_from_db()
        assert article.title == "Better title" and article.body_html == "<p><em>new</em></p>"

    def test_a_draft_under_review_is_not_edited(self, agent):
        article = services.article_create(author=agent, title="Draft")
        services.article_submit(article=article, actor=agent)
        with pytest.raises(InvalidTransition):
            services.article_update(article=article, actor=agent, title="Sneaky")


class TestWorkflow:
    def test_draft_review_approve_publish(self, agent, manager, published):
        article = services.article_create(author=agent, title="Return an item")
        services.article_submit(article=article, actor=agent)
        services.article_approve(article=article, actor=manager, comment="Clear")
        services.article_publish(article=article, actor=manager)

        article.refresh_from_db()
        assert article.status == ArticleStatus.PUBLISHED and article.published_at is not None
        assert article.reviewer == manager and article.review_comment == "Clear"
        changes = [event["data"]["status"] for event, _groups in published.of_type("article.status_changed")]
        assert changes == ["in_review", "approved", "published"]
        event, groups = published.of_type("article.status_changed")[-1]
        assert groups == sorted(["supervisors", f"agent.{agent.pk}"])

    def test_agents_may_not_approve_or_publish(self, agent, other_agent):
        article = services.article_create(author=agent, title="Return an item")
        services.article_submit(article=article, actor=agent)
        with pytest.raises(KnowledgePermissionDenied):
            services.article_approve(article=article, actor=other_agent)
        with pytest.raises(KnowledgePermissionDenied):
            services.article_publish(article=article, actor=agent)

    @pytest.mark.parametrize("role", ["supervisor", "manager", "administrator"])
    def test_supervisors_administrators_and_knowledge_managers_approve(self, request, agent, role):
        approver = request.getfixturevalue(role)
        article = services.article_create(author=agent, title="Return an item")
        services.article_submit(article=article, actor=agent)
        assert services.article_approve(article=article, actor=approver).status == ArticleStatus.APPROVED

    def test_rejection_returns_the_article_to_its_author_with_the_comment(self, agent, manager):
        article = services.article_create(author=agent, title="Return an item")
        services.article_submit(article=article, actor=agent)

        services.article_reject(article=article, actor=manager, comment="Add the 30-day limit")

        article.refresh_from_db()
        assert article.status == ArticleStatus.DRAFT and article.review_comment == "Add the 30-day limit"
        services.article_update(article=article, actor=agent, body="Returns within 30 days.")

    def test_publishing_needs_approval_first(self, agent, manager):
        article = services.article_create(author=agent, title="Return an item")
        with pytest.raises(InvalidTransition):
            services.article_publish(article=article, actor=manager)

    def test_scheduled_publication_and_automatic_expiry(self, agent, manager):
        article = make_article(author=agent, manager=manager, status=ArticleStatus.APPROVED)
        now = timezone.now()
        services.article_publish(
            article=article, actor=manager, publish_at=now + timedelta(days=1), expires_at=now + timedelta(days=30)
        )
        article.refresh_from_db()
        assert article.status == ArticleStatus.SCHEDULED

        assert services.articles_lifecycle_sweep(now=now + timedelta(hours=1)) == (0, 0)
        assert services.articles_lifecycle_sweep(now=now + timedelta(days=1, minutes=1)) == (1, 0)
        article.refresh_from_db()
        assert article.status == ArticleStatus.PUBLISHED
        assert article.passages.filter(status=ArticleStatus.PUBLISHED).exists()

        assert services.articles_lifecycle_sweep(now=now + timedelta(days=31)) == (0, 1)
        article.refresh_from_db()
        assert article.status == ArticleStatus.EXPIRED
        assert not article.passages.filter(status=ArticleStatus.PUBLISHED).exists()

    def test_expiry_must_follow_publication(self, agent, manager):
        article = make_article(author=agent, manager=manager, status=ArticleStatus.APPROVED)
        with pytest.raises(InvalidTransition):
            services.article_publish(article=article, actor=manager, expires_at=timezone.now() - timedelta(days=1))


class TestVersions:
    def test_a_new_version_copies_content_and_keeps_number_and_language(self, agent, manager):
        live = make_article(author=agent, manager=manager, summary="How to pair", keywords=["pairing"])

        minor = services.article_version_create(article=live, actor=agent)

        assert (minor.number, minor.language, minor.version) == (live.number, live.language, "1.1")
        assert (minor.title, minor.body, minor.keywords) == (live.title, live.body, ["pairing"])
        assert minor.status == ArticleStatus.DRAFT and minor.previous_version == live
        live.refresh_from_db()
        assert live.status == ArticleStatus.PUBLISHED

    def test_publishing_a_version_retires_the_live_one(self, agent, manager):
        live = make_article(author=agent, manager=manager)
        major = services.article_version_create(article=live, actor=agent, major=True)
        assert major.version == "2.0"
        services.article_update(article=major, actor=agent, body="Updated steps")
        services.article_submit(article=major, actor=agent)
        services.article_approve(article=major, actor=manager)
        services.article_publish(article=major, actor=manager)

        statuses = dict(Article.objects.filter(number=live.number).values_list("major_version", "status"))
        assert statuses == {1: ArticleStatus.ARCHIVED, 2: ArticleStatus.PUBLISHED}

    def test_only_one_open_version_at_a_time(self, agent, manager):
        live = make_article(author=agent, manager=manager)
        services.article_version_create(article=live, actor=agent)
        with pytest.raises(VersionExists):
            services.article_version_create(article=live, actor=agent)

    def test_drafts_are_not_versioned(self, agent):
        draft = services.article_create(author=agent, title="Draft")
        with pytest.raises(InvalidTransition):
            services.article_version_create(article=draft, actor=agent)

    def test_the_database_refuses_two_published_versions(self, agent, manager):
        live = make_article(author=agent, manager=manager)
        copy = services.article_version_create(article=live, actor=agent)
        with pytest.raises(IntegrityError):
            Article.objects.filter(pk=copy.pk).update(status=ArticleStatus.PUBLISHED)


class TestTranslations:
    def test_translation_shares_the_number_and_publishes_with_the_original(self, agent, manager):
        original = make_article(author=agent, manager=manager, status=ArticleStatus.APPROVED)
        french = services.article_translation_create(
            article=original, actor=agent, language="fr", title="Associer vos écouteurs", body="Ouvrez le boîtier."
        )
        services.article_submit(article=french, actor=agent)
        services.article_approve(article=french, actor=manager)

        services.article_publish(article=original, actor=manager, cascade_translations=True)

        french.refresh_from_db()
        assert french.number == original.number and french.translation_of == original
        assert french.status == ArticleStatus.PUBLISHED

    def test_one_translation_per_language(self, agent, manager):
        original = make_article(author=agent, manager=manager)
        services.article_translation_create(article=original, actor=agent, language="de", title="Kopfhörer")
        with pytest.raises(TranslationExists):
            services.article_translation_create(article=original, actor=agent, language="de", title="Nochmal")


class TestAnalytics:
    def test_votes_and_views_are_counted(self, agent, manager):
        article = make_article(author=agent, manager=manager)
        services.article_view_record(article=article)
        services.article_feedback_add(article=article, helpful=True)
        services.article_feedback_add(article=article, helpful=False, source="agent", user=agent, comment="Outdated")

        article.refresh_from_db()
        assert (article.view_count, article.helpful_count, article.not_helpful_count) == (1, 1, 1)
        assert ArticleFeedback.objects.filter(source="agent", user=agent).count() == 1


def test_visibility_defaults_to_internal(agent):
    assert services.article_create(author=agent, title="X").visibility == Visibility.INTERNAL

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from knowledge import services, tasks
from knowledge.choices import ArticleStatus
from knowledge.models import Article, ArticlePassage
from knowledge.tests.factories import make_article

pytestmark = pytest.mark.django_db


def test_saving_a_draft_enqueues_embedding_after_commit(agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        article = services.article_create(author=agent, title="Clean the Boom Mini", body="## Care\nWipe it dry.")
    assert len(callbacks) == 1
    assert list(article.passages.values_list("heading", flat=True)) == ["Care"]
    assert ArticlePassage.objects.get(article=article).embedding is not None


def test_index_task_is_idempotent_and_skips_unchanged_text(agent):
    article = services.article_create(author=agent, title="Reset", body="Hold the button.")
    assert tasks.article_index.apply(args=[article.pk]).get() == 1
    first = list(article.passages.values_list("pk", flat=True))
    assert tasks.article_index.apply(args=[article.pk]).get() == 1
    assert list(article.passages.values_list("pk", flat=True)) == first
    assert tasks.article_index.apply(args=[999999]).get() == 0


def test_lifecycle_sweep_is_scheduled_and_expires_due_articles(agent, manager):
    assert PeriodicTask.objects.get(task="knowledge.tasks.articles_lifecycle_sweep").enabled
    article = make_article(author=agent, manager=manager)
    Article.objects.filter(pk=article.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert tuple(tasks.articles_lifecycle_sweep.apply().get()) == (0, 1)
    article.refresh_from_db()
    assert article.status == ArticleStatus.EXPIRED


def test_duplicates_command(agent, manager):
    make_article(author=agent, manager=manager, title="Pair Pulse Buds", body="Hold the case button for five seconds.")
    make_article(author=agent, manager=manager, title="Pair Pulse Buds", body="Hold the case button for 5 seconds.")
    out = StringIO()
    call_command("knowledge_duplicates", "--threshold", "0.9", stdout=out)
    assert "1 pair(s)" in out.getvalue()

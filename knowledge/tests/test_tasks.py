from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from crm import services as crm_services
from crm.models import Case
from crm.tests.factories import ContactFactory
from knowledge import services, tasks
from knowledge.choices import ArticleStatus
from knowledge.models import Article, ArticlePassage, KnowledgeDraft
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


def test_resolving_a_case_drafts_an_article_through_the_scheduled_sweep(agent, django_capture_on_commit_callbacks):
    assert PeriodicTask.objects.get(task="knowledge.tasks.resolved_cases_draft_sweep").interval.every == 1
    contact = ContactFactory()
    case = crm_services.case_create(contact=contact, subject="Soundbar drops Bluetooth", owner=agent)
    crm_services.case_resolve(
        case=case, actor=agent, resolution="Updated the soundbar firmware to 2.4 and re-paired the phone; it holds now."
    )
    old = crm_services.case_create(contact=contact, subject="Old resolved case", owner=agent)
    crm_services.case_resolve(case=old, actor=agent, resolution="Replaced the power adapter under warranty for them.")
    Case.objects.filter(pk=old.pk).update(resolved_at=timezone.now() - timedelta(days=3))
    still_open = crm_services.case_create(contact=contact, subject="Still open", owner=agent)

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.resolved_cases_draft_sweep.apply().get() == 1
    draft = KnowledgeDraft.objects.get(case=case)
    assert draft.title == "Soundbar drops Bluetooth"
    assert not KnowledgeDraft.objects.filter(case__in=[old, still_open]).exists()
    # Idempotent: a processed case is never queued again.
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.resolved_cases_draft_sweep.apply().get() == 0
    assert KnowledgeDraft.objects.filter(case=case).count() == 1

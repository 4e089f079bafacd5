from io import StringIO

import pytest
from django.contrib.auth.models import Group

from contactcenter.choices import Role
from knowledge import demo, services
from knowledge.models import Article, ArticleTemplate

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_demo_seed_publishes_searchable_articles_idempotently(django_user_model):
    django_user_model.objects.create_user("agent1").groups.add(Group.objects.get(name=Role.AGENT))
    django_user_model.objects.create_user("supervisor").groups.add(Group.objects.get(name=Role.SUPERVISOR))

    out = StringIO()
    demo.seed(out)
    demo.seed(out)

    assert f"{len(demo.ARTICLES)} articles created" in out.getvalue()
    assert f"{len(demo.ARTICLES)} unchanged" in out.getvalue()
    assert Article.objects.published().count() == len(demo.ARTICLES)
    assert ArticleTemplate.objects.count() == len(demo.TEMPLATES)
    assert Article.objects.filter(author__username="agent1").count() == len(demo.ARTICLES)
    [hit, *_] = services.search("my earbuds don't show up in bluetooth")
    assert hit.article.external_id == "demo/earbuds-pairing"
    assert services.search("E-1042")[0].article.external_id == "demo/router-e1042"

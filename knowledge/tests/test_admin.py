import pytest

from knowledge.choices import ArticleStatus
from knowledge.models import Article
from knowledge.tests.factories import make_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root")
    client.force_login(user)
    return client


def test_admin_creates_a_draft_with_a_number_and_previews_it(admin_client):
    response = admin_client.post("/admin/knowledge/article/add/", {
        "title": "Reset the Vista 55 TV", "summary": "", "body": "**Hold** power for 10 s", "keywords": "tv,reset",
        "product": "Vista 55", "category": "", "language": "en", "visibility": "external", "author": "",
        "publish_at": "", "expires_at": "", "external_id": "",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    article = Article.objects.get()
    assert article.number.startswith("KA-") and article.status == ArticleStatus.DRAFT
    page = admin_client.get(f"/admin/knowledge/article/{article.pk}/change/").content.decode()
    assert "<strong>Hold</strong>" in page


def test_admin_actions_run_the_lifecycle(admin_client, agent, manager):
    article = make_article(author=agent, manager=manager, status=ArticleStatus.IN_REVIEW)
    for action in ("action_article_approve", "action_article_publish"):
        admin_client.post("/admin/knowledge/article/", {"action": action, "_selected_action": [article.pk]})
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED


def test_knowledge_managers_manage_templates_and_sources_in_the_admin(client, manager):
    manager.is_staff = True
    manager.save()
    client.force_login(manager)
    assert client.get("/admin/knowledge/articletemplate/add/").status_code == 200
    assert client.get("/admin/knowledge/knowledgesource/add/").status_code == 200

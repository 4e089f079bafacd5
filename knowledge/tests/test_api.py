import pytest
from rest_framework.test import APIClient

from contactcenter.models import ApiKey
from knowledge.choices import ArticleStatus, Visibility
from knowledge.models import Article
from knowledge.tests.factories import make_article

pytestmark = pytest.mark.django_db


def api_client(user, scopes=("read", "write")) -> APIClient:
    key_id, secret = ApiKey.new_credentials()
    ApiKey.objects.create(name="integration", owner=user, key_id=key_id, secret_hash=ApiKey.hash_secret(secret),
                          scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {ApiKey.format_key(key_id, secret)}")
    return client


class TestArticles:
    def test_full_lifecycle_through_the_api(self, agent, manager):
        author, approver = api_client(agent), api_client(manager)
        created = author.post("/api/v1/knowledge/articles/", {
            "title": "Track your order", "body": "Use the link in the shipping email.", "visibility": "external",
            "keywords": ["tracking", "order"],
        }, format="json")
        assert created.status_code == 201, created.json()
        pk = created.json()["id"]
        assert created.json()["number"].startswith("KA-") and created.json()["status"] == "draft"

        assert author.post(f"/api/v1/knowledge/articles/{pk}/submit/").json()["status"] == "in_review"
        approved = approver.post(f"/api/v1/knowledge/articles/{pk}/approve/", {"comment": "ok"}, format="json")
        assert approved.json()["status"] == "approved"
        published = approver.post(f"/api/v1/knowledge/articles/{pk}/publish/", {}, format="json")
        assert published.json()["status"] == "published"

        version = author.post(f"/api/v1/knowledge/articles/{pk}/new-version/", {"major": True}, format="json")
        assert version.status_code == 201 and version.json()["version"] == "2.0"
        patched = author.patch(f"/api/v1/knowledge/articles/{version.json()['id']}/", {"title": "Track an order"},
                               format="json")
        assert patched.json()["title"] == "Track an order"

    def test_errors_use_the_json_error_shape(self, agent):
        client = api_client(agent)
        invalid = client.post("/api/v1/knowledge/articles/", {"visibility": "everyone"}, format="json")
        assert invalid.status_code == 400
        assert invalid.json()["error"]["code"] == "invalid"
        assert set(invalid.json()["error"]["fields"]) == {"title", "visibility"}

        created = client.post("/api/v1/knowledge/articles/", {"title": "X"}, format="json")
        article = Article.objects.get(pk=created.json()["id"])
        forbidden = client.post(f"/api/v1/knowledge/articles/{article.pk}/approve/")
        assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == "permission_denied"
        conflict = client.post(f"/api/v1/knowledge/articles/{article.pk}/new-version/")
        assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "invalid_transition"

    def test_read_only_keys_cannot_write(self, agent):
        client = api_client(agent, scopes=["read"])
        assert client.get("/api/v1/knowledge/articles/").status_code == 200
        assert client.post("/api/v1/knowledge/articles/", {"title": "X"}, format="json").status_code == 403

    def test_outsiders_are_refused(self, outsider):
        assert api_client(outsider).get("/api/v1/knowledge/articles/").status_code == 403
        assert APIClient().get("/api/v1/knowledge/search", {"q": "x"}).status_code in (401, 403)

    def test_list_filters_and_bounded_queries(self, agent, manager, django_assert_max_num_queries):
        for index in range(5):
            make_article(author=agent, manager=manager, title=f"Published {index}")
        make_article(author=agent, manager=manager, title="A draft", status=ArticleStatus.DRAFT)
        client = api_client(agent)
        with django_assert_max_num_queries(8):
            response = client.get("/api/v1/knowledge/articles/", {"status": "draft"})
        assert [row["title"] for row in response.json()["results"]] == ["A draft"]


class TestSearch:
    def test_search_returns_highlighted_hits(self, agent, manager):
        make_article(author=agent, manager=manager, title="Router firmware recovery",
                     body="If the router shows error code E-1042 unplug it and hold reset.")
        make_article(author=agent, manager=manager, title="Internal note on E-1042", visibility=Visibility.INTERNAL,
                     body="Escalate E-1042 to tier 2.")
        client = api_client(agent)

        response = client.get("/api/v1/knowledge/search", {"q": "E-1042", "visibility": "external"})

        assert response.status_code == 200
        [hit] = response.json()["results"]
        assert hit["title"] == "Router firmware recovery" and "<mark>" in hit["highlight"]

    def test_search_validates_its_parameters(self, agent):
        response = api_client(agent).get("/api/v1/knowledge/search", {"k": 500})
        assert response.status_code == 400 and set(response.json()["error"]["fields"]) == {"q", "k"}


def test_schema_documents_the_knowledge_endpoints(agent, client):
    client.force_login(agent)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/v1/knowledge/articles/{id}/publish/" in schema and "/api/v1/knowledge/search" in schema

import uuid

import pytest

from crm import services as crm_services
from crm.choices import ChannelKind
from knowledge import services
from knowledge.choices import ArticleStatus, Visibility
from knowledge.models import Article, ArticleFeedback, SuggestionFeedback
from knowledge.tests.factories import make_article

pytestmark = pytest.mark.django_db

BODY = "## Steps\nHold the case button for five seconds until the light blinks white."


@pytest.fixture
def public_article(agent, manager):
    return make_article(author=agent, manager=manager, title="Pair AirBeats Pro earbuds", body=BODY)


class TestHelpCenter:
    def test_is_public_and_lists_only_published_external_articles(self, client, public_article, agent, manager):
        internal = make_article(author=agent, manager=manager, title="Internal escalation matrix",
                                visibility=Visibility.INTERNAL)
        draft = make_article(author=agent, manager=manager, title="Unreleased earbuds", status=ArticleStatus.DRAFT,
                             visibility=Visibility.EXTERNAL)

        page = client.get("/help/")
        assert page.status_code == 200
        html = page.content.decode()
        assert public_article.title in html and internal.title not in html and draft.title not in html
        assert client.get(f"/help/articles/{internal.number}/").status_code == 404
        assert client.get(f"/help/articles/{draft.number}/").status_code == 404

    def test_search_and_article_page(self, client, public_article):
        results = client.get("/help/", {"q": "earbuds light blinking"}).content.decode()
        assert public_article.title in results and "<mark>" in results

        page = client.get(f"/help/articles/{public_article.number}/")
        assert page.status_code == 200 and "<h2>Steps</h2>" in page.content.decode()
        public_article.refresh_from_db()
        assert public_article.view_count == 1

    def test_vote_needs_csrf_and_counts_once_per_visitor(self, public_article):
        from django.test import Client

        # A visitor address of its own, so earlier runs' rate-limit memory in Redis cannot interfere.
        strict = Client(enforce_csrf_checks=True, REMOTE_ADDR=f"visitor-{uuid.uuid4().hex}")
        url = f"/help/articles/{public_article.number}/vote/"
        assert strict.post(url, {"helpful": "yes"}).status_code == 403

        strict.get(f"/help/articles/{public_article.number}/")
        token = strict.cookies["csrftoken"].value
        first = strict.post(url, {"helpful": "yes"}, HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true")
        again = strict.post(url, {"helpful": "no"}, HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true")

        assert first.status_code == 200 and "Thank you" in first.content.decode()
        assert again.status_code == 429
        assert ArticleFeedback.objects.filter(source="customer").count() == 1
        public_article.refresh_from_db()
        assert public_article.helpful_count == 1


class TestAuthoring:
    def test_requires_sign_in_and_a_contact_center_role(self, client, outsider):
        assert client.get("/knowledge/").status_code == 302
        client.force_login(outsider)
        assert client.get("/knowledge/").status_code == 403

    def test_list_and_search(self, client, agent, public_article, django_assert_max_num_queries):
        client.force_login(agent)
        with django_assert_max_num_queries(8):
            page = client.get("/knowledge/")
        assert public_article.title in page.content.decode()
        fragment = client.get("/knowledge/", {"q": "blinking light"}, HTTP_HX_REQUEST="true")
        assert "<html" not in fragment.content.decode() and public_article.title in fragment.content.decode()

    def test_list_queries_stay_bounded(self, client, agent, manager, django_assert_max_num_queries):
        for index in range(30):
            services.article_create(author=agent, title=f"Article {index}")
        client.force_login(agent)
        with django_assert_max_num_queries(8):
            assert client.get("/knowledge/").status_code == 200

    def test_agent_writes_and_submits_a_draft(self, client, agent):
        client.force_login(agent)
        response = client.post("/knowledge/new/", {
            "title": "Reset NetMax router", "body": "## Steps\nHold reset for 10 seconds.", "keywords": "router, reset",
            "language": "en", "visibility": "external", "summary": "", "product": "NetMax", "category": "",
        })
        article = Article.objects.get()
        assert response.status_code == 302 and article.keywords == ["router", "reset"]

        fragment = client.post(f"/knowledge/{article.pk}/submit/", HTTP_HX_REQUEST="true")
        assert 'id="article-status"' in fragment.content.decode() and "In review" in fragment.content.decode()

        denied = client.post(f"/knowledge/{article.pk}/approve/", HTTP_HX_REQUEST="true")
        assert denied.status_code == 409
        article.refresh_from_db()
        assert article.status == ArticleStatus.IN_REVIEW

    def test_manager_approves_publishes_and_branches_a_version(self, client, agent, manager):
        article = make_article(author=agent, manager=manager, status=ArticleStatus.IN_REVIEW)
        client.force_login(manager)
        client.post(f"/knowledge/{article.pk}/approve/", {"comment": "Fine"}, HTTP_HX_REQUEST="true")
        client.post(f"/knowledge/{article.pk}/publish/", {}, HTTP_HX_REQUEST="true")
        article.refresh_from_db()
        assert article.status == ArticleStatus.PUBLISHED

        response = client.post(f"/knowledge/{article.pk}/new-version/", {"major": "on"}, HTTP_HX_REQUEST="true")
        version = Article.objects.get(number=article.number, major_version=2)
        assert response.headers["HX-Redirect"] == f"/knowledge/{version.pk}/edit/"

    def test_rejection_needs_a_comment(self, client, agent, manager):
        article = make_article(author=agent, manager=manager, status=ArticleStatus.IN_REVIEW)
        client.force_login(manager)
        response = client.post(f"/knowledge/{article.pk}/reject/", {"comment": ""}, HTTP_HX_REQUEST="true")
        assert response.status_code == 409 and "needs a comment" in response.content.decode()

    def test_editing_with_preview(self, client, agent):
        article = services.article_create(author=agent, title="Draft", body="old")
        client.force_login(agent)
        assert client.get(f"/knowledge/{article.pk}/edit/").status_code == 200
        preview = client.post("/knowledge/preview/", {"body": "**bold** <script>x</script>"})
        assert preview.content.decode().strip() == "<p><strong>bold</strong> </p>"

    def test_review_queue_is_for_managers(self, client, agent, manager):
        client.force_login(agent)
        assert client.get("/knowledge/drafts/").status_code == 403
        client.force_login(manager)
        assert client.get("/knowledge/drafts/").status_code == 200


class TestSmartAssistPartial:
    def test_renders_cards_and_ratings_replace_them(self, rf, client, agent, public_article):
        from django.template.loader import render_to_string

        result = crm_services.message_ingest(channel_kind=ChannelKind.WEBCHAT, address="v9",
                                             body="How do I pair my AirBeats earbuds? The light is blinking")
        assist = services.smart_assist(conversation=result.conversation, user=agent)
        request = rf.get("/")
        request.user = agent
        html = render_to_string("knowledge/partials/_smart_assist.html",
                                {"assist": assist, "conversation": result.conversation}, request=request)
        assert public_article.title in html and 'name="article"' in html

        client.force_login(agent)
        response = client.post("/knowledge/suggestions/rate/", {
            "article": public_article.pk, "helpful": "yes", "confidence": "0.8",
        }, HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and "marked helpful" in response.content.decode()
        assert SuggestionFeedback.objects.get().helpful is True


class TestWorkspaceEndpoints:
    def test_assist_panel_for_a_visible_conversation_only(self, client, agent, other_agent, public_article):
        from crm.models import Conversation

        result = crm_services.message_ingest(channel_kind=ChannelKind.WEBCHAT, address="v10",
                                             body="my AirBeats earbuds light is blinking, how do I pair them")
        Conversation.objects.filter(pk=result.conversation.pk).update(assigned_agent=agent)
        client.force_login(other_agent)
        assert client.get("/knowledge/assist/", {"conversation": result.conversation.pk}).status_code == 404
        client.force_login(agent)
        panel = client.get("/knowledge/assist/", {"conversation": result.conversation.pk}, HTTP_HX_REQUEST="true")
        assert panel.status_code == 200 and 'id="smart-assist"' in panel.content.decode()
        assert public_article.title in panel.content.decode()

    def test_workspace_session_loads_the_assist_pane_and_refreshes_it_when_the_customer_writes(
        self, client, agent, public_article
    ):
        from crm.models import Conversation

        result = crm_services.message_ingest(channel_kind=ChannelKind.WEBCHAT, address="v11",
                                             body="my AirBeats earbuds light is blinking, how do I pair them")
        Conversation.objects.filter(pk=result.conversation.pk).update(assigned_agent=agent, status="active")
        client.force_login(agent)
        session = client.get(f"/conversations/{result.conversation.pk}/", HTTP_HX_REQUEST="true").content.decode()
        pane = f'hx-get="/knowledge/assist/?conversation={result.conversation.pk}"'
        assert pane in session
        assert f"customer-message[detail.conversation=='{result.conversation.pk}'] from:body" in session
        panel = client.get("/knowledge/assist/", {"conversation": result.conversation.pk}, HTTP_HX_REQUEST="true")
        html = panel.content.decode()
        # Cards carry what the workspace inserts into the composer: the public link and the passage.
        assert f"/help/articles/{public_article.number}/" in html and html.count("data-insert=") == 2 * html.count(
            'class="assist-card" id="assist-article-')

    def test_sending_an_article_is_counted(self, client, agent, public_article):
        from knowledge.models import ArticleUsage

        client.force_login(agent)
        assert client.post(f"/knowledge/{public_article.pk}/use/", {"kind": "sent"}).status_code == 204
        assert client.post(f"/knowledge/{public_article.pk}/use/", {"kind": "viewed"}).status_code == 400
        assert ArticleUsage.objects.get().kind == "sent"
        detail = client.get(f"/knowledge/{public_article.pk}/").content.decode()
        assert "Sent to customers</dt><dd>1" in detail


def test_keyword_and_summary_suggestions_fill_the_form(client, agent):
    client.force_login(agent)
    response = client.post("/knowledge/suggest/", {
        "title": "Laptop battery drains quickly",
        "body": "Lower the screen brightness to save battery. Close background apps. "
                "Update the BIOS, because BIOS 1.8 fixed a sleep bug that drained the battery overnight.",
    }, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'id="id_keywords"' in html and 'hx-swap-oob="true"' in html
    assert "battery" in html.split('id="id_keywords" value="')[1].split('"')[0]
    assert "BIOS" in html.split('id="id_summary"')[1] or "battery" in html.split('id="id_summary"')[1]


def test_templates_prefill_a_new_article(client, agent):
    from knowledge.models import ArticleTemplate

    template = ArticleTemplate.objects.create(
        name="Troubleshooting", title="[Product] does not …", body="## Symptoms\n\n## Cause\n\n## Resolution\n",
        keywords=["troubleshooting"], visibility="external",
    )
    client.force_login(agent)
    page = client.get("/knowledge/new/", {"template": template.pk}).content.decode()
    assert "## Symptoms" in page and 'value="troubleshooting"' in page and "Troubleshooting</a>" in page
    assert client.get("/knowledge/new/", {"template": "nope"}).status_code == 200

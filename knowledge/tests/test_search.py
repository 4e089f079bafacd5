from datetime import timedelta

import pytest
from django.utils import timezone

from knowledge import services
from knowledge.choices import ArticleStatus, Visibility
from knowledge.models import ArticlePassage, SearchLog
from knowledge.tests.factories import make_article

pytestmark = pytest.mark.django_db

EARBUDS = """Put both earbuds in the charging case and keep the lid open.

## Put the earbuds in pairing mode
Press and hold the button on the back of the case for five seconds until the light blinks white.

## Connect from your phone
Open Bluetooth settings on the phone and choose "AirBeats Pro" from the list of devices."""
ROUTER = """If the router shows error code E-1042 the firmware update was interrupted.

## Recover the firmware
Unplug the router, hold the reset button, plug it back in and wait until the light turns green."""
BATTERY = """Lower the screen brightness and close apps running in the background.

## Calibrate the battery
Charge to 100 %, then let the laptop run until it turns off, and charge it fully again."""


@pytest.fixture
def corpus(agent, manager):
    return {
        "earbuds": make_article(author=agent, manager=manager, title="Pair AirBeats Pro earbuds", body=EARBUDS,
                                product="AirBeats Pro"),
        "router": make_article(author=agent, manager=manager, title="Router firmware recovery", body=ROUTER,
                               product="NetMax Router"),
        "battery": make_article(author=agent, manager=manager, title="Laptop battery drains quickly", body=BATTERY,
                                product="Northbook 14", visibility=Visibility.INTERNAL),
    }


def titles(hits):
    return [hit.article.title for hit in hits]


class TestRetrieval:
    def test_finds_an_article_from_a_paraphrase_sharing_no_keyword(self, corpus, agent):
        hits = services.search("my wireless headphones will not link up with my mobile", user=agent)
        assert titles(hits)[0] == "Pair AirBeats Pro earbuds"
        assert hits[0].text_rank is None and hits[0].vector_rank == 1

    def test_finds_an_exact_error_code_through_full_text(self, corpus, agent):
        hits = services.search("E-1042", user=agent)
        assert titles(hits)[0] == "Router firmware recovery"
        assert hits[0].text_rank == 1
        assert "<mark>" in hits[0].highlight

    def test_highlights_are_escaped_html(self, agent, manager):
        make_article(author=agent, manager=manager, title="Symbols", body="Type <b>reset</b> into the console")
        [hit] = services.search("reset console", user=agent, k=1)
        assert "&lt;b&gt;" in hit.highlight or "<b>" not in hit.highlight

    def test_passages_follow_headings(self, corpus):
        headings = list(corpus["earbuds"].passages.values_list("heading", flat=True))
        assert headings == ["", "Put the earbuds in pairing mode", "Connect from your phone"]

    def test_results_are_grouped_per_article(self, corpus, agent):
        hits = services.search("earbuds pairing bluetooth case button", user=agent)
        assert len(titles(hits)) == len(set(titles(hits)))

    def test_searches_are_logged(self, corpus, agent):
        services.search("battery", user=agent)
        log = SearchLog.objects.get()
        assert (log.query, log.audience, log.user) == ("battery", "staff", agent)


class TestAudience:
    def test_customers_and_bots_never_see_internal_or_unpublished_articles(self, corpus, agent, manager):
        draft = make_article(author=agent, manager=manager, status=ArticleStatus.DRAFT, title="Laptop battery recall")

        public = titles(services.search("laptop battery", k=10))
        staff = titles(services.search("laptop battery", k=10, user=agent))

        assert "Laptop battery drains quickly" not in public and draft.title not in public
        assert "Laptop battery drains quickly" in staff and draft.title not in staff

    def test_public_audience_ignores_filters_that_would_widen_it(self, corpus, agent, manager):
        make_article(author=agent, manager=manager, status=ArticleStatus.DRAFT, title="Secret battery draft")
        hits = services.search("battery", filters={"status": ["draft"], "visibility": "internal"})
        assert all(h.article.status == "published" and h.article.visibility == "external" for h in hits)

    def test_staff_may_search_drafts_on_request(self, corpus, agent, manager):
        make_article(author=agent, manager=manager, status=ArticleStatus.DRAFT, title="Battery swelling")
        hits = services.search("battery swelling", filters={"status": ["draft"]}, user=agent)
        assert titles(hits) == ["Battery swelling"]

    def test_expired_articles_disappear(self, corpus, agent, manager):
        services.article_expire(article=corpus["router"], actor=manager)
        assert "Router firmware recovery" not in titles(services.search("E-1042 router", user=agent))


class TestFilters:
    def test_product_and_language_filters(self, corpus, agent, manager):
        french = services.article_translation_create(
            article=corpus["router"], actor=agent, language="fr", title="Récupérer le micrologiciel du routeur",
            body="Si le routeur affiche le code E-1042, débranchez-le et maintenez le bouton de réinitialisation.",
        )
        services.article_submit(article=french, actor=agent)
        services.article_approve(article=french, actor=manager)
        services.article_publish(article=french, actor=manager)
        services.article_index(article_id=french.pk)

        assert titles(services.search("E-1042", filters={"language": "fr"}, user=agent)) == [french.title]
        by_product = services.search("how do I fix it", filters={"product": "NetMax Router"}, user=agent)
        assert {h.article.product for h in by_product} == {"NetMax Router"}

    def test_modified_since(self, corpus, agent):
        old = timezone.now() - timedelta(days=90)
        ArticlePassage.objects.filter(article=corpus["earbuds"]).update(modified_at=old)
        since = timezone.now() - timedelta(days=7)
        hits = services.search("earbuds", filters={"modified_since": since}, user=agent)
        assert "Pair AirBeats Pro earbuds" not in titles(hits)

    def test_a_selective_filter_still_fills_the_page(self, agent, manager):
        for index in range(6):
            make_article(author=agent, manager=manager, title=f"Order tracking {index}", product="Other",
                         body="Track your parcel with the link in the shipping email.")
        for index in range(3):
            make_article(author=agent, manager=manager, title=f"Earbud tip {index}", product="Rare",
                         body="Clean the earbud mesh with a dry brush.")
        hits = services.search("track my parcel", filters={"product": "Rare"}, k=3, user=agent, mode="vector")
        assert len(hits) == 3


class TestSorting:
    def test_sort_by_views_and_recency(self, corpus, agent):
        for _ in range(3):
            services.article_view_record(article=corpus["battery"])
        by_views = services.search("battery earbuds router", user=agent, sort="views")
        assert titles(by_views)[0] == "Laptop battery drains quickly"
        by_recency = services.search("battery earbuds router", user=agent, sort="recency")
        modified = [hit.article.updated_at for hit in by_recency]
        assert modified == sorted(modified, reverse=True)

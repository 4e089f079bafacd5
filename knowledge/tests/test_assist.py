import pytest

from crm import services as crm_services
from crm.choices import CaseStatus, ChannelKind
from crm.tests.factories import ContactFactory
from knowledge import services
from knowledge.choices import ArticleStatus, DraftKind, DraftStatus, Visibility
from knowledge.exceptions import DraftAlreadyReviewed, KnowledgePermissionDenied
from knowledge.models import Article, KnowledgeDraft, ResolvedCaseIndex, SuggestionFeedback
from knowledge.services.assist import confidence
from knowledge.tests.factories import make_article

pytestmark = pytest.mark.django_db

EARBUDS = """Put both earbuds in the charging case and keep the lid open.

## Pairing mode
Press and hold the button on the back of the case for five seconds until the light blinks white.

## Connect
Open Bluetooth settings on the phone and choose "AirBeats Pro" from the list of devices."""


@pytest.fixture
def earbuds(agent, manager):
    return make_article(author=agent, manager=manager, title="Pair AirBeats Pro earbuds with a phone", body=EARBUDS)


def resolved_case(agent, subject, description, resolution):
    case = crm_services.case_create(contact=ContactFactory(), subject=subject, description=description, owner=agent)
    return crm_services.case_resolve(case=case, actor=agent, resolution=resolution)


class TestSmartAssist:
    def test_suggests_articles_and_similar_resolved_cases_for_a_conversation(self, earbuds, agent):
        old = resolved_case(agent, "Earbuds will not pair", "AirBeats do not show up in Bluetooth",
                            "Reset the case by holding the button 15 seconds, then paired again.")
        services.case_index(case_id=old.pk)
        result = crm_services.message_ingest(channel_kind=ChannelKind.WEBCHAT, address="v1",
                                             body="Hi, my new AirBeats earbuds won't show up on my phone's bluetooth")

        assist = services.smart_assist(conversation=result.conversation, user=agent)

        assert [s.article for s in assist.articles] == [earbuds]
        assert [s.case for s in assist.cases] == [old]
        assert all(0.65 <= s.confidence <= 1 for s in assist.articles + assist.cases)

    def test_hides_suggestions_below_the_threshold(self, earbuds, agent):
        result = crm_services.message_ingest(channel_kind=ChannelKind.WEBCHAT, address="v2",
                                             body="Can I change the billing address on my invoice?")
        assist = services.smart_assist(conversation=result.conversation, user=agent)
        assert assist.articles == [] and assist.cases == []
        lenient = services.smart_assist(conversation=result.conversation, user=agent, threshold=0.0)
        assert lenient.articles

    def test_a_case_is_never_suggested_for_itself(self, agent):
        case = resolved_case(agent, "Laptop battery drains in two hours", "Northbook 14 battery",
                             "Updated the BIOS and recalibrated the battery.")
        services.case_index(case_id=case.pk)
        assert services.smart_assist(case=case, user=agent, threshold=0).cases == []

    def test_confidence_grows_with_similarity(self):
        assert confidence(0.1) < 0.05 < confidence(0.3) < 0.65 < confidence(0.45) < confidence(0.7)

    def test_agents_rate_suggestions(self, earbuds, agent):
        feedback = services.suggestion_rate(user=agent, article=earbuds, helpful=False, confidence=0.7)
        assert SuggestionFeedback.objects.get() == feedback and feedback.kind == "article"


class TestCaseToKnowledge:
    def test_a_resolved_case_is_drafted_for_review_and_nothing_is_published(
        self, agent, manager, published, django_capture_on_commit_callbacks
    ):
        case = resolved_case(agent, "Smart TV shows no signal on HDMI 2", "Vista 55 TV, cable box on HDMI 2.",
                             "Switched the input to HDMI 2 in the Source menu and enabled HDMI-CEC; picture is back.")
        with django_capture_on_commit_callbacks(execute=True):
            assert services.case_resolved_draft_enqueue(case=case)

        draft = KnowledgeDraft.objects.get(case=case)
        assert draft.kind == DraftKind.NEW and draft.status == DraftStatus.PENDING
        assert "## Problem" in draft.body and "## Resolution" in draft.body and "HDMI-CEC" in draft.body
        assert draft.provider == "grounded" and f"case:{case.pk}:resolution" in draft.sources
        assert ResolvedCaseIndex.objects.filter(case=case).exists()
        assert not Article.objects.filter(status=ArticleStatus.PUBLISHED).exists()
        assert "knowledge_draft.created" in published.types

        article = services.draft_accept(draft=draft, actor=manager)
        assert article.status == ArticleStatus.DRAFT and article.title == case.subject

    def test_drafting_is_idempotent(self, agent):
        case = resolved_case(agent, "Order not delivered", "Tracking stuck",
                             "Carrier confirmed the parcel was lost; we shipped a replacement.")
        first = services.case_draft_create(case_id=case.pk)
        assert services.case_draft_create(case_id=case.pk) == first
        assert KnowledgeDraft.objects.count() == 1

    def test_open_cases_and_thin_resolutions_are_not_drafted(self, agent):
        case = crm_services.case_create(contact=ContactFactory(), subject="Open", owner=agent)
        assert not services.case_resolved_draft_enqueue(case=case)
        assert services.case_draft_create(case_id=case.pk) is None
        thin = resolved_case(agent, "Question", "", "Done.")
        assert services.case_draft_create(case_id=thin.pk) is None

    def test_proposes_an_update_when_an_article_already_covers_it(self, agent, manager, earbuds):
        case = resolved_case(agent, "Pair AirBeats Pro earbuds with a phone",
                             "Customer could not pair the earbuds; they did not appear in Bluetooth settings.",
                             "Press and hold the button on the back of the case for five seconds until the light "
                             "blinks white, then choose AirBeats Pro in Bluetooth settings.")
        draft = services.case_draft_create(case_id=case.pk)
        assert draft.kind == DraftKind.UPDATE and draft.target == earbuds and draft.similarity >= 0.75

        version = services.draft_accept(draft=draft, actor=manager)

        assert version.number == earbuds.number and version.version == "1.1"
        assert version.status == ArticleStatus.DRAFT and f"## Update from {case.number}" in version.body
        earbuds.refresh_from_db()
        assert earbuds.status == ArticleStatus.PUBLISHED

    def test_only_managers_review_drafts_and_only_once(self, agent, manager):
        case = resolved_case(agent, "Refund missing", "Refund not received after return",
                             "Refund was issued to the original card; it takes five business days to appear.")
        draft = services.case_draft_create(case_id=case.pk)
        with pytest.raises(KnowledgePermissionDenied):
            services.draft_accept(draft=draft, actor=agent)
        services.draft_dismiss(draft=draft, actor=manager)
        with pytest.raises(DraftAlreadyReviewed):
            services.draft_accept(draft=draft, actor=manager)


class TestDuplicates:
    def test_finds_near_identical_published_articles(self, agent, manager, earbuds):
        twin = make_article(author=agent, manager=manager, title="Pair AirBeats Pro earbuds with your phone",
                            body=EARBUDS.replace("five", "5"))
        make_article(author=agent, manager=manager, title="Returns", body="Return items within 30 days.",
                     visibility=Visibility.INTERNAL)
        pairs = services.duplicates_find(threshold=0.9)
        assert [{pair.first, pair.second} for pair in pairs] == [{earbuds, twin}]


def test_smart_assist_serves_agents_internal_articles_too(agent, manager):
    internal = make_article(author=agent, manager=manager, title="Agent guide: approve refunds above $500",
                            body="Refunds above 500 dollars need a supervisor's approval on the case.",
                            visibility=Visibility.INTERNAL)
    result = crm_services.message_ingest(channel_kind=ChannelKind.WEBCHAT, address="v3",
                                         body="I need a refund of 800 dollars for my TV, who approves that?")
    assert [s.article for s in services.smart_assist(conversation=result.conversation).articles] == [internal]

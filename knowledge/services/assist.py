"""Smart assist (REFERENCE H.109): articles and similar resolved cases for what the customer is asking."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db import connection, transaction

from contactcenter.permissions import is_staff_member
from copilot.providers import embed
from crm.choices import CaseStatus, MessageDirection
from crm.models import Case, Conversation
from knowledge.choices import SuggestionKind
from knowledge.models import Article, ResolvedCaseIndex, SuggestionFeedback
from knowledge.services.search import PUBLIC, STAFF, search, vector_literal

#: H.109: cards under 65 % confidence are hidden.
DEFAULT_THRESHOLD = 0.65
#: The customer's latest turns that make the question (older turns drift off topic).
TURNS_CONSIDERED = 6
#: MiniLM cosine similarity → confidence, a logistic curve fitted on the demo
#: knowledge base (knowledge/demo.py) with 16 customer phrasings of questions it
#: answers and 6 it does not: answered questions scored 0.43–0.82 against their
#: article's best passage, unanswered ones 0.05–0.385. The midpoint sits between
#: the two groups, so the default 0.65 confidence means similarity ≈ 0.405.
CALIBRATION_MIDPOINT = 0.38
CALIBRATION_SCALE = 0.04


@dataclass(frozen=True)
class Suggestion:
    kind: str
    confidence: float
    similarity: float
    article: Article | None = None
    case: Case | None = None
    snippet: str = ""
    passage_text: str = ""


@dataclass(frozen=True)
class SmartAssist:
    query: str
    articles: list[Suggestion]
    cases: list[Suggestion]


def confidence(similarity: float) -> float:
    return 1.0 / (1.0 + math.exp(-(similarity - CALIBRATION_MIDPOINT) / CALIBRATION_SCALE))


def case_text(case: Case) -> str:
    return "\n".join(part for part in (case.subject, case.description) if part.strip())


def conversation_text(conversation: Conversation) -> str:
    turns = list(
        conversation.messages.filter(direction=MessageDirection.INBOUND)
        .exclude(body="").order_by("-id").values_list("body", flat=True)[:TURNS_CONSIDERED]
    )
    return "\n".join([conversation.subject, *reversed(turns)]).strip()


def similar_cases(*, vector, exclude_case_id: int | None, limit: int) -> list[tuple[int, float]]:
    """(case id, cosine similarity) of the nearest resolved cases."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true)")
        cursor.execute(
            """
            WITH nearest AS MATERIALIZED (
                SELECT case_id, embedding <=> %(v)s::vector AS distance FROM knowledge_resolvedcaseindex
                WHERE case_id <> %(exclude)s ORDER BY embedding <=> %(v)s::vector LIMIT %(limit)s
            ) SELECT case_id, 1 - distance FROM nearest ORDER BY distance
            """,
            {"v": vector_literal(vector), "exclude": exclude_case_id or 0, "limit": limit},
        )
        return cursor.fetchall()


def smart_assist(
    *, conversation: Conversation | None = None, case: Case | None = None, limit: int = 3,
    threshold: float = DEFAULT_THRESHOLD, user=None,
) -> SmartAssist:
    """Up to ``limit`` articles and ``limit`` similar resolved cases, each with a confidence ≥ ``threshold``.

    The question is the conversation's latest customer turns, or the case's
    subject and description. Suggestions serve agents, so internal articles
    are included — unless ``user`` is given and is not staff.
    """
    if conversation is not None:
        query = conversation_text(conversation)
        case = case or conversation.case
    elif case is not None:
        query = case_text(case)
    else:
        raise ValueError("smart_assist needs a conversation or a case")
    if not query:
        return SmartAssist(query="", articles=[], cases=[])
    [vector] = embed([query])
    audience = STAFF if user is None or is_staff_member(user) else PUBLIC
    articles = [
        Suggestion(
            kind=SuggestionKind.ARTICLE, confidence=confidence(hit.similarity), similarity=hit.similarity,
            article=hit.article, snippet=hit.highlight, passage_text=hit.passage_text,
        )
        for hit in search(query, k=limit * 2, user=user, vector=vector, mode="vector", log=False, audience=audience)
        if hit.similarity is not None and confidence(hit.similarity) >= threshold
    ][:limit]
    near = [(case_id, similarity) for case_id, similarity in
            similar_cases(vector=vector, exclude_case_id=case.pk if case else None, limit=limit * 2)
            if confidence(similarity) >= threshold]
    found = Case.objects.in_bulk([case_id for case_id, _similarity in near])
    cases = [
        Suggestion(kind=SuggestionKind.CASE, confidence=confidence(similarity), similarity=similarity,
                   case=found[case_id], snippet=found[case_id].resolution[:300])
        for case_id, similarity in near
        if case_id in found and found[case_id].status == CaseStatus.RESOLVED
    ][:limit]
    return SmartAssist(query=query, articles=articles, cases=cases)


def suggestion_rate(
    *, user, helpful: bool, confidence: float, article: Article | None = None, suggested_case: Case | None = None,
    conversation: Conversation | None = None, case: Case | None = None,
) -> SuggestionFeedback:
    """An agent's thumbs up/down on a suggestion card, kept for retraining. Side effects: SuggestionFeedback."""
    kind = SuggestionKind.ARTICLE if article is not None else SuggestionKind.CASE
    return SuggestionFeedback.objects.create(
        kind=kind, article=article, suggested_case=suggested_case, conversation=conversation, case=case,
        helpful=helpful, confidence=max(0.0, min(1.0, confidence)), user=user,
    )


def case_index(*, case_id: int) -> ResolvedCaseIndex | None:
    """Embed a resolved case for similar-case suggestions (removed again if it is no longer resolved)."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None or case.status != CaseStatus.RESOLVED:
        ResolvedCaseIndex.objects.filter(case_id=case_id).delete()
        return None
    text = "\n".join(part for part in (case_text(case), case.resolution) if part.strip())
    [vector] = embed([text])
    entry, _created = ResolvedCaseIndex.objects.update_or_create(
        case=case, defaults={"text": text, "embedding": vector}
    )
    return entry

"""What every workspace view shares: object access through selectors, fragment responses."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render

from crm import selectors
from crm.models import Case, Conversation

#: htmx swaps a 422 answer (form errors) instead of treating it as a failure; see workspace.js.
UNPROCESSABLE = 422


def access_conversation(request, pk: int) -> Conversation:
    """The conversation if the user may see it; 404 otherwise, so its existence is not revealed."""
    conversation = selectors.conversation_get(user=request.user, conversation_id=pk)
    if conversation is None:
        raise Http404
    return conversation


def access_case(request, pk: int) -> Case:
    case = selectors.case_get(user=request.user, case_id=pk)
    if case is None:
        raise Http404
    return case


def fragment(
    request, template: str, context: dict, *, status: int = 200, trigger: str = "", retarget: str = ""
) -> HttpResponse:
    response = render(request, template, context, status=status)
    if trigger:
        response["HX-Trigger"] = trigger
    if retarget:
        response["HX-Retarget"] = retarget
        response["HX-Reswap"] = "outerHTML"
    return response

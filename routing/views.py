"""The routing side of the agent workspace (htmx): presence, offers, pick, transfer, consult, call, end, wrap-up.

Every view is a thin interface onto ``routing.services``; object access goes
through selectors as the signed-in user (someone else's offer or conversation
is a 404, a conversation the agent may see but does not handle a 403). The
crm workspace templates include this app's partials by name.
"""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from contactcenter.exceptions import DomainError
from contactcenter.permissions import is_supervisor, staff_required
from crm.forms import WrapUpForm
from crm.models import Conversation, WrapUpPolicy
from crm.views.common import UNPROCESSABLE, access_conversation, fragment
from crm.views.workspace import WORKLIST_REFRESH, session_response
from routing import selectors, services
from routing.choices import WorkItemStatus
from routing.exceptions import RejectNotAllowed
from routing.forms import CallForm, ConsultForm, ConsultReplyForm, DeclineForm, PresenceForm, TransferForm
from routing.models import WorkItem

PICK_LIMIT = 20


def _open_session(response: HttpResponse, conversation: Conversation) -> HttpResponse:
    """Tell the workspace to open the conversation as a tab and refresh My work (see workspace.js)."""
    response["HX-Trigger"] = json.dumps({
        "session-open": {"id": conversation.pk, "label": str(conversation.contact)},
        WORKLIST_REFRESH: True, "agent-bar-refresh": True, "queue-work-refresh": True,
    })
    return response


def access_handled_conversation(request, pk: int) -> Conversation:
    """A conversation the user handles (assigned to them) or supervises; 404 if invisible, 403 otherwise."""
    conversation = access_conversation(request, pk)
    if conversation.assigned_agent_id != request.user.pk and not is_supervisor(request.user):
        raise PermissionDenied
    return conversation


def access_call_conversation(request, pk: int) -> Conversation:
    """A conversation the user handles; 404 if invisible, 403 for anyone else (the call is the handling agent's)."""
    conversation = access_conversation(request, pk)
    if conversation.assigned_agent_id != request.user.pk:
        raise PermissionDenied
    return conversation


# --- Top bar: presence, load vs capacity ---------------------------------------

def agent_bar_context(user) -> dict:
    return selectors.agent_status_for(user=user)


@staff_required
@require_GET
def agent_bar(request):
    return render(request, "routing/partials/_agent_bar.html", agent_bar_context(request.user))


@staff_required
@require_POST
def presence_change(request):
    form = PresenceForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.presence_set(agent=request.user, presence=form.cleaned_data["presence"])
        except DomainError as exc:
            error = exc.message
    else:
        error = _("Choose one of the listed presences.")
    context = agent_bar_context(request.user) | {"error": error}
    response = render(request, "routing/partials/_agent_bar.html", context, status=UNPROCESSABLE if error else 200)
    response["HX-Trigger"] = "queue-work-refresh"
    return response


# --- Offers ---------------------------------------------------------------------

def _offer(request, pk: int) -> WorkItem:
    item = selectors.offer_pending_get(user=request.user, workitem_id=pk)
    if item is None:
        raise Http404
    return item


@staff_required
@require_GET
def offer_list(request):
    return render(request, "routing/partials/_offers.html", {"offers": selectors.offers_pending_for(user=request.user)})


@staff_required
@require_POST
def offer_accept(request, pk: int):
    item = _offer(request, pk)
    try:
        services.offer_accept(workitem=item, agent=request.user)
    except DomainError as error:
        return fragment(request, "routing/partials/_offer_gone.html", {"item": item, "error": error.message},
                        status=UNPROCESSABLE)
    return _open_session(HttpResponse(""), item.conversation)


@staff_required
@require_POST
def offer_decline(request, pk: int):
    item = _offer(request, pk)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        return fragment(request, "routing/partials/_offer.html",
                        {"item": item, "decline_form": form, "decline_open": True}, status=UNPROCESSABLE)
    try:
        services.offer_decline(workitem=item, agent=request.user, reason=form.reason_text())
    except RejectNotAllowed as error:
        return fragment(request, "routing/partials/_offer.html",
                        {"item": item, "decline_form": DeclineForm(), "offer_error": error.message},
                        status=UNPROCESSABLE)
    except DomainError as error:
        return fragment(request, "routing/partials/_offer_gone.html", {"item": item, "error": error.message},
                        status=UNPROCESSABLE)
    response = HttpResponse("")
    response["HX-Trigger"] = "agent-bar-refresh"
    return response


# --- Open work items in my queues (pick mode) -------------------------------------

def _queue_work_context(user) -> dict:
    return {"pickable": list(selectors.workitems_pickable(user=user)[:PICK_LIMIT])}


@staff_required
@require_GET
def queue_work(request):
    return render(request, "routing/partials/_queue_work.html", _queue_work_context(request.user))


@staff_required
@require_POST
def workitem_pick(request, pk: int):
    item = selectors.workitems_pickable(user=request.user).filter(pk=pk).first()
    if item is None:
        raise Http404
    try:
        services.workitem_pick(workitem=item, agent=request.user)
    except DomainError as error:
        context = _queue_work_context(request.user) | {"error": error.message}
        return render(request, "routing/partials/_queue_work.html", context, status=UNPROCESSABLE)
    response = render(request, "routing/partials/_queue_work.html", _queue_work_context(request.user))
    return _open_session(response, item.conversation)


# --- Session actions: transfer, consult, end, wrap-up ------------------------------

def session_actions_context(user, conversation: Conversation, **extra) -> dict:
    targets = selectors.transfer_targets_for(user=user, conversation=conversation)
    item = targets["workitem"]
    call_holder = item is not None and item.status == WorkItemStatus.ASSIGNED and item.agent_id == user.pk
    return {
        "conversation": conversation,
        "call_holder": call_holder,
        "can_call": call_holder and services.call_possible(item),
        "transfer_form": extra.pop("transfer_form", None)
        or TransferForm(queues=targets["queues"], agents=targets["agents"]),
        "consult_form": extra.pop("consult_form", None) or ConsultForm(agents=targets["agents"]),
        **targets, **extra,
    }


def _actions_error(request, conversation: Conversation, **extra):
    context = session_actions_context(request.user, conversation, **extra)
    return fragment(request, "routing/partials/_session_actions.html", context, status=UNPROCESSABLE,
                    retarget=f"#routing-actions-{conversation.pk}")


@staff_required
@require_POST
def conversation_transfer(request, pk: int):
    conversation = access_handled_conversation(request, pk)
    targets = selectors.transfer_targets_for(user=request.user, conversation=conversation)
    form = TransferForm(request.POST, queues=targets["queues"], agents=targets["agents"])
    if not form.is_valid():
        return _actions_error(request, conversation, transfer_form=form, transfer_open=True)
    try:
        services.conversation_transfer(
            conversation=conversation, actor=request.user, to_queue=form.cleaned_data["queue"],
            to_agent=form.cleaned_data["agent"], note=form.cleaned_data["note"],
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return _actions_error(request, conversation, transfer_form=form, transfer_open=True)
    target = form.cleaned_data["agent"] or form.cleaned_data["queue"]
    response = render(request, "routing/partials/_transferred.html", {"conversation": conversation, "target": target})
    response["HX-Trigger"] = json.dumps({WORKLIST_REFRESH: True, "agent-bar-refresh": True})
    return response


@staff_required
@require_POST
def conversation_consult(request, pk: int):
    conversation = access_handled_conversation(request, pk)
    targets = selectors.transfer_targets_for(user=request.user, conversation=conversation)
    form = ConsultForm(request.POST, agents=targets["agents"])
    if not form.is_valid():
        return _actions_error(request, conversation, consult_form=form, consult_open=True)
    try:
        services.conversation_consult(
            conversation=conversation, actor=request.user, consultant=form.cleaned_data["agent"],
            note=form.cleaned_data["note"],
        )
    except DomainError as error:
        form.add_error(None, error.message)
        return _actions_error(request, conversation, consult_form=form, consult_open=True)
    context = session_actions_context(
        request.user, conversation, consult_sent=form.cleaned_data["agent"]
    )
    return render(request, "routing/partials/_session_actions.html", context)


def _call_changed(request, conversation: Conversation) -> HttpResponse:
    response = render(request, "routing/partials/_session_actions.html",
                      session_actions_context(request.user, conversation))
    response["HX-Trigger"] = json.dumps({"agent-bar-refresh": True})
    return response


@staff_required
@require_POST
def conversation_call_start(request, pk: int):
    """Escalate the chat to a voice or video call (D.48); only its handling agent may."""
    conversation = access_call_conversation(request, pk)
    form = CallForm(request.POST)
    if not form.is_valid():
        return _actions_error(request, conversation, call_error=_("Choose a voice or a video call."))
    try:
        services.conversation_call_start(conversation=conversation, actor=request.user, mode=form.cleaned_data["mode"])
    except DomainError as error:
        return _actions_error(request, conversation, call_error=error.message)
    return _call_changed(request, conversation)


@staff_required
@require_POST
def conversation_call_end(request, pk: int):
    conversation = access_call_conversation(request, pk)
    try:
        services.conversation_call_end(conversation=conversation, actor=request.user)
    except DomainError as error:
        return _actions_error(request, conversation, call_error=error.message)
    return _call_changed(request, conversation)


@staff_required
@require_POST
def consult_reply(request, pk: int):
    """The consultant's answer in the side chat (an internal note); they need not see the conversation."""
    participant = selectors.consult_get(user=request.user, conversation_id=pk)
    if participant is None:
        raise Http404
    form = ConsultReplyForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.consult_reply(participant=participant, body=form.cleaned_data["body"])
        except DomainError as exc:
            error = exc.message
    else:
        error = _("Write an answer first (at most 5,000 characters).")
    context = {"consult": participant, "error": error, "sent": not error}
    return render(request, "routing/partials/_consult.html", context, status=UNPROCESSABLE if error else 200)


@staff_required
@require_POST
def consult_leave(request, pk: int):
    """The consultant leaves the side chat (E.69); the dialog goes away."""
    participant = selectors.consult_get(user=request.user, conversation_id=pk)
    if participant is None:
        raise Http404
    services.consult_leave(participant=participant)
    return HttpResponse("")


@staff_required
@require_POST
def conversation_end(request, pk: int):
    conversation = access_handled_conversation(request, pk)
    try:
        services.conversation_end(conversation=conversation, actor=request.user)
    except DomainError as error:
        return session_response(request, conversation, status=UNPROCESSABLE, action_error=error.message)
    response = session_response(request, conversation)
    response["HX-Trigger"] = json.dumps({WORKLIST_REFRESH: True, "agent-bar-refresh": True})
    return response


@staff_required
@require_POST
def conversation_wrap_up(request, pk: int):
    conversation = access_handled_conversation(request, pk)
    form = WrapUpForm(request.POST, auto_id=f"w{conversation.pk}_%s")
    if form.is_valid():
        try:
            services.conversation_wrap_up(
                conversation=conversation, actor=request.user,
                disposition_codes=list(form.cleaned_data["codes"]), notes=form.cleaned_data["notes"],
            )
        except DomainError as error:
            form.add_error(None, error.message)
    if form.errors:
        return fragment(
            request, "crm/partials/_wrap_up.html",
            {"conversation": conversation, "wrap_up_form": form, "policy": WrapUpPolicy.current(), "open": True},
            status=UNPROCESSABLE, retarget=f"#wrapup-{conversation.pk}",
        )
    response = session_response(request, conversation)
    response["HX-Trigger"] = json.dumps({WORKLIST_REFRESH: True, "agent-bar-refresh": True})
    return response

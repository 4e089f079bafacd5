"""The agent workspace: My work, conversation sessions as tabs, composer, wrap-up, customer 360."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from contactcenter.exceptions import DomainError
from contactcenter.permissions import is_supervisor, staff_required
from crm import selectors, services
from crm.choices import SenderKind
from crm.forms import CaseFromConversationForm, CaseLinkForm, CaseNoteForm, ComposerForm, WrapUpForm
from crm.models import Conversation, WrapUpPolicy
from crm.views.common import UNPROCESSABLE, access_conversation, fragment

WORKLIST_REFRESH = "worklist-refresh"
MAX_SESSIONS = 10


def _workspace_context(request, *, session: Conversation | None = None) -> dict:
    context = {
        "worklist": selectors.worklist_for(request.user),
        "my_cases": selectors.my_open_cases(request.user),
        "recently_closed": selectors.recently_closed_for(request.user),
        "last_id": selectors.latest_message_id(request.user),
        "max_sessions": MAX_SESSIONS,
    }
    if session is not None:
        context["session"] = session
        context.update(_session_context(request, session))
    return context


def _session_context(request, conversation: Conversation) -> dict:
    cases = selectors.open_cases_for_contact(user=request.user, contact=conversation.contact)
    return {
        "conversation": conversation,
        "transcript": selectors.transcript_for(user=request.user, conversation=conversation),
        "contact": conversation.contact,
        "identities": list(conversation.contact.identities.all()),
        "recent_cases": selectors.recent_cases_for_contact(user=request.user, contact=conversation.contact),
        "timeline": selectors.timeline_for(user=request.user, contact=conversation.contact, limit=20),
        "wrap_up_form": WrapUpForm(auto_id=f"w{conversation.pk}_%s"),
        "policy": WrapUpPolicy.current(),
        "case_form": CaseFromConversationForm(),
        "link_form": CaseLinkForm(cases=cases) if cases and not conversation.case_id else None,
        "composer_form": ComposerForm(),
    }


@staff_required
@require_GET
def home(request):
    """The workspace with only the home session open (sessions the browser had open reopen as tabs)."""
    return render(request, "crm/workspace.html", _workspace_context(request))


@staff_required
@require_GET
def worklist(request):
    return render(request, "crm/partials/_worklist.html", _workspace_context(request))


@staff_required
@require_GET
def conversation_session(request, pk: int):
    """One session: the tab's content for htmx, or the whole workspace with this session open."""
    conversation = access_conversation(request, pk)
    services.conversation_mark_read(conversation=conversation, user=request.user)
    if request.htmx:
        return render(request, "crm/partials/_session.html", _session_context(request, conversation))
    return render(request, "crm/workspace.html", _workspace_context(request, session=conversation))


@staff_required
@require_POST
def conversation_read(request, pk: int):
    conversation = access_conversation(request, pk)
    services.conversation_mark_read(conversation=conversation, user=request.user)
    return HttpResponse(status=204)


@staff_required
@require_POST
def conversation_message(request, pk: int):
    """Send a reply or add an internal note; answers with the same fragment the socket pushes."""
    conversation = access_conversation(request, pk)
    form = ComposerForm(request.POST)
    if not form.is_valid():
        return _composer_error(request, conversation, _("Write a message first (at most 10,000 characters)."))
    body, sender_kind = form.cleaned_data["body"], _sender_kind(request.user, conversation)
    try:
        if form.cleaned_data["internal"]:
            message = services.note_add(
                conversation=conversation, author=request.user, body=body, sender_kind=sender_kind
            )
        else:
            message = services.message_send(
                conversation=conversation, sender=request.user, body=body, sender_kind=sender_kind
            )
    except DomainError as error:
        return _composer_error(request, conversation, error.message)
    services.conversation_mark_read(conversation=conversation, user=request.user)
    return render(request, "crm/partials/_message_oob.html", {"message": message})


def _sender_kind(user, conversation: Conversation) -> str:
    """A supervisor writing in a colleague's conversation shows as a supervisor."""
    if conversation.assigned_agent_id != user.pk and is_supervisor(user):
        return SenderKind.SUPERVISOR
    return SenderKind.AGENT


def _composer_error(request, conversation: Conversation, text: str):
    return fragment(
        request,
        "crm/partials/_composer_error.html",
        {"conversation": conversation, "error": text},
        status=UNPROCESSABLE,
        retarget=f"#composer-error-{conversation.pk}",
    )


@staff_required
@require_GET
def quick_replies(request, pk: int):
    """Quick replies matching ``q`` (words, ``#tag``), with placeholders filled for this conversation."""
    conversation = access_conversation(request, pk)
    query = request.GET.get("q", "")[:100]
    values = selectors.quick_reply_values(conversation=conversation, agent=request.user)
    replies = [
        {"response": response, "text": response.render(values)}
        for response in selectors.canned_responses_for(user=request.user, query=query)
    ]
    return render(request, "crm/partials/_quick_replies.html", {"conversation": conversation, "replies": replies})


def session_response(request, conversation: Conversation, *, status: int = 200, **extra):
    """The session fragment after an action (also used by routing's session actions), with My work refreshed."""
    conversation = access_conversation(request, conversation.pk)
    context = _session_context(request, conversation) | extra
    return fragment(request, "crm/partials/_session.html", context, status=status, trigger=WORKLIST_REFRESH)


def _case_box(request, conversation: Conversation, *, status: int = 200, error: str = ""):
    conversation = access_conversation(request, conversation.pk)
    cases = selectors.open_cases_for_contact(user=request.user, contact=conversation.contact)
    return fragment(
        request,
        "crm/partials/_conversation_case.html",
        {
            "conversation": conversation,
            "case_form": CaseFromConversationForm(),
            "link_form": CaseLinkForm(cases=cases) if cases and not conversation.case_id else None,
            "case_error": error,
        },
        status=status,
    )


@staff_required
@require_POST
def conversation_case_create(request, pk: int):
    conversation = access_conversation(request, pk)
    form = CaseFromConversationForm(request.POST)
    if not form.is_valid():
        return _case_box(request, conversation, status=UNPROCESSABLE, error=_("Check the subject and priority."))
    try:
        services.case_open_from_conversation(
            conversation=conversation,
            actor=request.user,
            subject=form.cleaned_data["subject"],
            priority=form.cleaned_data["priority"],
        )
    except DomainError as error:
        return _case_box(request, conversation, status=UNPROCESSABLE, error=error.message)
    return _case_box(request, conversation)


@staff_required
@require_POST
def conversation_case_link(request, pk: int):
    conversation = access_conversation(request, pk)
    cases = selectors.open_cases_for_contact(user=request.user, contact=conversation.contact)
    form = CaseLinkForm(request.POST, cases=cases)
    if not form.is_valid():
        return _case_box(
            request, conversation, status=UNPROCESSABLE, error=_("Choose one of the customer's open cases.")
        )
    try:
        services.case_link_conversation(conversation=conversation, case=form.cleaned_data["case"], actor=request.user)
    except DomainError as error:
        return _case_box(request, conversation, status=UNPROCESSABLE, error=error.message)
    return _case_box(request, conversation)


@staff_required
@require_GET
def customer_search(request, pk: int):
    conversation = access_conversation(request, pk)
    query = request.GET.get("q", "")[:100]
    contacts = [c for c in selectors.contacts_search(user=request.user, query=query) if c.pk != conversation.contact_id]
    return render(
        request, "crm/partials/_customer_search.html", {"conversation": conversation, "contacts": contacts, "q": query}
    )


@staff_required
@require_POST
def customer_link(request, pk: int):
    conversation = access_conversation(request, pk)
    contact = selectors.contacts_visible_to(request.user).filter(pk=request.POST.get("contact") or 0).first()
    if contact is None:
        raise Http404
    try:
        services.conversation_contact_link(conversation=conversation, contact=contact, actor=request.user)
    except DomainError as error:
        return session_response(request, conversation, status=UNPROCESSABLE, action_error=error.message)
    return session_response(request, conversation)


@staff_required
@require_POST
def timeline_note(request, pk: int):
    conversation = access_conversation(request, pk)
    form = CaseNoteForm(request.POST)
    if form.is_valid():
        services.contact_note_add(contact=conversation.contact, author=request.user, body=form.cleaned_data["body"])
    context = {
        "conversation": conversation,
        "timeline": selectors.timeline_for(user=request.user, contact=conversation.contact, limit=20),
        "note_error": "" if form.is_valid() else _("Write a note first (at most 5,000 characters)."),
    }
    return fragment(request, "crm/partials/_timeline.html", context, status=200 if form.is_valid() else UNPROCESSABLE)

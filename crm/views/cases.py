"""Case list (views, filters, bulk actions) and case page (SLA, notes, activities, resolve, merge, swarm)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from contactcenter.exceptions import DomainError
from contactcenter.permissions import staff_required
from crm import selectors, services
from crm.choices import ActivityStatus, CasePriority, CaseStatus, CaseView
from crm.forms import (
    ActivityForm,
    BulkAction,
    CaseBulkForm,
    CaseEditForm,
    CaseFilterForm,
    CaseNoteForm,
    DiscussionPostForm,
    MergeForm,
    ResolveForm,
    SavedViewForm,
    SwarmForm,
)
from crm.models import Case
from crm.views.common import UNPROCESSABLE, access_case, fragment

CASES_PER_PAGE = 25
BULK_PRIORITY = {
    BulkAction.PRIORITY_HIGH: CasePriority.HIGH,
    BulkAction.PRIORITY_NORMAL: CasePriority.NORMAL,
    BulkAction.PRIORITY_LOW: CasePriority.LOW,
}


def _filters(request) -> dict[str, str]:
    filters = CaseFilterForm(request.GET).filters()
    filters["view"] = filters["view"] or CaseView.MINE
    return filters


@staff_required
@require_GET
def case_list(request):
    filters = _filters(request)
    cases = selectors.case_list(
        user=request.user,
        view=filters["view"],
        status=filters["status"],
        priority=filters["priority"],
        query=filters["q"],
    )
    page = Paginator(cases, CASES_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "filter_form": CaseFilterForm(initial=filters),
        "views": CaseView.choices,
        "saved_views": selectors.saved_views_for(user=request.user),
        "bulk_actions": BulkAction.choices,
        "query_string": urlencode({k: v for k, v in filters.items() if v}),
        "save_form": SavedViewForm(),
    }
    template = "crm/partials/_case_table.html" if request.htmx and not request.htmx.boosted else "crm/case_list.html"
    return render(request, template, context)


@staff_required
@require_POST
def case_bulk(request):
    visible = selectors.cases_visible_to(request.user).exclude(status__in=CaseStatus.closed())
    form = CaseBulkForm(request.POST, visible=visible)
    back = reverse("crm:case-list") + "?" + request.POST.get("return_query", "")
    if not form.is_valid():
        messages.error(request, _("Select cases and an action."))
        return redirect(back)
    action, changed, refused = form.cleaned_data["action"], 0, 0
    for case in form.cleaned_data["cases"]:
        try:
            if action == BulkAction.ASSIGN_TO_ME:
                services.case_update(case=case, actor=request.user, owner=request.user)
            elif action == BulkAction.HOLD:
                services.case_hold(case=case, actor=request.user)
            else:
                services.case_update(case=case, actor=request.user, priority=BULK_PRIORITY[action])
            changed += 1
        except DomainError:
            refused += 1
    messages.success(
        request, _("%(changed)d cases updated, %(refused)d refused.") % {"changed": changed, "refused": refused}
    )
    return redirect(back)


@staff_required
@require_POST
def case_view_save(request):
    form = SavedViewForm(request.POST)
    filters = CaseFilterForm(request.POST).filters()
    if form.is_valid():
        services.saved_view_save(owner=request.user, name=form.cleaned_data["name"], filters=filters)
        messages.success(request, _("View saved."))
    else:
        messages.error(request, _("Give the view a name (at most 60 characters)."))
    return redirect(reverse("crm:case-list") + "?" + urlencode({k: v for k, v in filters.items() if v}))


def _case_context(request, case: Case, **forms) -> dict:
    staff = selectors.staff_directory(user=request.user)
    owners = selectors.staff_directory(user=request.user, include_self=True)
    return {
        "case": case,
        "conversations": list(
            selectors.conversations_visible_to(request.user).filter(case=case).order_by("-created_at")
        ),
        "linked_conversation_count": case.conversations.count(),
        "activities": list(case.activities.select_related("owner").order_by("status", "due_at", "id")),
        "notes": selectors.case_notes(case=case),
        "history": selectors.case_history(case=case),
        "discussion": selectors.case_discussion(case=case),
        "edit_form": forms.get("edit_form") or CaseEditForm(instance=case, staff=owners),
        "note_form": forms.get("note_form") or CaseNoteForm(),
        "activity_form": forms.get("activity_form") or ActivityForm(),
        "resolve_form": forms.get("resolve_form") or ResolveForm(),
        "merge_form": forms.get("merge_form") or MergeForm(),
        "swarm_form": forms.get("swarm_form") or SwarmForm(staff=staff),
        "post_form": forms.get("post_form") or DiscussionPostForm(),
        "is_closed": case.status in CaseStatus.closed(),
    }


@staff_required
@require_GET
def case_detail(request, pk: int):
    case = access_case(request, pk)
    return render(request, "crm/case_detail.html", _case_context(request, case))


def _section(request, case: Case, template: str, *, status: int = 200, **forms):
    case = access_case(request, case.pk)
    return fragment(request, template, _case_context(request, case, **forms), status=status)


@staff_required
@require_POST
def case_edit(request, pk: int):
    case = access_case(request, pk)
    form = CaseEditForm(
        request.POST,
        instance=access_case(request, pk),
        staff=selectors.staff_directory(user=request.user, include_self=True),
    )
    if form.is_valid():
        try:
            services.case_update(case=case, actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
    if form.errors:
        return _section(request, case, "crm/partials/_case_details.html", status=UNPROCESSABLE, edit_form=form)
    return _section(request, case, "crm/partials/_case_details.html")


@staff_required
@require_POST
def case_note(request, pk: int):
    case = access_case(request, pk)
    form = CaseNoteForm(request.POST)
    if not form.is_valid():
        return _section(request, case, "crm/partials/_case_notes.html", status=UNPROCESSABLE, note_form=form)
    try:
        services.case_note_add(case=case, author=request.user, body=form.cleaned_data["body"])
    except DomainError as error:
        form.add_error("body", error.message)
        return _section(request, case, "crm/partials/_case_notes.html", status=UNPROCESSABLE, note_form=form)
    return _section(request, case, "crm/partials/_case_notes.html")


@staff_required
@require_POST
def case_activity(request, pk: int):
    case = access_case(request, pk)
    form = ActivityForm(request.POST)
    if not form.is_valid():
        return _section(request, case, "crm/partials/_case_activities.html", status=UNPROCESSABLE, activity_form=form)
    services.activity_create(
        actor=request.user,
        case=case,
        kind=form.cleaned_data["kind"],
        subject=form.cleaned_data["subject"],
        due_at=form.cleaned_data["due_at"],
    )
    return _section(request, case, "crm/partials/_case_activities.html")


@staff_required
@require_POST
def case_activity_complete(request, pk: int, activity_pk: int):
    case = access_case(request, pk)
    activity = case.activities.filter(pk=activity_pk, status=ActivityStatus.OPEN).first()
    if activity is None:
        raise Http404
    services.activity_update(activity=activity, actor=request.user, status=ActivityStatus.COMPLETED)
    return _section(request, case, "crm/partials/_case_activities.html")


def _lifecycle(request, action) -> None:
    """Run a lifecycle service; a refusal becomes a message on the case page it redirects to."""
    try:
        action()
    except DomainError as error:
        messages.error(request, error.message)


@staff_required
@require_POST
def case_resolve(request, pk: int):
    case = access_case(request, pk)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        return render(
            request, "crm/case_detail.html", _case_context(request, case, resolve_form=form), status=UNPROCESSABLE
        )
    _lifecycle(
        request,
        lambda: services.case_resolve(case=case, actor=request.user, resolution=form.cleaned_data["resolution"]),
    )
    return redirect("crm:case-detail", pk=case.pk)


@staff_required
@require_POST
def case_hold(request, pk: int):
    case = access_case(request, pk)
    _lifecycle(request, lambda: services.case_hold(case=case, actor=request.user))
    return redirect("crm:case-detail", pk=case.pk)


@staff_required
@require_POST
def case_resume(request, pk: int):
    case = access_case(request, pk)
    _lifecycle(request, lambda: services.case_resume(case=case, actor=request.user))
    return redirect("crm:case-detail", pk=case.pk)


@staff_required
@require_POST
def case_merge(request, pk: int):
    case = access_case(request, pk)
    form = MergeForm(request.POST)
    target = (
        selectors.case_by_number(user=request.user, number=form.data.get("target", "")) if form.is_valid() else None
    )
    if target is None:
        form.add_error("target", _("No case with that number that you can see."))
        return render(
            request, "crm/case_detail.html", _case_context(request, case, merge_form=form), status=UNPROCESSABLE
        )
    try:
        services.case_merge(source=case, target=target, actor=request.user)
    except DomainError as error:
        form.add_error("target", error.message)
        return render(
            request, "crm/case_detail.html", _case_context(request, case, merge_form=form), status=UNPROCESSABLE
        )
    messages.success(
        request, _("%(source)s merged into %(target)s.") % {"source": case.number, "target": target.number}
    )
    return redirect("crm:case-detail", pk=target.pk)


@staff_required
@require_POST
def case_swarm(request, pk: int):
    case = access_case(request, pk)
    form = SwarmForm(request.POST, staff=selectors.staff_directory(user=request.user))
    if not form.is_valid():
        return _section(request, case, "crm/partials/_case_discussion.html", status=UNPROCESSABLE, swarm_form=form)
    services.swarm_invite(
        case=case, actor=request.user, invitees=list(form.cleaned_data["invitees"]), note=form.cleaned_data["note"]
    )
    return _section(request, case, "crm/partials/_case_discussion.html")


@staff_required
@require_POST
def case_discussion_post(request, pk: int):
    case = access_case(request, pk)
    form = DiscussionPostForm(request.POST)
    if not form.is_valid():
        return _section(request, case, "crm/partials/_case_discussion.html", status=UNPROCESSABLE, post_form=form)
    services.discussion_post(case=case, author=request.user, body=form.cleaned_data["body"])
    return _section(request, case, "crm/partials/_case_discussion.html")

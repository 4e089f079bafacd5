"""An agent's personal quick replies (shared ones are managed in the admin)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from crm import services
from crm.forms import CannedResponseForm
from crm.models import CannedResponse
from contactcenter.permissions import staff_required
from crm.views.common import UNPROCESSABLE


def _own(request, pk: int) -> CannedResponse:
    response = CannedResponse.objects.filter(pk=pk, owner=request.user).first()
    if response is None:
        raise Http404
    return response


def _page(request, form: CannedResponseForm, *, editing: CannedResponse | None = None, status: int = 200):
    context = {
        "form": form,
        "editing": editing,
        "personal": CannedResponse.objects.filter(owner=request.user).order_by("slug"),
        "shared": CannedResponse.objects.filter(owner__isnull=True, is_active=True).order_by("slug"),
    }
    return render(request, "crm/quick_replies.html", context, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def quick_reply_list(request):
    """Your quick replies and the shared ones; POST adds a personal one."""
    if request.method == "GET":
        return _page(request, CannedResponseForm(owner=request.user))
    form = CannedResponseForm(request.POST, owner=request.user)
    if not form.is_valid():
        return _page(request, form, status=UNPROCESSABLE)
    services.canned_response_save(owner=request.user, **form.cleaned_data)
    messages.success(request, _("Quick reply saved."))
    return redirect("crm:quick-reply-list")


@staff_required
@require_http_methods(["GET", "POST"])
def quick_reply_edit(request, pk: int):
    response = _own(request, pk)
    if request.method == "GET":
        return _page(request, CannedResponseForm(instance=response, owner=request.user), editing=response)
    form = CannedResponseForm(request.POST, instance=_own(request, pk), owner=request.user)
    if not form.is_valid():
        return _page(request, form, editing=response, status=UNPROCESSABLE)
    services.canned_response_save(owner=request.user, response=response, **form.cleaned_data)
    messages.success(request, _("Quick reply saved."))
    return redirect("crm:quick-reply-list")


@staff_required
@require_POST
def quick_reply_delete(request, pk: int):
    services.canned_response_delete(response=_own(request, pk), actor=request.user)
    messages.success(request, _("Quick reply deleted."))
    return redirect("crm:quick-reply-list")

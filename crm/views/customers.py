"""Customer 360 cards, inline editable with htmx: contact and account."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.views.decorators.http import require_http_methods

from crm import selectors, services
from crm.forms import AccountForm, ContactForm
from contactcenter.permissions import staff_required
from crm.views.common import UNPROCESSABLE, fragment


def _contact(request, pk: int):
    contact = selectors.contacts_visible_to(request.user).filter(pk=pk).first()
    if contact is None:
        raise Http404
    return contact


def _account(request, pk: int):
    account = selectors.accounts_visible_to(request.user).filter(pk=pk).first()
    if account is None:
        raise Http404
    return account


@staff_required
@require_http_methods(["GET", "POST"])
def contact_card(request, pk: int):
    """GET shows the card (``?edit=1`` the form); POST saves the form and shows the card."""
    contact = _contact(request, pk)
    if request.method == "GET":
        form = ContactForm(instance=contact) if request.GET.get("edit") else None
        return fragment(request, "crm/partials/_contact_card.html", {"contact": contact, "form": form})
    form = ContactForm(request.POST, instance=_contact(request, pk))
    if form.is_valid():
        try:
            contact = services.contact_update(contact=contact, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
    if form.errors:
        contact.refresh_from_db()
        return fragment(
            request, "crm/partials/_contact_card.html", {"contact": contact, "form": form}, status=UNPROCESSABLE
        )
    return fragment(request, "crm/partials/_contact_card.html", {"contact": contact, "form": None})


@staff_required
@require_http_methods(["GET", "POST"])
def account_card(request, pk: int):
    account = _account(request, pk)
    if request.method == "GET":
        form = AccountForm(instance=account) if request.GET.get("edit") else None
        return fragment(request, "crm/partials/_account_card.html", {"account": account, "form": form})
    form = AccountForm(request.POST, instance=_account(request, pk))
    if form.is_valid():
        try:
            account = services.account_update(account=account, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
    if form.errors:
        account.refresh_from_db()
        return fragment(
            request, "crm/partials/_account_card.html", {"account": account, "form": form}, status=UNPROCESSABLE
        )
    return fragment(request, "crm/partials/_account_card.html", {"account": account, "form": None})

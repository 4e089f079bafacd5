"""The notification bell: list and mark read."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from contactcenter.permissions import staff_required
from crm import selectors, services


@staff_required
@require_GET
def notification_list(request):
    return render(
        request,
        "crm/partials/_notification_list.html",
        {
            "notifications": selectors.notifications_for(user=request.user),
        },
    )


@staff_required
@require_POST
def notifications_read(request):
    services.notifications_mark_read(user=request.user)
    return render(request, "crm/partials/_notification_bell.html", {"unread_notifications": 0})

"""Small presentation helpers for the agent workspace templates."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from crm import selectors
from crm.choices import CaseStatus

register = template.Library()

CHANNEL_ICONS = {"webchat": "Chat", "sms": "SMS", "voice": "Call", "email": "Mail", "custom": "API"}
SLA_WARNING = timedelta(hours=1)


@register.simple_tag
def channel_icon(kind: str, label: str = "") -> str:
    return format_html(
        '<span class="channel-icon channel-{}" role="img" aria-label="{}" title="{}">{}</span>',
        kind,
        label or kind,
        label or kind,
        CHANNEL_ICONS.get(kind, kind),
    )


@register.filter
def short_duration(value: datetime | timedelta | None) -> str:
    """``3m``, ``2h 05m``, ``4d`` — since a moment, or the length of a timedelta."""
    if value is None:
        return "—"
    delta = value if isinstance(value, timedelta) else timezone.now() - value
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d"


def sla_state(*, due: datetime | None, done_at: datetime | None, on_hold_since: datetime | None, closed: bool) -> dict:
    """The state of one SLA timer: met, missed, paused, ok, warning or breached, with the time left."""
    if due is None:
        return {"state": "none", "label": _("No target")}
    if done_at is not None:
        met = done_at <= due
        return {"state": "met" if met else "missed", "label": _("Met") if met else _("Missed"), "due": due}
    if closed:
        return {"state": "none", "label": _("Closed"), "due": due}
    if on_hold_since is not None:
        return {"state": "paused", "label": _("Paused (on hold)"), "due": due}
    left = due - timezone.now()
    if left <= timedelta(0):
        return {"state": "breached", "label": _("Breached %(ago)s ago") % {"ago": short_duration(-left)}, "due": due}
    state = "warning" if left <= SLA_WARNING else "ok"
    return {"state": state, "label": _("%(left)s left") % {"left": short_duration(left)}, "due": due}


@register.simple_tag
def case_sla(case) -> dict:
    closed = case.status in CaseStatus.closed()
    return {
        "first_response": sla_state(
            due=case.first_response_by, done_at=case.first_responded_at, on_hold_since=case.on_hold_since, closed=closed
        ),
        "resolve": sla_state(
            due=case.resolve_by, done_at=case.resolved_at, on_hold_since=case.on_hold_since, closed=closed
        ),
    }


@register.filter
def case_status_class(status: str) -> str:
    return {
        CaseStatus.NEW: "badge-info",
        CaseStatus.IN_PROGRESS: "badge-info",
        CaseStatus.ON_HOLD: "badge-warning",
        CaseStatus.RESOLVED: "badge-success",
        CaseStatus.CANCELLED: "",
    }.get(status, "")


@register.filter
def items_of(value) -> list:
    """The ``(key, value)`` pairs of a dict, for context variables; nothing for anything else."""
    return list(value.items()) if isinstance(value, dict) else []


@register.inclusion_tag("crm/partials/_notification_bell.html", takes_context=True)
def notification_bell(context) -> dict:
    return {"unread_notifications": selectors.unread_notification_count(user=context["request"].user)}


@register.filter
def safe_url(value: str) -> str:
    """Only web and relative links leave the page; anything else (``javascript:``) becomes empty."""
    value = str(value or "").strip()
    return value if value.startswith(("https://", "http://", "/")) and not value.startswith("//") else ""

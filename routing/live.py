"""Routing's HTML fragments for the agent socket (``/ws/agent/?format=html``), registered with ``crm.live``.

Routing publishes ids only; each renderer re-reads as the connected user
through ``routing.selectors`` and answers "" when the event is not theirs, so
a supervisor (who also hears agent events) never gets another agent's offer
dialog. Loaded by ``RoutingConfig.ready``.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from crm.live import fragment_renderer
from routing import events, selectors
from routing.forms import DeclineForm


def _agent_bar(user) -> str:
    return render_to_string("routing/partials/_agent_bar.html", selectors.agent_status_for(user=user) | {"oob": True})


@fragment_renderer(events.AGENT_PRESENCE_CHANGED)
def presence_changed(*, user, event: dict) -> str:
    if event["data"].get("agent_id") != user.pk:
        return ""
    return _agent_bar(user)


@fragment_renderer(events.WORKITEM_OFFERED)
def offered(*, user, event: dict) -> str:
    item = selectors.offer_pending_get(user=user, workitem_id=event["data"]["workitem_id"])
    if item is None:
        return ""
    context = selectors.agent_status_for(user=user) | {
        "item": item, "decline_form": DeclineForm(), "oob": True,
        "announcement": _("New conversation offered: %(name)s") % {"name": item.conversation.contact},
    }
    return render_to_string("routing/partials/_offer_oob.html", context)


@fragment_renderer(events.WORKITEM_OFFER_ENDED)
def offer_ended(*, user, event: dict) -> str:
    if event["data"].get("agent_id") != user.pk:
        return ""
    context = selectors.agent_status_for(user=user) | {"workitem_id": int(event["data"]["workitem_id"]), "oob": True}
    return render_to_string("routing/partials/_offer_ended_oob.html", context)


@fragment_renderer(events.CONSULT_REQUESTED)
def consult_requested(*, user, event: dict) -> str:
    if event["data"].get("agent_id") != user.pk:
        return ""
    consult = selectors.consult_get(user=user, conversation_id=event["data"]["conversation_id"])
    if consult is None:
        return ""
    announcement = _("%(who)s asks you to consult") % {"who": consult.invited_by}
    return render_to_string("routing/partials/_consult_oob.html", {"consult": consult, "announcement": announcement})

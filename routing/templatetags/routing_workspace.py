"""Routing's pieces of the agent workspace, for the crm templates to include (crm never imports routing)."""

from django import template

from routing import selectors
from routing.views import PICK_LIMIT, agent_bar_context, session_actions_context

register = template.Library()


@register.inclusion_tag("routing/partials/_agent_bar.html", takes_context=True)
def agent_bar(context):
    request = context["request"]
    return agent_bar_context(request.user) | {"request": request}


@register.inclusion_tag("routing/partials/_offers.html", takes_context=True)
def offers(context):
    request = context["request"]
    return {
        "offers": selectors.offers_pending_for(user=request.user),
        "consults": selectors.consults_for(user=request.user),
        "request": request,
    }


@register.inclusion_tag("routing/partials/_queue_work.html", takes_context=True)
def queue_work(context):
    request = context["request"]
    return {"pickable": list(selectors.workitems_pickable(user=request.user)[:PICK_LIMIT]), "request": request}


@register.inclusion_tag("routing/partials/_session_actions.html", takes_context=True)
def session_actions(context, conversation):
    request = context["request"]
    return session_actions_context(request.user, conversation) | {"request": request}


@register.simple_tag
def decline_reasons():
    from routing.forms import DeclineForm

    return DeclineForm.REASONS

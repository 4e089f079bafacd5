"""The "test this rule" dry run: where a sample conversation would go, and why. Writes nothing."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from copilot.providers import sentiment_of_turns
from crm.models import Contact
from routing.models import WorkItem, WorkStream
from routing.services.classification import _Similarity, classify, preferred_agents_for, route_to_queue
from routing.services.effort import effort_predict
from routing.services.engine import workitem_explain


def routing_dry_run(
    *, channel_kind: str, text: str, context: dict[str, Any] | None = None, contact: Contact | None = None
) -> dict[str, Any]:
    """Classify, route and match a sample message as if it arrived now.

    Returns ``{"work_stream", "classification", "queue", "route", "overflow", "assignment"}``;
    ``assignment`` names the agent who would be offered the item and why others would not.
    """
    stream = WorkStream.objects.select_related("fallback_queue").filter(channel_kind=channel_kind).order_by("id").first()
    if stream is None:
        return {"work_stream": None, "error": "No work stream handles this channel."}
    stream.capacity_profile_ids = sorted(stream.capacity_profiles.values_list("pk", flat=True))
    effort = effort_predict(channel=channel_kind, queue_id=None, text=text)
    facts = {
        "channel": channel_kind, "subject": "", "text": text,
        "sentiment": int(sentiment_of_turns([text])), "effort_minutes": effort.minutes,
        "effort_confidence": effort.confidence, "context": context or {}, "contact": contact,
        "account": contact.account if contact else None, "case": None, "output": {}, "_similar": _Similarity(text),
    }
    classification = classify(stream=stream, facts=facts)
    choice = route_to_queue(stream=stream, facts=facts, key=int(timezone.now().timestamp()), classification=classification)
    now = timezone.now()
    sample = WorkItem(
        work_stream=stream, queue=choice.queue, priority=classification.priority,
        required_skills=classification.skills, skill_match=stream.skill_match, capacity_units=stream.capacity_units,
        capacity_profiles=sorted(set(stream.capacity_profile_ids) | set(classification.capacity_profiles)),
        order_at=now, queued_at=now, preferred_agents=preferred_agents_for(stream=stream, contact=contact),
    )
    return {
        "work_stream": stream.name,
        "classification": {"matched": classification.matched, "outputs": classification.outputs,
                           "skills": classification.skills, "sentiment": facts["sentiment"],
                           "effort_minutes": effort.minutes, "error": classification.error},
        "queue": choice.queue.name,
        "route": choice.trace,
        "overflow": ({"rule": choice.overflow.pk, "action": choice.overflow.action, "reason": choice.overflow_reason}
                     if choice.overflow else None),
        "assignment": workitem_explain(workitem=sample),
    }

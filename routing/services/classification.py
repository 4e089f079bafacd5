"""Classification, route-to-queue and overflow (A.3–A.9, E.55–E.62).

Everything here reads; the results (a ``Routing`` plan and its trace) are
written by ``conversation_enqueue``. External work (embeddings, sentiment)
happens here, before any lock is taken.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Avg, DurationField, ExpressionWrapper, F, Prefetch
from django.utils import timezone

from copilot.providers import embed, sentiment_of_turns
from crm.choices import MessageDirection, SenderKind
from crm.models import Conversation
from routing import conditions
from routing.choices import OverflowAction, OverflowCondition, OverflowStage, WorkItemStatus
from routing.hours import is_open, next_opening
from routing.models import ClassificationRuleset, OverflowRule, Queue, RouteRule, WorkItem, WorkStream
from routing.services.cache import cached
from routing.services.effort import effort_predict

TURNS = 6
DEFAULT_PRIORITY = 10
PREDICTED_WAIT_SAMPLE = 20
#: Per in-queue overflow pair, at most this many due items are collected in one sweep.
IN_QUEUE_ITEMS_PER_PAIR = 200


@dataclass
class Classification:
    outputs: dict[str, Any] = field(default_factory=dict)
    skills: list[dict[str, int]] = field(default_factory=list)
    capacity_profiles: list[int] = field(default_factory=list)
    matched: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""

    @property
    def priority(self) -> int:
        value = self.outputs.get("priority", DEFAULT_PRIORITY)
        return value if isinstance(value, int) else DEFAULT_PRIORITY


@dataclass
class QueueChoice:
    queue: Queue
    matched_rule: str | None
    trace: dict[str, Any]
    overflow: OverflowRule | None = None
    overflow_reason: str = ""
    route_rule: RouteRule | None = None


def work_stream_for(conversation: Conversation) -> WorkStream | None:
    """The work stream of a conversation's channel (the oldest one when several exist)."""

    def load():
        stream = (
            WorkStream.objects.select_related("fallback_queue")
            .filter(channel_kind=conversation.channel_kind)
            .order_by("id")
            .first()
        )
        if stream is not None:
            stream.capacity_profile_ids = sorted(stream.capacity_profiles.values_list("pk", flat=True))
        return stream

    return cached(("stream", conversation.channel_kind), load)


def preferred_agents_for(*, stream: WorkStream, contact) -> list[int]:
    """B.33: the contact's preferred agent ids (``attributes["preferred_agents"]``), in their order, when
    the work stream offers to preferred agents first; otherwise none."""
    preferred = (contact.attributes or {}).get("preferred_agents") if contact is not None else None
    if not stream.preferred_agents_first or not isinstance(preferred, list):
        return []
    return list(dict.fromkeys(p for p in preferred if isinstance(p, int) and not isinstance(p, bool)))


def conversation_facts(*, conversation: Conversation, context: dict | None = None, queue_id: int | None = None) -> dict:
    """What rules may look at: channel, records, pre-chat context, recent customer text, sentiment, effort."""
    turns = list(
        conversation.messages.filter(direction=MessageDirection.INBOUND, sender_kind=SenderKind.CUSTOMER)
        .order_by("-id")
        .values_list("body", flat=True)[:TURNS]
    )[::-1]
    text = "\n".join(turns)
    contact = conversation.contact
    effort = effort_predict(channel=conversation.channel_kind, queue_id=queue_id, text=text)
    return {
        "channel": conversation.channel_kind,
        "subject": conversation.subject,
        "text": text,
        "sentiment": int(sentiment_of_turns(turns)),
        "effort_minutes": effort.minutes,
        "effort_confidence": effort.confidence,
        "context": {**(conversation.context or {}), **(context or {})},
        "contact": contact,
        "account": contact.account if contact else None,
        "case": conversation.case,
        "output": {},
        "_similar": _Similarity(text),
    }


class _Similarity:
    """Cosine similarity of the customer's text to example phrases; embeds each text once."""

    def __init__(self, text: str):
        self.text = text
        self._cache: dict[str, list[float]] = {}

    def _vectors(self, texts: list[str]) -> list[list[float]]:
        missing = [t for t in texts if t not in self._cache]
        if missing:
            for text, vector in zip(missing, embed(missing), strict=True):
                self._cache[text] = vector
        return [self._cache[t] for t in texts]

    def __call__(self, spec: dict) -> bool:
        if not self.text.strip():
            return False
        examples = [str(e) for e in spec["examples"]]
        query, *vectors = self._vectors([self.text, *examples])
        best = max(sum(a * b for a, b in zip(query, v, strict=True)) for v in vectors)
        return best >= float(spec.get("threshold", 0.5))


def classify(*, stream: WorkStream, facts: dict) -> Classification:
    """Run the stream's rulesets in order; in each the first matching rule applies (A.3, A.6)."""
    result = Classification()
    similar = facts.get("_similar") or _Similarity(facts.get("text", ""))
    facts["output"] = result.outputs
    rulesets = cached(("rulesets", stream.pk), lambda: [
        (ruleset, list(ruleset.rules.all()))
        for ruleset in ClassificationRuleset.objects.filter(work_stream=stream, is_active=True).prefetch_related("rules")
    ])
    try:
        for ruleset, rules in rulesets:
            for rule in rules:
                if conditions.matches(rule.conditions, facts, similar=similar):
                    result.outputs.update(rule.outputs)
                    for skill in rule.skills:
                        result.skills = [s for s in result.skills if s["skill"] != skill["skill"]] + [dict(skill)]
                    if rule.capacity_profile_id and rule.capacity_profile_id not in result.capacity_profiles:
                        result.capacity_profiles.append(rule.capacity_profile_id)
                    result.matched.append({"ruleset": ruleset.name, "rule": rule.name, "outputs": rule.outputs})
                    break
    except Exception as exc:  # a broken rule must not lose the customer (A.8)
        result.error = f"{type(exc).__name__}: {exc}"
    return result


def _split_pick(split: list[dict], key: int) -> int:
    bucket = zlib.crc32(f"split:{key}".encode()) % 100
    total = 0
    for part in split:
        total += part["percent"]
        if bucket < total:
            return part["queue"]
    return split[-1]["queue"]


def queue_open_count(queue: Queue) -> int:
    return WorkItem.objects.filter(queue=queue, status__in=[WorkItemStatus.QUEUED, WorkItemStatus.OFFERED]).count()


def queue_predicted_wait_seconds(queue: Queue) -> float:
    """Average wait of the queue's latest assignments (0 without history)."""
    recent = (
        WorkItem.objects.filter(queue=queue, assigned_at__isnull=False)
        .order_by("-assigned_at")
        .values("pk")[:PREDICTED_WAIT_SAMPLE]
    )
    wait = WorkItem.objects.filter(pk__in=recent).aggregate(
        avg=Avg(ExpressionWrapper(F("assigned_at") - F("queued_at"), output_field=DurationField()))
    )["avg"]
    return wait.total_seconds() if wait else 0.0


def _pre_queue_order(pairs) -> list[OverflowRule]:
    """Pre-queue pairs in evaluation order: operating hours first (E.58), then their own order."""
    return sorted(pairs, key=lambda r: (r.condition != OverflowCondition.OUT_OF_HOURS, r.order, r.pk))


def overflow_pairs_owner(pair: OverflowRule) -> dict[str, int]:
    """Whose overflow pairs a pair belongs to, for the routing trace (A.14)."""
    return {"route_rule": pair.route_rule_id} if pair.route_rule_id else {"queue": pair.queue_id}


def overflow_pre_check(
    queue: Queue, *, route_rule: RouteRule | None = None, now=None
) -> tuple[OverflowRule | None, str]:
    """The pre-queue overflow rule that fires for ``queue`` now, and why; operating hours first (E.58).

    ``route_rule`` (the rule that routed the item to ``queue``) replaces the
    queue's pre-queue pairs with its own when it has some (E.59).
    """
    now = now or timezone.now()
    rules = getattr(route_rule, "pre_queue_pairs", None) or cached(
        ("pre_queue_overflow", queue.pk),
        lambda: _pre_queue_order(
            OverflowRule.objects.filter(queue=queue, stage=OverflowStage.PRE_QUEUE).select_related("target_queue")
        ),
    )
    for rule in rules:
        if rule.condition == OverflowCondition.OUT_OF_HOURS:
            if not is_open(queue.operating_hours, now):
                return rule, "queue is outside its operating hours"
        elif rule.condition == OverflowCondition.ITEM_LIMIT:
            count = queue_open_count(queue)
            if count >= (rule.threshold or 0):
                return rule, f"{count} open items ≥ limit {rule.threshold}"
        elif rule.condition == OverflowCondition.PREDICTED_WAIT:
            wait = queue_predicted_wait_seconds(queue)
            if wait > (rule.threshold or 0):
                return rule, f"predicted wait {wait:.0f} s > {rule.threshold} s"
    return None, ""


def _route_rules(stream: WorkStream) -> list[RouteRule]:
    """The stream's route rules, each with its own pre-queue pairs (``pre_queue_pairs``), cached together."""

    def load():
        rules = list(
            RouteRule.objects.filter(work_stream=stream).select_related("queue").prefetch_related(Prefetch(
                "overflow_rules",
                queryset=OverflowRule.objects.filter(stage=OverflowStage.PRE_QUEUE).select_related("target_queue"),
            ))
        )
        for rule in rules:
            rule.pre_queue_pairs = _pre_queue_order(rule.overflow_rules.all())
        return rules

    return cached(("route_rules", stream.pk), load)


def route_to_queue(*, stream: WorkStream, facts: dict, key: int, classification: Classification) -> QueueChoice:
    """The first matching route rule whose queue isn't overflowing (A.7), else the fallback queue (A.8).

    Each matched queue is checked with the pre-queue pairs of the rule that
    matched it when that rule has its own (E.59), else with the queue's.
    When every matched queue overflows, the item goes to the first one open now,
    else to the one that opens earliest, and that queue's overflow action fires
    (A.7); the trace says which and why.
    """
    fallback = stream.fallback_queue
    if classification.error:
        return QueueChoice(fallback, None, {"fallback": "classification failed", "error": classification.error})
    matched: list[tuple[str, Queue, RouteRule | None]] = []
    hint = classification.outputs.get("queue")
    try:
        if hint:
            queue = Queue.objects.filter(pk=hint, kind=stream.kind, is_active=True).first()
            if queue:
                matched.append(("classification queue output", queue, None))
        for rule in _route_rules(stream):
            if not conditions.matches(rule.conditions, facts, similar=facts.get("_similar")):
                continue
            if rule.split:
                queue_id = _split_pick(rule.split, key)
                queue = Queue.objects.filter(pk=queue_id, is_active=True).first()
                label = f"{rule.name} (split → {queue_id})"
            else:
                queue, label = rule.queue, rule.name
            if queue is not None and queue.is_active:
                matched.append((label, queue, rule))
    except Exception as exc:
        return QueueChoice(fallback, None, {"fallback": "route-to-queue failed", "error": f"{type(exc).__name__}: {exc}"})
    if not matched:
        return QueueChoice(fallback, None, {"fallback": "no route rule matched"})
    now = timezone.now()
    checked = []
    overflowing: list[tuple[str, Queue, RouteRule | None, OverflowRule, str]] = []
    for label, queue, route_rule in matched:
        rule, reason = overflow_pre_check(queue, route_rule=route_rule, now=now)
        own = bool(getattr(route_rule, "pre_queue_pairs", None))
        checked.append({"rule": label, "queue": queue.name, "overflowing": reason or None,
                        "overflow_pairs": {"route_rule": route_rule.pk} if own else {"queue": queue.pk}})
        if rule is None or rule.action == OverflowAction.ASSIGN_ANYWAY:
            return QueueChoice(queue, label, {"matched": checked}, rule, reason, route_rule)
        overflowing.append((label, queue, route_rule, rule, reason))
    (label, queue, route_rule, rule, reason), why = _earliest_open(overflowing, now)
    trace = {"matched": checked, "all_overflowing": True, "chosen": {"queue": queue.name, "why": why}}
    return QueueChoice(queue, label, trace, rule, reason, route_rule)


def _earliest_open(overflowing: list[tuple], now) -> tuple[tuple, str]:
    """A.7: of matched queues that all overflow, the first one open now (operational), else the one
    whose operating hours open earliest (a calendar not opening within two weeks comes last); and why."""
    for entry in overflowing:
        if is_open(entry[1].operating_hours, now):
            return entry, "open now"
    openings = [next_opening(entry[1].operating_hours, now) for entry in overflowing]
    best = min(range(len(overflowing)), key=lambda i: (openings[i] is None, openings[i] or now, i))
    if openings[best] is None:
        return overflowing[best], "none opens within two weeks"
    return overflowing[best], f"opens earliest, at {openings[best].isoformat()}"


def overflow_due_in_queue(*, now=None) -> list[tuple[WorkItem, OverflowRule]]:
    """Queued items waiting longer than an in-queue threshold (E.61), each with the one pair that fires.

    An item its route rule still governs (``WorkItem.route_rule``) is checked
    against that rule's in-queue pairs when it has some (E.59), otherwise
    against its queue's; the first due pair in order wins. Ordered for batch
    processing (E.62): queues with the lowest predicted wait first, then the
    longest-waiting items of each queue first.
    """
    now = now or timezone.now()
    pairs = list(
        OverflowRule.objects.filter(stage=OverflowStage.IN_QUEUE).select_related("target_queue").order_by("order", "id")
    )
    overriding = {pair.route_rule_id for pair in pairs if pair.route_rule_id}
    due: dict[int, tuple[WorkItem, OverflowRule]] = {}
    for pair in pairs:
        items = WorkItem.objects.filter(
            status=WorkItemStatus.QUEUED, queued_at__lte=now - timedelta(seconds=pair.threshold or 0)
        )
        if pair.route_rule_id:
            items = items.filter(route_rule_id=pair.route_rule_id)
        else:
            items = items.filter(queue_id=pair.queue_id).exclude(route_rule_id__in=overriding)
        for item in items.select_related("queue").order_by("queued_at")[:IN_QUEUE_ITEMS_PER_PAIR]:
            due.setdefault(item.pk, (item, pair))
    queues = {item.queue_id: item.queue for item, _pair in due.values()}
    waits = {queue_id: queue_predicted_wait_seconds(queue) for queue_id, queue in queues.items()}
    return sorted(due.values(), key=lambda entry: (waits[entry[0].queue_id], entry[0].queue_id, entry[0].queued_at))

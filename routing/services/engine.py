"""The assignment engine: which queued item goes to which agent (B.15–B.41, C.35–C.41).

One cycle, in one transaction:

1. lock up to N queued push items per queue (``SKIP LOCKED``: another router
   takes the rest), highest-priority queue first, affinity items first, then
   item priority, then FIFO (last customer interaction); a custom queue with
   prioritization rules orders its items by bucket instead (B.24);
2. lock the members of those queues who have capacity left, and every member
   of a custom queue (its rules decide about capacity, B.23) (``SKIP LOCKED``
   again: an agent another router is serving is simply not a candidate now);
3. match in memory, method by method, booking capacity as it goes;
4. write everything in a few bulk statements. The database check constraint
   ``used_units <= capacity_units + forced_units`` refuses any over-booking a
   bug might attempt, and the partial unique index allows one pending offer
   per item, so two routers can never give one item to two agents.

A worker dying mid-cycle rolls the transaction back: nothing is half-assigned.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import total_ordering
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When, prefetch_related_objects
from django.utils import timezone

from contactcenter.realtime import batched, publish
from routing import conditions, events
from routing.choices import (
    AssignmentMethod,
    DiagnosticStage,
    DistributionMode,
    OrderBy,
    PreferredAgentsFallback,
    QueueKind,
    SkillMatch,
    WorkItemStatus,
)
from routing.models import (
    AgentCapacity,
    AgentProfile,
    AgentShift,
    AgentSkill,
    AssignmentRule,
    CapacityProfile,
    ConversationSession,
    Offer,
    Queue,
    QueueAgentMark,
    RoutingDiagnostic,
    Skill,
    WorkItem,
)
from routing.services.presence import (
    REACHABLE_PRESENCES,
    capacity_excess,
    capacity_take,
    consults_open,
    escalations_held,
    presence_follow_load,
)
from routing.services.prioritization import WINDOW as PRIORITIZATION_WINDOW
from routing.services.prioritization import prioritization_rules, prioritized, workitem_facts

ITEMS_PER_QUEUE = 100
REJECTIONS_KEPT = 25
#: D.48: work an agent in a call (holding the Escalation profile) is not offered.
CALL_BLOCKED_KINDS = frozenset({QueueKind.MESSAGING, QueueKind.VOICE})
EPOCH = datetime(1970, 1, 1, tzinfo=dt_timezone.utc)


@dataclass(frozen=True)
class Decision:
    workitem_id: int
    agent_id: int
    queue_id: int
    method: str
    auto_accepted: bool


@dataclass
class Candidate:
    profile: AgentProfile
    position: int  # membership order in the queue
    skills: dict[int, int]
    mark: datetime | None
    declines: int = 0
    shift: AgentShift | None = None  # the booking covering now, when the batch asks "is working"

    @property
    def agent_id(self) -> int:
        return self.profile.user_id

    @property
    def remaining(self) -> int:
        return self.profile.capacity_units - self.profile.used_units

    def round_robin_key(self) -> tuple:
        # B.21: never served by this queue first (in membership order), then the earliest last assignment.
        return (0, EPOCH, self.position) if self.mark is None else (1, self.mark, self.position)


def memberships_of(queue_ids: Iterable[int]) -> list[tuple[int, int]]:
    """(queue id, user id) pairs in membership order (the join row's id: time added)."""
    return list(
        Queue.members.through.objects.filter(queue_id__in=list(queue_ids)).order_by("id").values_list("queue_id", "user_id")
    )


def _session_facts(profiles: dict[int, AgentProfile]) -> tuple[dict[int, int], set[int]]:
    """Per agent (user id) of ``profiles``: open consults (D.54) and who is in a call (D.48). One query."""
    consults = (consults_open().filter(agent_id__in=list(profiles))
                .annotate(kind=Value(0, output_field=IntegerField())).values_list("agent_id", "kind"))
    calls = (escalations_held().filter(agent_id__in=[p.pk for p in profiles.values()])
             .annotate(kind=Value(1, output_field=IntegerField())).values_list("agent__user_id", "kind"))
    counts: dict[int, int] = defaultdict(int)
    in_call: set[int] = set()
    for agent_id, kind in consults.union(calls, all=True):
        if kind:
            in_call.add(agent_id)
        else:
            counts[agent_id] += 1
    return dict(counts), in_call


class _Context:
    """What one cycle (or one explanation) knows: skills scales, capacity-profile usage, marks,
    custom rules, open consults and calls and, when a rule asks "is working", the shift covering now
    of each agent."""

    def __init__(self, profiles: list[AgentProfile], queue_ids: Iterable[int], items: list[WorkItem],
                 memberships: list[tuple[int, int]] | None = None):
        queue_ids = list(queue_ids)
        self.profiles = {p.user_id: p for p in profiles}
        custom = any(i.queue.assignment_method == AssignmentMethod.CUSTOM for i in items)
        needs_skills = custom or any(i.required_skills for i in items)
        # Only what this batch needs is read: each query is a round trip on the enqueue → offer path.
        self.skill_scale = dict(Skill.objects.values_list("pk", "rating_max")) if needs_skills else {}
        self.skills: dict[int, dict[int, int]] = defaultdict(dict)
        if needs_skills:
            for agent_id, skill_id, rating in AgentSkill.objects.filter(agent_id__in=self.profiles).values_list(
                "agent_id", "skill_id", "rating"
            ):
                self.skills[agent_id][skill_id] = rating
        self.marks: dict[tuple[int, int], datetime] = {
            (q, a): t for q, a, t in QueueAgentMark.objects.filter(
                queue_id__in=list(queue_ids), agent_id__in=self.profiles
            ).values_list("queue_id", "agent_id", "last_assigned_at")
        }
        self.members: dict[int, list[int]] = defaultdict(list)
        if memberships is None:
            memberships = memberships_of(queue_ids)
        for queue_id, user_id in memberships:
            self.members[queue_id].append(user_id)
        self.profile_usage: dict[tuple[int, int], list[int]] = {}
        self.profile_limits: dict[int, int] = {}
        if any(i.capacity_profiles for i in items):
            self.profile_limits = dict(CapacityProfile.objects.values_list("pk", "default_limit"))
            for agent_pk, profile_id, limit, used in AgentCapacity.objects.filter(
                agent__user_id__in=self.profiles
            ).values_list("agent__user_id", "profile_id", "limit", "used"):
                self.profile_usage[(agent_pk, profile_id)] = [
                    limit if limit is not None else self.profile_limits.get(profile_id, 0), used
                ]
        self.rules: dict[int, list[AssignmentRule]] = defaultdict(list)
        if custom:
            custom_queue_ids = {i.queue_id for i in items if i.queue.assignment_method == AssignmentMethod.CUSTOM}
            for rule in AssignmentRule.objects.filter(queue_id__in=custom_queue_ids).order_by("order", "id"):
                self.rules[rule.queue_id].append(rule)
        self._item_facts: dict[int, dict] = {}
        if any(conditions.uses_item_fields(rule.conditions) for rules in self.rules.values() for rule in rules):
            # Dynamic comparisons read the items' records: fetched once for the batch, not per item.
            prefetch_related_objects([i for i in items if i.queue_id in self.rules],
                                     "conversation__contact__account", "case")
        self.shifts: dict[int, AgentShift] = {}
        if any(conditions.uses_calendar(rule.conditions) for rules in self.rules.values() for rule in rules):
            now = timezone.now()
            self.shifts = {
                shift.agent_id: shift for shift in AgentShift.objects.filter(
                    agent_id__in=self.profiles, starts_at__lte=now, ends_at__gt=now
                )
            }
        self.session_limit = settings.ROUTING_MAX_SESSIONS_PER_AGENT
        self.consults, self.in_call = _session_facts(self.profiles) if self.profiles else ({}, set())
        self.session_watch = self._near_session_limit(items)
        self._guarded: dict[tuple[int, bool], bool] = {}

    def _near_session_limit(self, items: list[WorkItem]) -> set[int]:
        """Agents who could reach the session limit within this cycle: at most one item per unit of
        room (any number of items if some cost nothing), never more than the batch holds."""
        cheapest = min((i.capacity_units for i in items), default=1)
        watch = set()
        for agent_id, profile in self.profiles.items():
            room = max(0, profile.capacity_units - profile.used_units)
            takes = len(items) if cheapest == 0 else min(len(items), room // cheapest)
            if self.sessions(agent_id) + takes > self.session_limit:
                watch.add(agent_id)
        return watch

    def sessions(self, agent_id: int) -> int:
        """D.54: offered/assigned items (kept current as the cycle books them) plus open consults."""
        return self.profiles[agent_id].active_items + self.consults.get(agent_id, 0)

    def blocked_by_call(self, item: WorkItem, agent_id: int) -> bool:
        return agent_id in self.in_call and item.work_stream.kind in CALL_BLOCKED_KINDS

    def guarded(self, item: WorkItem) -> bool:
        """Whether some member of the item's queue is in a call (for chat and voice work) or near the
        session limit: then each candidate needs ``choose``'s full check, not the fast lane."""
        call_blocks = item.work_stream.kind in CALL_BLOCKED_KINDS
        key = (item.queue_id, call_blocks)
        if key not in self._guarded:
            watched = self.session_watch | (self.in_call if call_blocks else set())
            self._guarded[key] = bool(watched) and any(a in watched for a in self.members.get(item.queue_id, []))
        return self._guarded[key]

    def item_facts(self, item: WorkItem) -> dict:
        """The work-item fields agent conditions may compare with (B.26), worked out once per item."""
        if item.pk not in self._item_facts:
            self._item_facts[item.pk] = workitem_facts(item)
        return self._item_facts[item.pk]

    def profile_room(self, agent_id: int, profile_ids: list[int]) -> bool:
        for profile_id in profile_ids:
            limit, used = self.profile_usage.get((agent_id, profile_id), [self.profile_limits.get(profile_id, 0), 0])
            if used >= limit:
                return False
        return True

    def candidates(self, item: WorkItem) -> list[Candidate]:
        declines = item.declines or {}
        found = []
        for position, agent_id in enumerate(self.members.get(item.queue_id, [])):
            profile = self.profiles.get(agent_id)
            if profile is not None:
                found.append(Candidate(profile, position, self.skills.get(agent_id, {}),
                                       self.marks.get((item.queue_id, agent_id)), declines.get(str(agent_id), 0),
                                       self.shifts.get(agent_id)))
        return found

    def normalized(self, skill_id: int, rating: int) -> float:
        return rating / max(1, self.skill_scale.get(skill_id, 10))


def skill_category(required: list[dict], held: dict[int, int]) -> tuple[int, int]:
    """(0 exact, 1 over-qualified, 2 under-qualified; missing count) — C.36/C.37."""
    missing = sum(1 for r in required if held.get(r["skill"], 0) < r["rating"])
    if missing:
        return 2, missing
    extra = len(set(held) - {r["skill"] for r in required})
    return (1 if extra else 0), 0


def _proficiency_surplus(ctx: _Context, required: list[dict], held: dict[int, int]) -> float:
    surplus = 0.0
    for r in required:
        diff = ctx.normalized(r["skill"], held.get(r["skill"], 0)) - ctx.normalized(r["skill"], r["rating"])
        if diff < 0:
            return float("inf")
        surplus += diff
    return surplus


@total_ordering
class _Descending:
    """Wraps a value so that ``min`` finds the largest."""

    def __init__(self, value):
        self.value = value

    def __eq__(self, other) -> bool:
        return self.value == other.value

    def __lt__(self, other) -> bool:
        return self.value > other.value


def _field_key(field: str, cand: Candidate, item: WorkItem) -> tuple:
    """B.25's order by any agent field: agents without a value come last; values of one type compare."""
    descending = field.startswith("-")
    value = conditions.resolve(_agent_facts(cand, item), field.removeprefix("-"))
    if value is None:
        return (1, "", 0)
    return (0, type(value).__name__, _Descending(value) if descending else value)


def _order_key(order_by: str, cand: Candidate, item: WorkItem, ctx: _Context, field: str = ""):
    if order_by == OrderBy.AGENT_FIELD:
        return (_field_key(field, cand, item), cand.round_robin_key())
    if order_by == OrderBy.REMAINING_CAPACITY:
        return (-cand.remaining, cand.round_robin_key())
    if order_by == OrderBy.LEAST_ACTIVE:
        return (cand.profile.active_items, cand.profile.last_released_at or EPOCH, cand.round_robin_key())
    if order_by == OrderBy.NEAREST_PROFICIENCY:
        return (_proficiency_surplus(ctx, item.required_skills, cand.skills), cand.round_robin_key())
    if order_by == OrderBy.MOST_PROFICIENT:
        total = sum(ctx.normalized(r["skill"], cand.skills.get(r["skill"], 0)) for r in item.required_skills)
        return (-total, cand.round_robin_key())
    if order_by == OrderBy.SKILL_COUNT:
        matched = sum(1 for r in item.required_skills if cand.skills.get(r["skill"], 0) >= r["rating"])
        return (-matched, cand.round_robin_key())
    return cand.round_robin_key()


METHOD_ORDER = {
    AssignmentMethod.HIGHEST_CAPACITY: OrderBy.REMAINING_CAPACITY,
    AssignmentMethod.ROUND_ROBIN: OrderBy.ROUND_ROBIN,
    AssignmentMethod.LEAST_ACTIVE: OrderBy.LEAST_ACTIVE,
}


def _agent_facts(cand: Candidate, item: WorkItem) -> dict:
    return {
        "presence": cand.profile.presence.base,
        "remaining_capacity": cand.remaining,
        "active_items": cand.profile.active_items,
        "agent": cand.profile.attributes or {},
        "user": cand.profile.user,
    }


def _custom_rule_miss(rule: AssignmentRule, cand: Candidate, item: WorkItem, ctx: _Context) -> str | None:
    """Why ``cand`` does not meet ``rule`` for ``item`` (a rejection reason), or None when it does."""
    facts = None
    for condition in rule.conditions:
        field, op, value = condition["field"], condition["op"], condition.get("value")
        if field == "skills":
            if skill_category(value or item.required_skills, cand.skills)[0] == 2:
                return "missing required skills"
        elif op == "available":
            if cand.remaining < item.capacity_units:
                return f"capacity {cand.remaining} < {item.capacity_units}"
        elif op == "is_working":
            if cand.shift is None:
                return "no shift"
            if not cand.shift.assignable:
                return f"not working ({cand.shift.activity})"
        else:
            facts = facts or _agent_facts(cand, item)
            reference = conditions.item_reference(value)
            if reference is not None:
                value = conditions.resolve(ctx.item_facts(item), reference)
            if not conditions.compare(conditions.resolve(facts, field), op, value):
                return f"{field} not {op} {value!r}"
    return None


def _choose_by_rules(item: WorkItem, ctx: _Context, pool: list[Candidate], trace: dict) -> Candidate | None:
    """B.25: the first rule that some agent of ``pool`` meets picks its top agent by the rule's order.

    Agents no rule up to that one accepted are added to ``trace["rejected"]`` with the
    rules' reasons ("no shift", "not working (Lunch)"). When the pick has no unit capacity
    left (no rule asked for it, B.23), ``trace`` says how many units are booked as forced.
    """
    misses: dict[int, list[str]] = {}
    chosen, accepted = None, set()
    trace["chosen_by"] = "no custom rule returned an agent"
    for rule in ctx.rules.get(item.queue_id, []):
        matching = []
        for cand in pool:
            miss = _custom_rule_miss(rule, cand, item, ctx)
            if miss is None:
                matching.append(cand)
            elif miss not in misses.setdefault(cand.agent_id, []):
                misses[cand.agent_id].append(miss)
        if matching:
            chosen = min(matching, key=lambda c: _order_key(rule.order_by, c, item, ctx, rule.order_field))
            accepted = {c.agent_id for c in matching}
            trace["chosen_by"] = f"rule {rule.name} ordered by {rule.order_by}"
            break
    for agent_id, reasons in misses.items():
        if agent_id not in accepted and len(trace["rejected"]) < REJECTIONS_KEPT:
            trace["rejected"].append({"agent": agent_id, "reasons": reasons})
    excess = capacity_excess(chosen.profile, item.capacity_units) if chosen is not None else 0
    if excess:
        trace["forced_units"] = excess
        trace["chosen_by"] += f", {excess} unit(s) over capacity booked as forced"
    return chosen


def choose(item: WorkItem, ctx: _Context, *, method: str) -> tuple[Candidate | None, dict]:
    """The agent ``item`` should go to, and a trace of who was eligible and why others were not.

    A custom queue (B.23) applies neither the work stream's presences and skill
    matching nor unit capacity; its rules ask for them. The capacity-profile check
    still applies, and an agent who is not signed in (Offline, Inactive) is never
    offered work: an offer needs someone to receive it, whatever a rule says.
    After affinity, the contact's preferred agents come first (B.33, ``_preferred_choice``).
    """
    stream = item.work_stream
    allowed = set(stream.effective_presences())
    eligible: list[Candidate] = []
    rejected: list[dict] = []
    affinity = None
    for cand in ctx.candidates(item):
        reasons = []
        is_affinity = cand.agent_id == item.affinity_agent_id
        if cand.declines >= stream.max_offers_per_agent:
            reasons.append(f"declined {cand.declines}×")
        # Neither affinity nor custom rules lift these two (D.48, D.54).
        if ctx.blocked_by_call(item, cand.agent_id):
            reasons.append("in a call")
        if ctx.sessions(cand.agent_id) >= ctx.session_limit:
            reasons.append("session limit")
        if not is_affinity:
            if method == AssignmentMethod.CUSTOM:
                if cand.profile.presence.base not in REACHABLE_PRESENCES:
                    reasons.append(f"not signed in ({cand.profile.presence.base})")
            elif cand.profile.presence.base not in allowed:
                reasons.append(f"presence {cand.profile.presence.base}")
            if method != AssignmentMethod.CUSTOM and cand.remaining < item.capacity_units:
                reasons.append(f"capacity {cand.remaining} < {item.capacity_units}")
            if item.capacity_profiles and not ctx.profile_room(cand.agent_id, item.capacity_profiles):
                reasons.append("capacity profile full")
            if method != AssignmentMethod.CUSTOM and item.skill_match == SkillMatch.EXACT and item.required_skills:
                if skill_category(item.required_skills, cand.skills)[0] == 2:
                    reasons.append("missing required skills")
        if reasons:
            if len(rejected) < REJECTIONS_KEPT:
                rejected.append({"agent": cand.agent_id, "reasons": reasons})
            continue
        if is_affinity:
            affinity = cand
        eligible.append(cand)
    trace = {"method": method, "eligible": len(eligible), "rejected": rejected}
    if affinity is not None:
        trace["chosen_by"] = "affinity"
        return affinity, trace
    if item.preferred_agents:
        preferred, waits = _preferred_choice(item, ctx, eligible, trace)
        if preferred is not None or waits:
            return preferred, trace
    if not eligible:
        return None, trace
    # B.28: an agent who declined is re-offered only when nobody else is left.
    fresh = [c for c in eligible if c.declines == 0]
    pool = fresh or eligible
    if method == AssignmentMethod.CUSTOM:
        return _choose_by_rules(item, ctx, pool, trace), trace
    order_by = METHOD_ORDER.get(method, OrderBy.REMAINING_CAPACITY)
    if item.skill_match == SkillMatch.CLOSEST and item.required_skills:
        def key(c):
            category, missing = skill_category(item.required_skills, c.skills)
            return (category, missing, _order_key(order_by, c, item, ctx))
        trace["chosen_by"] = f"closest skill match, then {order_by}"
    else:
        def key(c):
            return _order_key(order_by, c, item, ctx)
        trace["chosen_by"] = order_by
    return min(pool, key=key), trace


def _preferred_choice(
    item: WorkItem, ctx: _Context, eligible: list[Candidate], trace: dict
) -> tuple[Candidate | None, bool]:
    """B.33: the first of the contact's preferred agents, in their order, who is a member of the item's
    queue and can take it now (eligible, an allowed presence, room for its units), and whether the item
    must wait when none can (the work stream's fallback). Agents who declined it come after the others.

    No preferred agent in the queue at all: normal assignment, whatever the fallback.
    """
    members = set(ctx.members.get(item.queue_id, []))
    order = {agent_id: i for i, agent_id in enumerate(a for a in item.preferred_agents if a in members)}
    if not order:
        return None, False
    allowed = set(item.work_stream.effective_presences())
    able = [c for c in eligible if c.agent_id in order and c.profile.presence.base in allowed
            and c.remaining >= item.capacity_units]
    if able:
        trace["chosen_by"] = "preferred agent"
        return min(able, key=lambda c: (c.declines > 0, order[c.agent_id])), False
    if item.work_stream.preferred_agents_fallback == PreferredAgentsFallback.WAIT:
        trace["chosen_by"] = "waiting for a preferred agent"
        return None, True
    trace["preferred_agents"] = "none available: assigned normally"
    return None, False


def _waiting(items: QuerySet, queue: Queue) -> QuerySet:
    return items.filter(queue=queue, status=WorkItemStatus.QUEUED, auto_assign=True,
                        work_stream__distribution_mode=DistributionMode.PUSH)


def _locked_items(queue: Queue, limit: int) -> tuple[list[WorkItem], dict[int, str]]:
    """Up to ``limit`` waiting push items of ``queue`` in the order they are served, locked,
    and for a prioritized queue the bucket each landed in (B.24)."""
    locking = WorkItem.objects.select_for_update(skip_locked=True, of=("self",)).select_related(
        "work_stream", "queue", "conversation"
    )
    rules = prioritization_rules(queue)
    if not rules:
        items = list(
            _waiting(locking, queue)
            .annotate(has_affinity=Case(When(affinity_agent__isnull=False, then=Value(0)), default=Value(1),
                                        output_field=IntegerField()))
            .order_by("has_affinity", "priority", "order_at", "id")[:limit]
        )
        return items, {}
    window = _waiting(WorkItem.objects, queue).select_related("conversation__contact__account", "case")
    ranked = prioritized(list(window.order_by("order_at", "id")[:PRIORITIZATION_WINDOW]), rules)[:limit]
    # Read without locks: what changed since (moved, taken, out of auto-assignment) drops out here.
    locked = _waiting(locking, queue).filter(pk__in=[item.pk for item, _bucket in ranked]).in_bulk()
    served = [(locked[item.pk], bucket) for item, bucket in ranked if item.pk in locked]
    return [item for item, _bucket in served], {item.pk: bucket for item, bucket in served}


def _items_per_cycle(queue: Queue) -> int:
    """B.16: the top N items per queue and cycle; records take a larger, configurable N."""
    return settings.ROUTING_RECORD_ITEMS_PER_CYCLE if queue.kind == QueueKind.RECORD else ITEMS_PER_QUEUE


@batched()
def assignment_run(*, queue_ids: Iterable[int] | None = None, limit_per_queue: int | None = None) -> list[Decision]:
    """Run one assignment cycle over ``queue_ids`` (all active queues when None).

    Each queue contributes its top ``limit_per_queue`` waiting items. By
    default a full cycle (the sweep) takes B.16's N by queue kind (records:
    ``ROUTING_RECORD_ITEMS_PER_CYCLE``), and a cycle an event triggers for a
    few queues takes 100, so an enqueue never locks thousands of records.
    Items are served queue priority first; among queues of equal priority,
    FIFO across them, and prioritized queues by name (A.11).

    Side effects: WorkItem status/agent/offer fields, Offer rows, the open
    ConversationSession's agent (one statement per cycle), AgentProfile
    used capacity and presence, QueueAgentMark, RoutingDiagnostic (one per
    decision); conversations of auto-accepted items are assigned through
    ``crm.services.conversation_assign``. After commit: ``workitem.offered``
    to ``agent.<id>`` and ``agent.presence_changed``, sent together as one batch.
    Locks: item and agent-profile rows with SKIP LOCKED.
    """
    queues = Queue.objects.filter(is_active=True)
    full_cycle = queue_ids is None
    if queue_ids is not None:
        queue_ids = list(queue_ids)
        if not queue_ids:
            return []
        queues = queues.filter(pk__in=queue_ids)
    with transaction.atomic():
        queues = list(queues)
        items: list[WorkItem] = []
        buckets: dict[int, str] = {}
        rank: dict[int, int] = {}
        for queue in queues:
            limit = limit_per_queue or (_items_per_cycle(queue) if full_cycle else ITEMS_PER_QUEUE)
            locked, queue_buckets = _locked_items(queue, limit)
            items.extend(locked)
            if queue_buckets:
                buckets.update(queue_buckets)
                rank.update((item.pk, position) for position, item in enumerate(locked))
        if not items:
            return []
        qids = {i.queue_id for i in items}
        memberships = memberships_of(qids)
        member_ids = {user_id for _queue_id, user_id in memberships}
        affinity_ids = {i.affinity_agent_id for i in items if i.affinity_agent_id}
        custom_qids = {i.queue_id for i in items if i.queue.assignment_method == AssignmentMethod.CUSTOM}
        # B.23: a custom queue's rules decide about unit capacity, so its full members are candidates too;
        # Offline agents never are (see ``choose``).
        uncapped_ids = affinity_ids | {user_id for queue_id, user_id in memberships if queue_id in custom_qids}
        profiles = list(
            AgentProfile.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("presence", "user")
            .filter(user_id__in=member_ids | affinity_ids, presence__base__in=REACHABLE_PRESENCES)
            .filter(Q(used_units__lt=F("capacity_units")) | Q(user_id__in=uncapped_ids))
        )
        if not profiles:
            return []
        ctx = _Context(profiles, qids, items, memberships)
        for item in items:
            if item.affinity_agent_id and item.affinity_agent_id not in ctx.members[item.queue_id]:
                ctx.members[item.queue_id].insert(0, item.affinity_agent_id)
        priority = {q.pk: q.priority for q in queues}

        def served(item: WorkItem) -> tuple:
            if item.pk in rank:
                return (priority[item.queue_id], item.queue.name, rank[item.pk])
            return (priority[item.queue_id], "", 0 if item.affinity_agent_id else 1, item.priority, item.order_at, item.pk)

        items.sort(key=served)
        return _assign_batch(items, ctx, buckets)


class _FastLanes:
    """The common case without a full scan: no skills, declines, affinity, preferred agents, profiles
    or custom rules, and nobody in the queue in a call or near the session limit.

    One heap per (queue, work stream, cost) holds the reachable members ordered by
    the method's key. Within a cycle a key only ever gets worse (less capacity
    left, a later last assignment, more active items), so a stale top is re-keyed
    and pushed back, and an agent without room for the cost leaves for good. The
    result is the same agent ``choose`` would pick, found in O(log n).
    """

    def __init__(self, ctx: _Context):
        self.ctx = ctx
        self.heaps: dict[tuple, list] = {}

    def applies(self, item: WorkItem, method: str) -> bool:
        return (
            method in METHOD_ORDER and not item.required_skills and not item.declines
            and not item.affinity_agent_id and not item.preferred_agents and not item.capacity_profiles
            and not self.ctx.guarded(item)
        )

    def _key(self, method: str, profile: AgentProfile, queue_id: int, position: int) -> tuple:
        mark = self.ctx.marks.get((queue_id, profile.user_id))
        rr = (0, EPOCH, position) if mark is None else (1, mark, position)
        if method == AssignmentMethod.HIGHEST_CAPACITY:
            return (profile.used_units - profile.capacity_units, rr)
        if method == AssignmentMethod.LEAST_ACTIVE:
            return (profile.active_items, profile.last_released_at or EPOCH, rr)
        return rr

    def choose(self, item: WorkItem, method: str) -> tuple[AgentProfile | None, dict]:
        lane = (item.queue_id, item.work_stream_id, item.capacity_units)
        heap = self.heaps.get(lane)
        allowed = set(item.work_stream.effective_presences())
        if heap is None:
            heap = []
            for position, agent_id in enumerate(self.ctx.members.get(item.queue_id, [])):
                profile = self.ctx.profiles.get(agent_id)
                if profile is not None and profile.presence.base in allowed:
                    heap.append((self._key(method, profile, item.queue_id, position), position, agent_id))
            heapq.heapify(heap)
            self.heaps[lane] = heap
        trace = {"method": method, "chosen_by": METHOD_ORDER[method], "eligible": len(heap), "rejected": []}
        while heap:
            key, position, agent_id = heap[0]
            profile = self.ctx.profiles[agent_id]
            if profile.capacity_units - profile.used_units < item.capacity_units:
                heapq.heappop(heap)
                continue
            fresh = self._key(method, profile, item.queue_id, position)
            if fresh != key:
                heapq.heapreplace(heap, (fresh, position, agent_id))
                continue
            return profile, trace
        return None, trace


def _assign_batch(items: list[WorkItem], ctx: _Context, buckets: dict[int, str]) -> list[Decision]:
    from crm.services import conversation_assign

    now = timezone.now()
    decisions: list[Decision] = []
    touched: dict[int, AgentProfile] = {}
    offers, diagnostics, marks = [], [], {}
    changed_items = []
    profile_takes: list[tuple[int, WorkItem]] = []
    fast = _FastLanes(ctx)
    for item in items:
        method = item.queue.assignment_method
        if fast.applies(item, method):
            profile, trace = fast.choose(item, method)
        else:
            cand, trace = choose(item, ctx, method=method)
            profile = cand.profile if cand is not None else None
        if profile is None:
            continue
        allow_exceed = profile.user_id == item.affinity_agent_id or method == AssignmentMethod.CUSTOM
        if not allow_exceed and profile.used_units + item.capacity_units > profile.capacity_units:
            continue
        item.agent_id = profile.user_id
        capacity_take(profile, item, allow_exceed=allow_exceed, now=now)
        for profile_id in item.capacity_profiles:
            usage = ctx.profile_usage.setdefault((profile.user_id, profile_id), [ctx.profile_limits.get(profile_id, 0), 0])
            usage[1] += 1
        if item.capacity_profiles:
            profile_takes.append((profile.pk, item))
        touched[profile.user_id] = profile
        marks[(item.queue_id, profile.user_id)] = now
        ctx.marks[(item.queue_id, profile.user_id)] = now
        auto = item.work_stream.auto_accept
        item.status = WorkItemStatus.ASSIGNED if auto else WorkItemStatus.OFFERED
        item.offered_at = now
        item.offer_expires_at = None if auto else now + timedelta(seconds=item.work_stream.offer_timeout_seconds)
        if auto:
            item.assigned_at = now
        offers.append(Offer(workitem=item, agent_id=profile.user_id, offered_at=now,
                            expires_at=item.offer_expires_at or now,
                            outcome="accepted" if auto else "pending", answered_at=now if auto else None))
        agent_label = str(profile.user_id)
        diagnostics.append(RoutingDiagnostic(
            workitem=item, stage=DiagnosticStage.ASSIGNMENT,
            summary=f"{'Assigned' if auto else 'Offered'} to agent {agent_label} by {trace.get('chosen_by', method)}",
            detail={**trace, "agent": profile.user_id, "queue": item.queue_id}
            | ({"bucket": buckets[item.pk]} if item.pk in buckets else {}),
        ))
        changed_items.append(item)
        decisions.append(Decision(item.pk, profile.user_id, item.queue_id, method, auto))
    if not decisions:
        return []
    for profile in touched.values():
        presence_follow_load(profile)
    _bulk_set(
        AgentProfile, list(touched.values()),
        ["used_units", "forced_units", "active_items", "last_assigned_at", "presence", "presence_changed_at"],
    )
    _bulk_set(
        WorkItem, changed_items,
        ["status", "agent", "offered_at", "offer_expires_at", "assigned_at", "capacity_held", "forced_units"],
    )
    _sessions_take(changed_items)
    Offer.objects.bulk_create(offers)
    RoutingDiagnostic.objects.bulk_create(diagnostics)
    QueueAgentMark.objects.bulk_create(
        [QueueAgentMark(queue_id=q, agent_id=a, last_assigned_at=t) for (q, a), t in marks.items()],
        update_conflicts=True, unique_fields=["queue", "agent"], update_fields=["last_assigned_at"],
    )
    _profile_usage_add(profile_takes)
    for item in changed_items:
        if item.status == WorkItemStatus.ASSIGNED:
            conversation_assign(conversation=item.conversation, agent=touched[item.agent_id].user, queue_id=item.queue_id)
        publish(events.workitem_offered(item, auto_accept=item.status == WorkItemStatus.ASSIGNED),
                groups=[events.agent_groups(item.agent_id)[0]])
    return decisions


def _profile_usage_add(takes: list[tuple[int, WorkItem]]) -> None:
    """One unit of each capacity profile of each item for its agent profile (D.43): one upsert for the cycle."""
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for agent_profile_pk, item in takes:
        for profile_id in item.capacity_profiles:
            counts[(agent_profile_pk, profile_id)] += 1
    if not counts:
        return
    meta = AgentCapacity._meta
    quote = connection.ops.quote_name
    agent_type, profile_type = (meta.get_field(name).target_field.db_type(connection) for name in ("agent", "profile"))
    sql = (f"INSERT INTO {quote(meta.db_table)} (agent_id, profile_id, used, forced) "
           f"SELECT agent_id, profile_id, used, 0 FROM UNNEST(%s::{agent_type}[], %s::{profile_type}[], %s::integer[]) "
           "AS v(agent_id, profile_id, used) "
           f"ON CONFLICT (agent_id, profile_id) DO UPDATE SET used = {quote(meta.db_table)}.used + EXCLUDED.used")
    keys = list(counts)
    with connection.cursor() as cursor:
        cursor.execute(sql, [[a for a, _p in keys], [p for _a, p in keys], [counts[k] for k in keys]])


def _sessions_take(items: list[WorkItem]) -> None:
    """Each item's open conversation session gets the agent it was offered to (E.69).

    One statement for the whole cycle, like ``_bulk_set``: the sessions are found
    by their open-session index, so the cycle does not read them first.
    """
    meta = ConversationSession._meta
    conversation_type, agent_type = (meta.get_field(name).target_field.db_type(connection)
                                     for name in ("conversation", "agent"))
    sql = (f"UPDATE {connection.ops.quote_name(meta.db_table)} AS s SET agent_id = v.agent_id "
           f"FROM UNNEST(%s::{conversation_type}[], %s::{agent_type}[]) AS v(conversation_id, agent_id) "
           "WHERE s.conversation_id = v.conversation_id AND s.ended_at IS NULL")
    with connection.cursor() as cursor:
        cursor.execute(sql, [[item.conversation_id for item in items], [item.agent_id for item in items]])


def _bulk_set(model, objects: list, field_names: list[str]) -> None:
    """``UPDATE ... FROM UNNEST(<one array per column>)``: one statement for many rows.

    ``bulk_update`` builds a CASE-per-row expression tree that costs more than
    the whole cycle; a VALUES list makes the SQL text differ with every row
    count, so the driver parses it anew each time. With arrays the text is the
    same for every call and only the parameters change.
    """
    if not objects:
        return
    fields = [model._meta.get_field(name) for name in field_names]
    pk = model._meta.pk
    quote = connection.ops.quote_name
    columns = [quote(pk.column)] + [quote(f.column) for f in fields]
    types = [pk.db_type(connection)] + [
        f.target_field.db_type(connection) if f.is_relation else f.db_type(connection) for f in fields
    ]
    arrays = ", ".join(f"%s::{t}[]" for t in types)
    assignments = ", ".join(f"{c} = v.{c}" for c in columns[1:])
    sql = (f"UPDATE {quote(model._meta.db_table)} AS t SET {assignments} FROM UNNEST({arrays}) "
           f"AS v({', '.join(columns)}) WHERE t.{columns[0]} = v.{columns[0]}")
    params = [[obj.pk for obj in objects]] + [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in objects] for f in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@batched()
def queue_stats_publish(*, queue_ids: Iterable[int] | None = None) -> None:
    """Publish ``queue.stats`` (counts by status, longest wait) for each queue to its group and supervisors.

    The sweep does this every few seconds (E.64: counts at most 10 s old), which
    keeps two aggregate queries and their socket sends off the assignment path.
    """
    from routing.selectors import queue_stats

    for stats in queue_stats(queue_ids=None if queue_ids is None else list(queue_ids)):
        publish(events.queue_stats(stats), groups=events.queue_groups(stats["queue_id"]))


def workitem_explain(*, workitem: WorkItem) -> dict:
    """A dry run: who would get ``workitem`` now and why the others would not. Reads only."""
    member_ids = set(workitem.queue.members.values_list("pk", flat=True))
    if workitem.affinity_agent_id:
        member_ids.add(workitem.affinity_agent_id)
    profiles = list(AgentProfile.objects.select_related("presence", "user").filter(user_id__in=member_ids))
    ctx = _Context(profiles, [workitem.queue_id], [workitem])
    if workitem.affinity_agent_id and workitem.affinity_agent_id not in ctx.members[workitem.queue_id]:
        ctx.members[workitem.queue_id].insert(0, workitem.affinity_agent_id)
    no_profile = sorted(member_ids - {p.user_id for p in profiles})
    cand, trace = choose(workitem, ctx, method=workitem.queue.assignment_method)
    trace["chosen_agent"] = cand.agent_id if cand else None
    if no_profile:
        trace["rejected"] = trace["rejected"] + [{"agent": a, "reasons": ["no routing profile"]} for a in no_profile]
    return trace

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import BigIntegerRangeField, DateTimeRangeField, RangeBoundary, RangeOperators
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Func, Q, Value
from django.utils.translation import gettext_lazy as _

from crm.choices import ChannelKind, ConversationStatus
from routing import conditions as rule_conditions
from routing.choices import (
    AssignmentMethod,
    BasePresence,
    CallMode,
    CapacityReset,
    ChannelFamily,
    DiagnosticStage,
    DistributionMode,
    OfferOutcome,
    OrderBy,
    OverflowAction,
    OverflowCondition,
    OverflowStage,
    ParticipantRole,
    PreferredAgentsFallback,
    PrioritizationOrder,
    QueueKind,
    SessionClosure,
    SkillMatch,
    WorkItemStatus,
    WrapUpMode,
)

#: E.61: allowed "waiting longer than" ranges per queue kind, in seconds.
IN_QUEUE_WAIT_RANGE = {
    QueueKind.VOICE: (60, 60 * 60),
    QueueKind.MESSAGING: (60, 2 * 24 * 3600),
    QueueKind.RECORD: (180, 2 * 24 * 3600),
}
#: E.57: pre-queue actions allowed per queue kind.
PRE_QUEUE_ACTIONS = {
    QueueKind.VOICE: {OverflowAction.ASSIGN_ANYWAY, OverflowAction.CALLBACK, OverflowAction.END,
                      OverflowAction.TRANSFER_QUEUE, OverflowAction.VOICEMAIL},
    QueueKind.MESSAGING: {OverflowAction.END, OverflowAction.TRANSFER_QUEUE, OverflowAction.ASSIGN_ANYWAY},
    QueueKind.RECORD: {OverflowAction.ASSIGN_ANYWAY, OverflowAction.TRANSFER_QUEUE},
}
MAX_RULESETS_PER_STREAM = 10
MAX_RULES_PER_RULESET = 100
#: D.48: the built-in capacity profile an agent holds while a chat is escalated to a call.
ESCALATION_PROFILE_NAME = "Escalation"


class OperatingHours(models.Model):
    """A weekly calendar in its own time zone, with holiday closures; a queue without one is open 24×7.

    ``weekly`` maps ``mon``..``sun`` to a list of ``["HH:MM", "HH:MM"]`` open intervals
    (``["00:00", "24:00"]`` for an all-day opening).
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")
    weekly = models.JSONField(_("weekly hours"), default=dict, blank=True)

    class Meta:
        verbose_name_plural = _("operating hours")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from routing.hours import validate_timezone, validate_weekly

        validate_timezone(self.timezone)
        validate_weekly(self.weekly)


class Holiday(models.Model):
    """A day (in the calendar's time zone) on which the operating hours are closed all day."""

    hours = models.ForeignKey(OperatingHours, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["hours", "date"], name="routing_holiday_unique_day")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class Queue(models.Model):
    """A queue of work waiting for agents; its members are the agents who may take it.

    Members are served in membership order (the join row's id) by round robin.
    Each queue kind has one system default queue (A.2), the fallback of a work
    stream created without one; it cannot be deleted.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=QueueKind.choices, default=QueueKind.MESSAGING)
    priority = models.PositiveIntegerField(
        _("priority"), default=10, help_text=_("A smaller number is served first.")
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="queues")
    assignment_method = models.CharField(
        _("assignment method"), max_length=24, choices=AssignmentMethod.choices, blank=True,
        help_text=_("Left blank: least active for voice queues, highest capacity for the others."),
    )
    operating_hours = models.ForeignKey(
        OperatingHours, on_delete=models.SET_NULL, null=True, blank=True, related_name="queues",
        help_text=_("None means open 24×7."),
    )
    service_level_seconds = models.PositiveIntegerField(_("service-level threshold (s)"), default=60)
    short_abandon_seconds = models.PositiveIntegerField(_("short-abandon threshold (s)"), default=10)
    is_active = models.BooleanField(_("active"), default=True)
    is_default = models.BooleanField(_("system default queue"), default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["priority", "name"]
        constraints = [
            models.UniqueConstraint(fields=["kind"], condition=Q(is_default=True), name="routing_one_default_queue_per_kind"),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def default_for(cls, kind: str) -> Queue:
        return cls.objects.get(kind=kind, is_default=True)

    def save(self, *args, **kwargs):
        if not self.assignment_method:
            # B.22: least active is the default method of new voice queues.
            self.assignment_method = (
                AssignmentMethod.LEAST_ACTIVE if self.kind == QueueKind.VOICE else AssignmentMethod.HIGHEST_CAPACITY
            )
        super().save(*args, **kwargs)


class Skill(models.Model):
    """A skill of a skill type, rated on its own scale 1..``rating_max`` (normalised to 0–1 to compare)."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    skill_type = models.CharField(_("skill type"), max_length=50, default="general")
    rating_max = models.PositiveSmallIntegerField(
        _("highest rating"), default=10, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )

    class Meta:
        ordering = ["skill_type", "name"]

    def __str__(self) -> str:
        return self.name


class AgentSkill(models.Model):
    """An agent's proficiency in one skill."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="routing_skills")
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="agent_skills")
    rating = models.PositiveSmallIntegerField(_("rating"), validators=[MinValueValidator(1)])

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agent", "skill"], name="routing_agentskill_unique")]

    def __str__(self) -> str:
        return f"{self.agent} · {self.skill} {self.rating}"

    def clean(self) -> None:
        if self.skill_id and self.rating and self.rating > self.skill.rating_max:
            raise ValidationError({"rating": _("Ratings of this skill go up to %(max)s.") % {"max": self.skill.rating_max}})


class Presence(models.Model):
    """A presence an agent can show; custom presences map to exactly one base presence.

    Built-in presences cannot be deleted; Inactive is set by the system only.
    """

    name = models.CharField(_("name"), max_length=50, unique=True)
    base = models.CharField(_("base presence"), max_length=16, choices=BasePresence.choices)
    is_builtin = models.BooleanField(_("built in"), default=False, editable=False)
    selectable = models.BooleanField(_("agents may choose it"), default=True)

    class Meta:
        ordering = ["base", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.base == BasePresence.INACTIVE and self.selectable:
            raise ValidationError({"selectable": _("Inactive is set by the system only.")})


class CapacityProfile(models.Model):
    """A work-item limit counted separately from units, reset immediately or at the end of the day.

    Built-in profiles (Escalation, D.48) are attached by the system only: they
    cannot be edited, deleted, or given to work streams and classification rules.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    default_limit = models.PositiveIntegerField(_("default limit"), default=1)
    reset = models.CharField(_("reset"), max_length=16, choices=CapacityReset.choices, default=CapacityReset.IMMEDIATE)
    is_builtin = models.BooleanField(_("built in"), default=False, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.pk:
            before = CapacityProfile.objects.filter(pk=self.pk).values_list("reset", flat=True).first()
            if before and before != self.reset:
                raise ValidationError({"reset": _("The reset frequency cannot be changed after creation.")})


class WorkStream(models.Model):
    """How a channel's work is distributed: mode, presences, skills, capacity, wrap-up, affinity, fallback."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    channel_kind = models.CharField(_("channel"), max_length=16, choices=ChannelKind.choices)
    kind = models.CharField(_("type"), max_length=16, choices=QueueKind.choices, default=QueueKind.MESSAGING)
    distribution_mode = models.CharField(
        _("distribution mode"), max_length=8, choices=DistributionMode.choices, default=DistributionMode.PUSH,
        help_text=_("Cannot be changed after creation."),
    )
    allowed_presences = models.JSONField(
        _("allowed presences"), default=list, blank=True,
        help_text=_("Base presences that receive push offers; empty means Available and Busy."),
    )
    skill_match = models.CharField(_("skill matching"), max_length=8, choices=SkillMatch.choices, default=SkillMatch.EXACT)
    capacity_units = models.PositiveIntegerField(_("capacity cost (units)"), default=1)
    capacity_profiles = models.ManyToManyField(
        CapacityProfile, blank=True, related_name="work_streams", limit_choices_to={"is_builtin": False}
    )
    wrap_up_mode = models.CharField(_("wrap-up capacity"), max_length=8, choices=WrapUpMode.choices, default=WrapUpMode.ALWAYS)
    wrap_up_seconds = models.PositiveIntegerField(
        _("wrap-up block (s)"), default=0, help_text=_("For a custom block: 30 s to 60 min.")
    )
    keep_same_agent = models.BooleanField(_("keep same agent"), default=True)
    preferred_agents_first = models.BooleanField(_("offer to preferred agents first"), default=False)
    preferred_agents_fallback = models.CharField(
        _("when no preferred agent can take it"), max_length=8, choices=PreferredAgentsFallback.choices,
        default=PreferredAgentsFallback.ASSIGN,
        help_text=_("With preferred agents first: assign normally, or offer the item only to preferred agents."),
    )
    auto_accept = models.BooleanField(_("auto-accept offers"), default=False)
    reject_allowed = models.BooleanField(
        _("agents may reject offers"), default=True, help_text=_("Off: the offer dialog has no Decline button."),
    )
    offer_timeout_seconds = models.PositiveIntegerField(_("offer timeout (s)"), default=120)
    decline_limit = models.PositiveSmallIntegerField(
        _("decline limit"), default=3, validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("After this many declines the item leaves auto-assignment and is flagged."),
    )
    max_offers_per_agent = models.PositiveSmallIntegerField(
        _("offers per agent"), default=3, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    missed_offer_sets_inactive = models.BooleanField(_("missed offer sets Inactive"), default=False)
    waiting_timeout_minutes = models.PositiveIntegerField(_("waiting auto-close (min)"), default=60 * 24)
    fallback_queue = models.ForeignKey(
        Queue, on_delete=models.PROTECT, related_name="fallback_for", blank=True,
        help_text=_("Left blank: the system default queue of the work stream's type."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def effective_presences(self) -> list[str]:
        return list(self.allowed_presences or [BasePresence.AVAILABLE, BasePresence.BUSY])

    def clean(self) -> None:
        errors = {}
        if self.kind == QueueKind.VOICE and self.distribution_mode != DistributionMode.PUSH:
            errors["distribution_mode"] = _("Voice work streams only accept push.")
        if self.pk:
            before = WorkStream.objects.filter(pk=self.pk).values_list("distribution_mode", flat=True).first()
            if before and before != self.distribution_mode:
                errors["distribution_mode"] = _("The distribution mode cannot be changed after creation.")
        bad = [p for p in self.allowed_presences or [] if p not in BasePresence.values or p == BasePresence.INACTIVE]
        if bad:
            errors["allowed_presences"] = _("Unknown presences: %(p)s") % {"p": ", ".join(map(str, bad))}
        if self.missed_offer_sets_inactive and BasePresence.AWAY in (self.allowed_presences or []):
            errors["missed_offer_sets_inactive"] = _("Not allowed while Away is an allowed presence.")
        if self.preferred_agents_fallback == PreferredAgentsFallback.WAIT and not self.preferred_agents_first:
            errors["preferred_agents_fallback"] = _("Waiting for a preferred agent needs preferred agents first.")
        if self.wrap_up_mode == WrapUpMode.CUSTOM and not 30 <= self.wrap_up_seconds <= 3600:
            errors["wrap_up_seconds"] = _("A custom wrap-up block lasts 30 s to 60 min.")
        if self.fallback_queue_id is None:
            self.fallback_queue = Queue.default_for(self.kind)
        elif self.fallback_queue.kind != self.kind:
            errors["fallback_queue"] = _("The queue type must match the work stream type.")
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        if self.fallback_queue_id is None:
            self.fallback_queue = Queue.default_for(self.kind)  # A.2
        super().save(*args, **kwargs)


class AgentProfile(models.Model):
    """An agent's presence and capacity. The database refuses used capacity above capacity,
    except for units recorded as forced (supervisor force-assign, manual pick)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="routing_profile")
    presence = models.ForeignKey(Presence, on_delete=models.PROTECT, related_name="+")
    presence_manual = models.BooleanField(
        _("presence set by hand"), default=False, help_text=_("Off: presence follows the load.")
    )
    default_presence = models.ForeignKey(Presence, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    capacity_units = models.PositiveIntegerField(_("capacity (units)"), default=3)
    used_units = models.IntegerField(_("used units"), default=0)
    forced_units = models.IntegerField(_("units forced above capacity"), default=0)
    active_items = models.PositiveIntegerField(_("active items"), default=0)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    last_released_at = models.DateTimeField(null=True, blank=True)
    presence_changed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(used_units__lte=F("capacity_units") + F("forced_units")),
                name="routing_agent_capacity_not_exceeded",
            ),
            models.CheckConstraint(condition=Q(used_units__gte=0), name="routing_agent_used_not_negative"),
            models.CheckConstraint(condition=Q(forced_units__gte=0), name="routing_agent_forced_not_negative"),
        ]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def remaining_units(self) -> int:
        return self.capacity_units - self.used_units


class AgentCapacity(models.Model):
    """An agent's usage of one capacity profile; ``limit`` overrides the profile's default for new work."""

    agent = models.ForeignKey(AgentProfile, on_delete=models.CASCADE, related_name="profile_capacities")
    profile = models.ForeignKey(CapacityProfile, on_delete=models.CASCADE, related_name="agent_capacities")
    limit = models.PositiveIntegerField(_("limit"), null=True, blank=True)
    used = models.IntegerField(_("used"), default=0)
    forced = models.IntegerField(_("forced above limit"), default=0)

    class Meta:
        verbose_name_plural = _("agent capacities")
        constraints = [
            models.UniqueConstraint(fields=["agent", "profile"], name="routing_agentcapacity_unique"),
            models.CheckConstraint(condition=Q(used__gte=0), name="routing_agentcapacity_used_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.agent} · {self.profile}"


class QueueAgentMark(models.Model):
    """When an agent last got work from a queue: the per-queue round-robin order (B.21)."""

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_assigned_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["queue", "agent"], name="routing_queueagentmark_unique")]


class SingleIdRange(Func):
    """``[id, id]`` of an id column: GiST compares ranges with ``=`` without the btree_gist extension."""

    function = "INT8RANGE"
    output_field = BigIntegerRangeField()

    def __init__(self, field: str):
        super().__init__(F(field), F(field), Value("[]"))


class TimeRange(Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class AgentShift(models.Model):
    """One booking in an agent's shift calendar (B.26–B.27): working time, or an activity such as
    Lunch or Training that is not assignable. Custom assignment rules with "is working" read it;
    the out-of-the-box methods never do. An agent's bookings never overlap (the database refuses it)."""

    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="routing_shifts")
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    activity = models.CharField(_("activity"), max_length=50, default="Work")
    assignable = models.BooleanField(
        _("assignable"), default=True, help_text=_("Off for bookings such as Lunch or Training: no work is offered."),
    )

    class Meta:
        ordering = ["agent", "starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="routing_agentshift_ends_after_start",
                                   violation_error_message=_("A shift ends after it starts.")),
            ExclusionConstraint(
                name="routing_agentshift_no_overlap",
                expressions=[(SingleIdRange("agent"), RangeOperators.EQUAL),
                             (TimeRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS)],
                violation_error_message=_("This agent already has a shift at that time."),
            ),
        ]
        indexes = [models.Index(fields=["agent", "starts_at"], name="routing_shift_agent_start")]

    def __str__(self) -> str:
        return f"{self.agent} · {self.activity} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"

    def clean(self) -> None:
        if self.starts_at is None or self.ends_at is None:
            return
        if self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("A shift ends after it starts.")})
        if self.agent_id is None:
            return
        overlap = (
            AgentShift.objects.filter(agent_id=self.agent_id, starts_at__lt=self.ends_at, ends_at__gt=self.starts_at)
            .exclude(pk=self.pk).order_by("starts_at").first()
        )
        if overlap is not None:
            raise ValidationError({"starts_at": _("This overlaps the agent's shift %(shift)s.") % {"shift": overlap}})


class ClassificationRuleset(models.Model):
    """An ordered ruleset of a work stream; its first matching rule applies its outputs."""

    work_stream = models.ForeignKey(WorkStream, on_delete=models.CASCADE, related_name="rulesets")
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["work_stream", "order", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.work_stream_id and not self.pk:
            if ClassificationRuleset.objects.filter(work_stream_id=self.work_stream_id).count() >= MAX_RULESETS_PER_STREAM:
                raise ValidationError(_("A work stream has at most %(n)s rulesets.") % {"n": MAX_RULESETS_PER_STREAM})


class ClassificationRule(models.Model):
    """When all ``conditions`` hold: set ``outputs`` (≤ 5 attributes), add skills and a capacity profile.

    ``outputs`` keys: ``queue`` (queue id hint), ``priority`` (int, smaller first)
    or any custom attribute later rules can read as ``output.<key>``.
    ``skills``: ``[{"skill": <id>, "rating": <n>}]``.
    """

    ruleset = models.ForeignKey(ClassificationRuleset, on_delete=models.CASCADE, related_name="rules")
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveIntegerField(_("order"), default=0)
    conditions = models.JSONField(_("conditions"), default=list, blank=True, validators=[rule_conditions.validate_conditions])
    outputs = models.JSONField(_("outputs"), default=dict, blank=True)
    skills = models.JSONField(_("skills to add"), default=list, blank=True, validators=[rule_conditions.validate_skill_list])
    capacity_profile = models.ForeignKey(
        CapacityProfile, on_delete=models.SET_NULL, null=True, blank=True, limit_choices_to={"is_builtin": False}
    )

    class Meta:
        ordering = ["ruleset", "order", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.outputs, dict) or len(self.outputs) > 5:
            raise ValidationError({"outputs": _("Outputs are an object of at most 5 attributes.")})
        if "priority" in self.outputs and not isinstance(self.outputs["priority"], int):
            raise ValidationError({"outputs": _("The priority output is an integer.")})
        if "queue" in self.outputs and not Queue.objects.filter(pk=self.outputs["queue"]).exists():
            raise ValidationError({"outputs": _("The queue output names no queue.")})
        if self.ruleset_id and not self.pk:
            if ClassificationRule.objects.filter(ruleset_id=self.ruleset_id).count() >= MAX_RULES_PER_RULESET:
                raise ValidationError(_("A ruleset has at most %(n)s rules.") % {"n": MAX_RULES_PER_RULESET})


class RouteRule(models.Model):
    """A route-to-queue rule of a work stream: the first matching rule whose queue isn't overflowing wins.

    ``split`` (optional) sends the item to one of 1–5 queues by percentage:
    ``[{"queue": <id>, "percent": 60}, ...]`` summing to 100; otherwise ``queue``.
    """

    work_stream = models.ForeignKey(WorkStream, on_delete=models.CASCADE, related_name="route_rules")
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveIntegerField(_("order"), default=0)
    conditions = models.JSONField(_("conditions"), default=list, blank=True, validators=[rule_conditions.validate_conditions])
    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    split = models.JSONField(_("percentage split"), default=list, blank=True, validators=[rule_conditions.validate_split])

    class Meta:
        ordering = ["work_stream", "order", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if bool(self.queue_id) == bool(self.split):
            raise ValidationError(_("Give either a queue or a percentage split."))
        queue_ids = [self.queue_id] if self.queue_id else [part["queue"] for part in self.split]
        queues = list(Queue.objects.filter(pk__in=queue_ids))
        if len(queues) != len(set(queue_ids)):
            raise ValidationError({"split": _("A split names an unknown queue.")})
        if self.work_stream_id and any(q.kind != self.work_stream.kind for q in queues):
            raise ValidationError(_("The queue type must match the work stream type."))


class OverflowRule(models.Model):
    """A condition → action pair, checked before queueing (once) or while queued.

    It belongs to exactly one owner: a queue (its pairs for every item routed
    there) or a route rule (E.59, rule-specific overflow): a route rule's pairs
    of a stage replace the queue's pairs of that stage for the items the rule
    routes, in whichever of its queues they land, while they stay there.

    A queue with operating hours has exactly one queue-level "out of operating
    hours" pre-queue pair, created with the hours (E.58, action "assign
    anyway"): it is locked (``is_locked``): its condition, stage and queue
    cannot change and it cannot be deleted, but its action can.
    """

    queue = models.ForeignKey(
        Queue, on_delete=models.CASCADE, null=True, blank=True, related_name="overflow_rules",
        help_text=_("Queue-level pair; empty for a route rule's own pair."),
    )
    route_rule = models.ForeignKey(
        RouteRule, on_delete=models.CASCADE, null=True, blank=True, related_name="overflow_rules",
        help_text=_("Rule-specific pair: replaces the queue's pairs of this stage for items this rule routes."),
    )
    stage = models.CharField(_("stage"), max_length=16, choices=OverflowStage.choices, default=OverflowStage.PRE_QUEUE)
    condition = models.CharField(_("condition"), max_length=16, choices=OverflowCondition.choices)
    threshold = models.PositiveIntegerField(_("threshold"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=16, choices=OverflowAction.choices)
    target_queue = models.ForeignKey(Queue, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    message = models.CharField(_("message to the customer"), max_length=500, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["queue", "route_rule", "stage", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(queue__isnull=False, route_rule__isnull=True)
                | Q(queue__isnull=True, route_rule__isnull=False),
                name="routing_overflowrule_one_owner",
                violation_error_message=_("An overflow pair belongs to either a queue or a route rule."),
            ),
            models.UniqueConstraint(
                fields=["queue"], condition=Q(stage=OverflowStage.PRE_QUEUE, condition=OverflowCondition.OUT_OF_HOURS),
                name="routing_overflowrule_one_hours_pair_per_queue",
                violation_error_message=_("A queue has one out-of-hours pair; edit its action instead."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.queue or self.route_rule}: {self.get_condition_display()} → {self.get_action_display()}"

    @property
    def is_hours_pair(self) -> bool:
        """Whether this is a queue's own "out of operating hours" pre-queue pair (E.58)."""
        return (self.queue is not None and self.stage == OverflowStage.PRE_QUEUE
                and self.condition == OverflowCondition.OUT_OF_HOURS)

    @property
    def is_locked(self) -> bool:
        """E.58: the hours pair of a queue that has operating hours: only its action may change."""
        return self.is_hours_pair and self.queue.operating_hours_id is not None

    def _owner_kind(self) -> str:
        """The queue type the pair is checked against: its queue's, or its route rule's work stream's."""
        if self.queue is not None:
            return self.queue.kind
        if self.route_rule is not None and self.route_rule.work_stream_id:
            return self.route_rule.work_stream.kind
        return QueueKind.MESSAGING

    def clean(self) -> None:
        errors = {}
        # The related objects, not their ids: an admin inline's parent may not be saved yet.
        if (self.queue is None) == (self.route_rule is None):
            errors["route_rule"] = _("An overflow pair belongs to either a queue or a route rule.")
        kind = self._owner_kind()
        errors.update(self._hours_pair_errors())
        if self.stage == OverflowStage.PRE_QUEUE:
            if self.condition == OverflowCondition.WAIT_EXCEEDS:
                errors["condition"] = _("Waiting time is an in-queue condition.")
            if self.action not in PRE_QUEUE_ACTIONS[kind]:
                errors["action"] = _("This action is not available for this queue type.")
            if self.condition == OverflowCondition.ITEM_LIMIT and not (self.threshold and 1 <= self.threshold <= 100):
                errors["threshold"] = _("The work-item limit is 1 to 100.")
            if self.condition == OverflowCondition.PREDICTED_WAIT and not (
                self.threshold and 30 <= self.threshold <= 3600
            ):
                errors["threshold"] = _("The predicted wait is 30 s to 60 min.")
        else:
            if self.condition != OverflowCondition.WAIT_EXCEEDS:
                errors["condition"] = _("In-queue overflow checks the waiting time.")
            low, high = IN_QUEUE_WAIT_RANGE[kind]
            if not (self.threshold and low <= self.threshold <= high):
                errors["threshold"] = _("Allowed: %(low)s s to %(high)s s.") % {"low": low, "high": high}
            if self.action == OverflowAction.ASSIGN_ANYWAY:
                errors["action"] = _("An in-queue item is already waiting for assignment.")
        if self.action == OverflowAction.TRANSFER_QUEUE:
            if not self.target_queue_id:
                errors["target_queue"] = _("Choose the queue to transfer to.")
            elif self.target_queue.kind != kind:
                errors["target_queue"] = _("The queue type must match.")
        if errors:
            raise ValidationError(errors)

    def _hours_pair_errors(self) -> dict:
        """E.58: the locked hours pair keeps its queue, stage and condition; a queue with hours has no second one."""
        stored = OverflowRule.objects.select_related("queue").filter(pk=self.pk).first() if self.pk else None
        if stored is not None and stored.is_locked:
            if (self.queue_id, self.stage, self.condition) != (stored.queue_id, stored.stage, stored.condition):
                return {"condition": _("The out-of-hours pair of a queue with operating hours is locked: "
                                       "only its action can change.")}
            return {}
        if self.is_locked:
            return {"condition": _("This queue's out-of-hours pair comes with its operating hours; "
                                   "edit its action instead.")}
        if self.is_hours_pair:
            return {"condition": _("The queue has no operating hours: it is never out of them.")}
        return {}


class AssignmentRule(models.Model):
    """A custom-method rule of a queue: agents meeting ``conditions``, ordered by ``order_by``.

    Conditions are over the agent: ``presence``, ``remaining_capacity``,
    ``skills`` (op ``exact``), ``agent.<attribute>`` or ``user.<field>``, and the
    checks ``capacity available`` and ``calendar is_working`` (see ``routing.conditions``).
    Unit capacity is enforced only by ``capacity available`` (B.23).
    """

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="assignment_rules")
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveIntegerField(_("order"), default=0)
    conditions = models.JSONField(_("conditions"), default=list, blank=True, validators=[rule_conditions.validate_agent_conditions])
    order_by = models.CharField(_("order by"), max_length=24, choices=OrderBy.choices, default=OrderBy.ROUND_ROBIN)
    order_field = models.CharField(
        _("order by field"), max_length=100, blank=True, validators=[rule_conditions.validate_order_field],
        help_text=_("With order by an agent field: agent.<attribute> or user.<field>; - in front for descending."),
    )

    class Meta:
        ordering = ["queue", "order", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.order_by == OrderBy.AGENT_FIELD and not self.order_field:
            raise ValidationError({"order_field": _("Name the field to order by.")})
        if self.order_by != OrderBy.AGENT_FIELD and self.order_field:
            raise ValidationError({"order_field": _("Only used when ordering by an agent field.")})


class AutoCloseTimer(models.Model):
    """E.67: after how many minutes without a message a conversation of a channel family in a state
    is closed by the sweep (a voice call active that long goes to wrap-up instead).

    The set of timers is fixed (created by a migration); only the minutes change.
    Waiting conversations follow their work stream's inactivity setting instead.
    """

    family = models.CharField(_("channels"), max_length=8, choices=ChannelFamily.choices, editable=False)
    status = models.CharField(_("conversation state"), max_length=16, choices=ConversationStatus.choices, editable=False)
    minutes = models.PositiveIntegerField(_("minutes"), validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["family", "status"]
        constraints = [models.UniqueConstraint(fields=["family", "status"], name="routing_one_timer_per_state")]

    def __str__(self) -> str:
        return f"{self.get_family_display()} {self.status}: {self.minutes} min"


class PrioritizationRule(models.Model):
    """A bucket of a custom-method queue's prioritization ruleset (B.24).

    An item lands in the first rule (by ``order``) whose conditions hold for
    it and is sorted within that bucket by ``order_by``; items no rule takes
    come last, oldest first. Conditions use the work-item fields of
    classification rules (``priority``, ``sentiment``, ``case.priority``,
    ``contact.is_vip`` ...) except the customer's text.
    """

    queue = models.ForeignKey(Queue, on_delete=models.CASCADE, related_name="prioritization_rules")
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveIntegerField(_("order"), default=0)
    conditions = models.JSONField(_("conditions"), default=list, blank=True,
                                  validators=[rule_conditions.validate_item_conditions])
    order_by = models.CharField(_("order by"), max_length=16, choices=PrioritizationOrder.choices,
                                default=PrioritizationOrder.OLDEST)

    class Meta:
        ordering = ["queue", "order", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if self.queue_id and self.queue.assignment_method != AssignmentMethod.CUSTOM:
            raise ValidationError({"queue": _("Prioritization rules belong to queues with the custom assignment method.")})
        if self.queue_id and not self.pk and self.queue.prioritization_rules.count() >= MAX_RULES_PER_RULESET:
            raise ValidationError({"queue": _("A queue has at most %(n)s prioritization rules.") % {"n": MAX_RULES_PER_RULESET}})


class WorkItem(models.Model):
    """One conversation (or case) waiting for, offered to, or handled by an agent.

    At most one agent holds it (``agent``); one open work item per conversation.
    """

    conversation = models.ForeignKey("crm.Conversation", on_delete=models.CASCADE, related_name="work_items")
    case = models.ForeignKey("crm.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="work_items")
    work_stream = models.ForeignKey(WorkStream, on_delete=models.PROTECT, related_name="work_items")
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="work_items")
    status = models.CharField(_("status"), max_length=16, choices=WorkItemStatus.choices, default=WorkItemStatus.QUEUED)
    priority = models.IntegerField(_("priority"), default=10, help_text=_("A smaller number is served first."))
    required_skills = models.JSONField(_("required skills"), default=list, blank=True)
    skill_match = models.CharField(_("skill matching"), max_length=8, choices=SkillMatch.choices, default=SkillMatch.EXACT)
    capacity_units = models.PositiveIntegerField(_("capacity cost"), default=1)
    capacity_profiles = models.JSONField(_("capacity profile ids"), default=list, blank=True)
    sentiment = models.SmallIntegerField(_("sentiment"), null=True, blank=True)
    effort_minutes = models.FloatField(_("predicted effort (min)"), null=True, blank=True)
    effort_confidence = models.FloatField(_("effort confidence"), null=True, blank=True)
    attributes = models.JSONField(_("customer attributes used"), default=dict, blank=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="work_items"
    )
    affinity_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    preferred_agents = models.JSONField(
        _("preferred agent ids"), default=list, blank=True,
        help_text=_("The contact's preferred agents (B.33), tried first when they are members of the queue."),
    )
    auto_assign = models.BooleanField(_("auto-assignment"), default=True)
    flagged = models.BooleanField(_("flagged to supervisors"), default=False)
    decline_count = models.PositiveIntegerField(_("declines"), default=0)
    declines = models.JSONField(_("declines per agent"), default=dict, blank=True)
    capacity_held = models.BooleanField(default=False, editable=False)
    forced_units = models.PositiveIntegerField(default=0, editable=False)
    is_callback = models.BooleanField(_("callback"), default=False)
    call_mode = models.CharField(
        _("call in progress"), max_length=8, choices=CallMode.choices, blank=True, editable=False,
        help_text=_("The voice or video call this chat is escalated to; it holds the Escalation profile."),
    )
    overflow_checked = models.BooleanField(default=False, editable=False)
    route_rule = models.ForeignKey(
        RouteRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="work_items",
        help_text=_("The route rule that put the item in its current queue; its own overflow pairs apply "
                    "while the item stays there (E.59). Empty after a move to another queue (E.61)."),
    )
    outcome = models.CharField(_("outcome"), max_length=32, blank=True)
    order_at = models.DateTimeField(_("ordering time"), help_text=_("FIFO key: last customer interaction."))
    queued_at = models.DateTimeField(_("queued"))
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    wrap_up_release_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation"],
                condition=Q(status__in=[WorkItemStatus.QUEUED, WorkItemStatus.OFFERED, WorkItemStatus.ASSIGNED]),
                name="routing_workitem_one_open_per_conversation",
            ),
            models.CheckConstraint(
                condition=Q(status=WorkItemStatus.QUEUED) | Q(agent__isnull=False)
                | Q(status__in=[WorkItemStatus.COMPLETED, WorkItemStatus.ABANDONED]),
                name="routing_workitem_offered_or_assigned_has_agent",
            ),
        ]
        indexes = [
            models.Index(fields=["queue", "status", "priority", "order_at"], name="routing_wi_queue_order"),
            models.Index(fields=["status", "offer_expires_at"], name="routing_wi_offer_expiry"),
            models.Index(fields=["agent", "status"], name="routing_wi_agent_status"),
        ]

    def __str__(self) -> str:
        return f"Work item #{self.pk} ({self.get_status_display()})"


class Offer(models.Model):
    """One push offer of a work item to an agent and how it ended; at most one pending per item."""

    workitem = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="offers")
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=16, choices=OfferOutcome.choices, default=OfferOutcome.PENDING)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    offered_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["offered_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workitem"], condition=Q(outcome=OfferOutcome.PENDING), name="routing_offer_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.workitem_id} → {self.agent} ({self.outcome})"


class ConversationSession(models.Model):
    """One stretch of a conversation's routing with one queue and at most one primary agent (E.69).

    A conversation has 1..n sessions; a new one starts on escalation into
    routing, transfer, reject, timeout, release and force-assign. ``agent`` is
    the primary (empty while queued); consults and monitors are its
    ``participants``. At most one session per conversation is open.
    """

    conversation = models.ForeignKey("crm.Conversation", on_delete=models.CASCADE, related_name="routing_sessions")
    workitem = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="sessions")
    queue = models.ForeignKey(Queue, on_delete=models.PROTECT, related_name="sessions")
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="routing_sessions"
    )
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    closure_reason = models.CharField(_("closure reason"), max_length=32, choices=SessionClosure.choices, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation"], condition=Q(ended_at__isnull=True),
                name="routing_session_one_open_per_conversation",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True, closure_reason="")
                | (Q(ended_at__isnull=False) & ~Q(closure_reason="")),
                name="routing_session_closed_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "started_at"], name="routing_session_conversation"),
            models.Index(fields=["agent", "started_at"], name="routing_session_agent_period"),
        ]

    def __str__(self) -> str:
        state = self.get_closure_reason_display() if self.ended_at else _("open")
        return f"Session #{self.pk} of conversation {self.conversation_id} ({state})"


class Participant(models.Model):
    """An agent taking part in a work item besides its holder: consults use no capacity.

    ``session`` is the conversation session they joined (E.69); they leave it at the latest when it ends.
    """

    workitem = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="participants")
    session = models.ForeignKey(
        ConversationSession, on_delete=models.SET_NULL, null=True, blank=True, related_name="participants"
    )
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(_("role"), max_length=16, choices=ParticipantRole.choices, default=ParticipantRole.CONSULT)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    joined_at = models.DateTimeField(auto_now_add=True)
    left_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.agent} ({self.role})"


class RoutingDiagnostic(models.Model):
    """The trace of one routing decision: rules matched, queue chosen, agents eligible or not and why."""

    workitem = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="diagnostics")
    stage = models.CharField(_("stage"), max_length=16, choices=DiagnosticStage.choices)
    summary = models.CharField(_("summary"), max_length=500)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_stage_display()}: {self.summary}"


class EffortModel(models.Model):
    """A fitted handle-time model (linear, over channel, queue and text features); the newest is used."""

    coefficients = models.JSONField(default=dict)
    sample_count = models.PositiveIntegerField(default=0)
    r_squared = models.FloatField(default=0.0)
    trained_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-trained_at", "-id"]
        get_latest_by = "trained_at"

    def __str__(self) -> str:
        return f"Effort model of {self.trained_at:%Y-%m-%d %H:%M} ({self.sample_count} samples)"

from __future__ import annotations

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from crm.choices import ChannelKind
from routing import models
from routing.choices import CallMode


class CleanModelSerializer(serializers.ModelSerializer):
    """Runs the model's own validation (field validators and ``clean``), so the API and
    the admin accept and refuse exactly the same configuration."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        many = {f.name for f in model._meta.many_to_many}
        instance = copy.copy(self.instance) if self.instance is not None else model()
        for key, value in attrs.items():
            if key not in many:
                setattr(instance, key, value)
        try:
            instance.full_clean(exclude=list(many), validate_unique=False)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs


class OperatingHoursSerializer(CleanModelSerializer):
    class Meta:
        model = models.OperatingHours
        fields = ["id", "name", "timezone", "weekly"]


class HolidaySerializer(CleanModelSerializer):
    class Meta:
        model = models.Holiday
        fields = ["id", "hours", "date", "name"]


class QueueSerializer(CleanModelSerializer):
    class Meta:
        model = models.Queue
        fields = [
            "id", "name", "kind", "priority", "members", "assignment_method", "operating_hours",
            "service_level_seconds", "short_abandon_seconds", "is_active", "is_default", "created_at",
        ]
        read_only_fields = ["members", "is_default", "created_at"]


class MembershipSerializer(serializers.Serializer):
    agent = serializers.IntegerField(min_value=1)


class SkillSerializer(CleanModelSerializer):
    class Meta:
        model = models.Skill
        fields = ["id", "name", "skill_type", "rating_max"]


class AgentSkillSerializer(CleanModelSerializer):
    class Meta:
        model = models.AgentSkill
        fields = ["id", "agent", "skill", "rating"]


class PresenceSerializer(CleanModelSerializer):
    class Meta:
        model = models.Presence
        fields = ["id", "name", "base", "is_builtin", "selectable"]
        read_only_fields = ["is_builtin"]


class CapacityProfileSerializer(CleanModelSerializer):
    class Meta:
        model = models.CapacityProfile
        fields = ["id", "name", "default_limit", "reset", "is_builtin"]
        read_only_fields = ["is_builtin"]


class WorkStreamSerializer(CleanModelSerializer):
    class Meta:
        model = models.WorkStream
        fields = [
            "id", "name", "channel_kind", "kind", "distribution_mode", "allowed_presences", "skill_match",
            "capacity_units", "capacity_profiles", "wrap_up_mode", "wrap_up_seconds", "keep_same_agent",
            "preferred_agents_first", "preferred_agents_fallback", "auto_accept", "reject_allowed",
            "offer_timeout_seconds", "decline_limit", "max_offers_per_agent",
            "missed_offer_sets_inactive", "waiting_timeout_minutes", "fallback_queue", "created_at",
        ]
        read_only_fields = ["created_at"]


class AgentProfileSerializer(serializers.ModelSerializer):
    presence_name = serializers.CharField(source="presence.name", read_only=True)
    presence_base = serializers.CharField(source="presence.base", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = models.AgentProfile
        fields = [
            "id", "user", "username", "presence", "presence_name", "presence_base", "presence_manual",
            "capacity_units", "used_units", "forced_units", "active_items", "attributes",
            "last_assigned_at", "last_released_at",
        ]
        read_only_fields = fields


class AgentShiftSerializer(CleanModelSerializer):
    class Meta:
        model = models.AgentShift
        fields = ["id", "agent", "starts_at", "ends_at", "activity", "assignable"]


class PresenceInputSerializer(serializers.Serializer):
    presence = serializers.CharField(max_length=50, help_text="A presence id, name, or base value (available, busy...).")


class CapacityInputSerializer(serializers.Serializer):
    capacity_units = serializers.IntegerField(min_value=0, max_value=1000)


class ClassificationRulesetSerializer(CleanModelSerializer):
    class Meta:
        model = models.ClassificationRuleset
        fields = ["id", "work_stream", "name", "order", "is_active"]


class ClassificationRuleSerializer(CleanModelSerializer):
    class Meta:
        model = models.ClassificationRule
        fields = ["id", "ruleset", "name", "order", "conditions", "outputs", "skills", "capacity_profile"]


class RouteRuleSerializer(CleanModelSerializer):
    class Meta:
        model = models.RouteRule
        fields = ["id", "work_stream", "name", "order", "conditions", "queue", "split"]


class OverflowRuleSerializer(CleanModelSerializer):
    class Meta:
        model = models.OverflowRule
        fields = [
            "id", "queue", "route_rule", "stage", "condition", "threshold", "action", "target_queue", "message",
            "order", "is_locked",
        ]
        read_only_fields = ["is_locked"]
        # The one-hours-pair-per-queue constraint is checked by the model (E.58), with a field message.
        validators = []


class AssignmentRuleSerializer(CleanModelSerializer):
    class Meta:
        model = models.AssignmentRule
        fields = ["id", "queue", "name", "order", "conditions", "order_by", "order_field"]


class AutoCloseTimerSerializer(CleanModelSerializer):
    class Meta:
        model = models.AutoCloseTimer
        fields = ["id", "family", "status", "minutes"]
        read_only_fields = ["family", "status"]


class PrioritizationRuleSerializer(CleanModelSerializer):
    class Meta:
        model = models.PrioritizationRule
        fields = ["id", "queue", "name", "order", "conditions", "order_by"]


class OfferSerializer(serializers.ModelSerializer):
    class Meta:
        model = models.Offer
        fields = ["id", "agent", "outcome", "reason", "offered_at", "expires_at", "answered_at"]
        read_only_fields = fields


class WorkItemSerializer(serializers.ModelSerializer):
    queue_name = serializers.CharField(source="queue.name", read_only=True)
    channel_kind = serializers.CharField(source="conversation.channel_kind", read_only=True)

    class Meta:
        model = models.WorkItem
        fields = [
            "id", "conversation", "case", "work_stream", "queue", "queue_name", "channel_kind", "status", "priority",
            "required_skills", "skill_match", "capacity_units", "capacity_profiles", "sentiment", "effort_minutes",
            "effort_confidence", "attributes", "agent", "affinity_agent", "preferred_agents", "auto_assign", "flagged",
            "decline_count",
            "declines", "is_callback", "call_mode", "outcome", "route_rule", "order_at", "queued_at", "offered_at",
            "offer_expires_at", "assigned_at", "completed_at",
        ]
        read_only_fields = fields


class DiagnosticSerializer(serializers.ModelSerializer):
    class Meta:
        model = models.RoutingDiagnostic
        fields = ["id", "stage", "summary", "detail", "created_at"]
        read_only_fields = fields


class ParticipantSerializer(serializers.ModelSerializer):
    class Meta:
        model = models.Participant
        fields = ["id", "agent", "role", "invited_by", "joined_at", "left_at"]
        read_only_fields = fields


class SessionSerializer(serializers.ModelSerializer):
    """A conversation session (E.69): its queue, primary agent, consult/monitor participants and closure."""

    queue_name = serializers.CharField(source="queue.name", read_only=True)
    participants = ParticipantSerializer(many=True, read_only=True)

    class Meta:
        model = models.ConversationSession
        fields = ["id", "conversation", "workitem", "queue", "queue_name", "agent", "started_at", "ended_at",
                  "closure_reason", "participants"]
        read_only_fields = fields


class DeclineInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class AgentInputSerializer(serializers.Serializer):
    agent = serializers.IntegerField(min_value=1)


class TransferInputSerializer(serializers.Serializer):
    queue = serializers.IntegerField(min_value=1, required=False)
    agent = serializers.IntegerField(min_value=1, required=False)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if ("queue" in attrs) == ("agent" in attrs):
            raise serializers.ValidationError("Give either a queue or an agent.")
        return attrs


class CallInputSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=CallMode.choices)


class QueueStatsSerializer(serializers.Serializer):
    queue_id = serializers.IntegerField()
    name = serializers.CharField()
    queued = serializers.IntegerField()
    offered = serializers.IntegerField()
    assigned = serializers.IntegerField()
    flagged = serializers.IntegerField()
    longest_wait_seconds = serializers.IntegerField()
    staffed_agents = serializers.IntegerField()


class DryRunInputSerializer(serializers.Serializer):
    channel_kind = serializers.ChoiceField(choices=ChannelKind.choices)
    text = serializers.CharField(max_length=4000)
    contact = serializers.IntegerField(min_value=1, required=False)
    context = serializers.DictField(required=False, default=dict)

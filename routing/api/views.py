"""The routing API (thin): configuration CRUD with model validation, work items, presence, queue stats."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from contactcenter.api.permissions import HasScope
from contactcenter.permissions import is_supervisor
from routing import models, selectors, services
from routing.api import serializers as s
from routing.exceptions import NotPermitted


class SupervisorWrites(permissions.BasePermission):
    """Configuration is read by all staff and changed by supervisors and administrators."""

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or is_supervisor(request.user)


class ConfigViewSet(viewsets.ModelViewSet):
    permission_classes = [HasScope, SupervisorWrites]


class OperatingHoursViewSet(ConfigViewSet):
    queryset = models.OperatingHours.objects.prefetch_related("holidays").order_by("name")
    serializer_class = s.OperatingHoursSerializer

    def perform_destroy(self, instance):
        services.operating_hours_delete(hours=instance)


class HolidayViewSet(ConfigViewSet):
    queryset = models.Holiday.objects.order_by("date")
    serializer_class = s.HolidaySerializer
    filterset_fields = ["hours"]


class QueueViewSet(ConfigViewSet):
    queryset = models.Queue.objects.prefetch_related("members").order_by("priority", "name")
    serializer_class = s.QueueSerializer
    filterset_fields = ["kind", "is_active"]

    def perform_create(self, serializer):
        serializer.instance = services.queue_save(queue=models.Queue(**serializer.validated_data))

    def perform_update(self, serializer):
        for field, value in serializer.validated_data.items():
            setattr(serializer.instance, field, value)
        services.queue_save(queue=serializer.instance)

    def perform_destroy(self, instance):
        if instance.is_default:
            raise NotPermitted("A system default queue cannot be deleted.")
        instance.delete()

    @extend_schema(request=s.MembershipSerializer, responses=s.QueueSerializer)
    @action(detail=True, methods=["post"], url_path="members/add")
    def add_member(self, request, pk=None):
        queue = self.get_object()
        data = s.MembershipSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agent = get_object_or_404(get_user_model(), pk=data.validated_data["agent"])
        services.queue_member_add(queue=queue, agent=agent)
        return Response(s.QueueSerializer(self.get_queryset().get(pk=queue.pk)).data)

    @extend_schema(request=s.MembershipSerializer, responses=s.QueueSerializer)
    @action(detail=True, methods=["post"], url_path="members/remove")
    def remove_member(self, request, pk=None):
        queue = self.get_object()
        data = s.MembershipSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agent = get_object_or_404(get_user_model(), pk=data.validated_data["agent"])
        services.queue_member_remove(queue=queue, agent=agent)
        return Response(s.QueueSerializer(self.get_queryset().get(pk=queue.pk)).data)

    @extend_schema(responses=s.QueueStatsSerializer(many=True))
    @action(detail=False, methods=["get"])
    def stats(self, request):
        return Response(s.QueueStatsSerializer(selectors.queue_stats(), many=True).data)


class SkillViewSet(ConfigViewSet):
    queryset = models.Skill.objects.order_by("skill_type", "name")
    serializer_class = s.SkillSerializer


class AgentSkillViewSet(ConfigViewSet):
    queryset = models.AgentSkill.objects.order_by("agent_id", "skill_id")
    serializer_class = s.AgentSkillSerializer
    filterset_fields = ["agent", "skill"]


class PresenceViewSet(ConfigViewSet):
    queryset = models.Presence.objects.order_by("base", "name")
    serializer_class = s.PresenceSerializer

    def perform_destroy(self, instance):
        if instance.is_builtin:
            raise NotPermitted("Built-in presences cannot be deleted.")
        instance.delete()


class CapacityProfileViewSet(ConfigViewSet):
    queryset = models.CapacityProfile.objects.order_by("name")
    serializer_class = s.CapacityProfileSerializer

    def perform_update(self, serializer):
        if serializer.instance.is_builtin:
            raise NotPermitted("Built-in capacity profiles cannot be changed.")
        serializer.save()

    def perform_destroy(self, instance):
        if instance.is_builtin:
            raise NotPermitted("Built-in capacity profiles cannot be deleted.")
        instance.delete()


class WorkStreamViewSet(ConfigViewSet):
    queryset = models.WorkStream.objects.prefetch_related("capacity_profiles").order_by("name")
    serializer_class = s.WorkStreamSerializer

    @extend_schema(request=s.DryRunInputSerializer, responses=dict)
    @action(detail=False, methods=["post"], url_path="dry-run", permission_classes=[HasScope])
    def dry_run(self, request):
        """Which queue and agent a sample conversation would get now, and why. Changes nothing."""
        data = s.DryRunInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contact = None
        if "contact" in data.validated_data:
            from crm.selectors import contacts_visible_to

            contact = get_object_or_404(contacts_visible_to(request.user), pk=data.validated_data["contact"])
        return Response(services.routing_dry_run(
            channel_kind=data.validated_data["channel_kind"], text=data.validated_data["text"],
            context=data.validated_data["context"], contact=contact,
        ))


class ClassificationRulesetViewSet(ConfigViewSet):
    queryset = models.ClassificationRuleset.objects.order_by("work_stream_id", "order", "id")
    serializer_class = s.ClassificationRulesetSerializer
    filterset_fields = ["work_stream"]


class ClassificationRuleViewSet(ConfigViewSet):
    queryset = models.ClassificationRule.objects.order_by("ruleset_id", "order", "id")
    serializer_class = s.ClassificationRuleSerializer
    filterset_fields = ["ruleset"]


class RouteRuleViewSet(ConfigViewSet):
    queryset = models.RouteRule.objects.order_by("work_stream_id", "order", "id")
    serializer_class = s.RouteRuleSerializer
    filterset_fields = ["work_stream"]


class OverflowRuleViewSet(ConfigViewSet):
    queryset = models.OverflowRule.objects.select_related("queue").order_by(
        "queue_id", "route_rule_id", "stage", "order", "id")
    serializer_class = s.OverflowRuleSerializer
    filterset_fields = ["queue", "route_rule", "stage"]

    def perform_destroy(self, instance):
        if instance.is_locked:
            raise NotPermitted("The out-of-hours pair of a queue with operating hours cannot be deleted.")
        instance.delete()


class AssignmentRuleViewSet(ConfigViewSet):
    queryset = models.AssignmentRule.objects.order_by("queue_id", "order", "id")
    serializer_class = s.AssignmentRuleSerializer
    filterset_fields = ["queue"]


class AutoCloseTimerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                            viewsets.GenericViewSet):
    """E.67's auto-close timers: a fixed set, read by staff; supervisors change their minutes."""

    permission_classes = [HasScope, SupervisorWrites]
    queryset = models.AutoCloseTimer.objects.order_by("family", "status")
    serializer_class = s.AutoCloseTimerSerializer


class PrioritizationRuleViewSet(ConfigViewSet):
    queryset = models.PrioritizationRule.objects.order_by("queue_id", "order", "id")
    serializer_class = s.PrioritizationRuleSerializer
    filterset_fields = ["queue"]


class AgentShiftViewSet(ConfigViewSet):
    """Shift calendars (B.26–B.27): supervisors write; an agent reads their own."""

    serializer_class = s.AgentShiftSerializer
    filterset_fields = {"agent": ["exact"], "assignable": ["exact"], "starts_at": ["gte", "lt"]}

    def get_queryset(self):
        return selectors.shifts_visible_to(self.request.user).order_by("agent_id", "starts_at")


class AgentProfileViewSet(viewsets.ReadOnlyModelViewSet):
    """Agents read their own profile; supervisors everyone's. Presence and capacity change via actions."""

    permission_classes = [HasScope]
    serializer_class = s.AgentProfileSerializer

    def get_queryset(self):
        return selectors.agent_profiles_visible_to(self.request.user).order_by("user__username")

    @extend_schema(responses=s.AgentProfileSerializer)
    @action(detail=False, methods=["get"])
    def me(self, request):
        return Response(s.AgentProfileSerializer(services.agent_profile_ensure(agent=request.user)).data)

    @extend_schema(request=s.PresenceInputSerializer, responses=s.AgentProfileSerializer)
    @action(detail=True, methods=["post"])
    def presence(self, request, pk=None):
        profile = self.get_object()
        data = s.PresenceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        value = data.validated_data["presence"]
        target = models.Presence.objects.filter(pk=int(value)).first() if value.isdigit() else value
        if target is None:
            from routing.exceptions import PresenceNotSelectable

            raise PresenceNotSelectable()
        services.presence_set(agent=profile.user, presence=target)
        return Response(s.AgentProfileSerializer(self.get_queryset().get(pk=profile.pk)).data)

    @extend_schema(request=s.CapacityInputSerializer, responses=s.AgentProfileSerializer)
    @action(detail=True, methods=["post"])
    def capacity(self, request, pk=None):
        if not is_supervisor(request.user):
            raise NotPermitted()
        profile = self.get_object()
        data = s.CapacityInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.agent_capacity_set(agent=profile.user, capacity_units=data.validated_data["capacity_units"])
        return Response(s.AgentProfileSerializer(self.get_queryset().get(pk=profile.pk)).data)


class WorkItemViewSet(viewsets.ReadOnlyModelViewSet):
    """Work items visible to the user; offer answers, pick, release, transfer, force-assign and the
    chat-to-call escalation (D.48) as actions."""

    permission_classes = [HasScope]
    serializer_class = s.WorkItemSerializer
    filterset_fields = ["status", "queue", "agent", "flagged", "conversation"]

    def get_queryset(self):
        return selectors.workitems_visible_to(self.request.user).order_by("-queued_at", "-id")

    def _agent(self, request, key="agent"):
        data = s.AgentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return get_object_or_404(get_user_model(), pk=data.validated_data[key])

    def _done(self, item):
        return Response(s.WorkItemSerializer(models.WorkItem.objects.get(pk=item.pk)).data)

    @extend_schema(responses=s.DiagnosticSerializer(many=True))
    @action(detail=True, methods=["get"])
    def diagnostics(self, request, pk=None):
        item = self.get_object()
        return Response(s.DiagnosticSerializer(
            selectors.diagnostics_for(user=request.user, workitem_id=item.pk), many=True).data)

    @extend_schema(responses=s.SessionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def sessions(self, request, pk=None):
        """The conversation sessions of this work item (E.69), oldest first."""
        item = self.get_object()
        return Response(s.SessionSerializer(
            selectors.sessions_for(user=request.user, workitem_id=item.pk), many=True).data)

    @action(detail=True, methods=["get"])
    def explain(self, request, pk=None):
        """A dry run: which agent would get this item now, and why the others would not."""
        return Response(services.workitem_explain(workitem=self.get_object()))

    @extend_schema(request=None, responses=s.WorkItemSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._done(services.offer_accept(workitem=self.get_object(), agent=request.user))

    @extend_schema(request=s.DeclineInputSerializer, responses=s.WorkItemSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        data = s.DeclineInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.offer_decline(workitem=self.get_object(), agent=request.user,
                                      reason=data.validated_data["reason"])
        return self._done(item)

    @extend_schema(request=None, responses=s.WorkItemSerializer)
    @action(detail=True, methods=["post"])
    def pick(self, request, pk=None):
        return self._done(services.workitem_pick(workitem=self.get_object(), agent=request.user))

    @extend_schema(request=s.DeclineInputSerializer, responses=s.WorkItemSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        item = self.get_object()
        if item.agent_id != request.user.pk and not is_supervisor(request.user):
            raise NotPermitted()
        data = s.DeclineInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._done(services.workitem_release(workitem=item, actor=request.user,
                                                    reason=data.validated_data["reason"]))

    @extend_schema(request=s.AgentInputSerializer, responses=s.WorkItemSerializer)
    @action(detail=True, methods=["post"], url_path="force-assign")
    def force_assign(self, request, pk=None):
        item = self.get_object()
        return self._done(services.workitem_force_assign(workitem=item, agent=self._agent(request), actor=request.user))

    @extend_schema(request=None, responses=s.WorkItemSerializer)
    @action(detail=True, methods=["post"])
    def reroute(self, request, pk=None):
        """Supervisors: run classification and route-to-queue again for a waiting item (A.6)."""
        return self._done(services.workitem_reroute(workitem=self.get_object(), actor=request.user))

    @extend_schema(request=s.TransferInputSerializer, responses=s.WorkItemSerializer)
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        item = self.get_object()
        if item.agent_id != request.user.pk and not is_supervisor(request.user):
            raise NotPermitted()
        data = s.TransferInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        to_queue = get_object_or_404(models.Queue, pk=data.validated_data["queue"]) if "queue" in data.validated_data else None
        to_agent = (get_object_or_404(get_user_model(), pk=data.validated_data["agent"])
                    if "agent" in data.validated_data else None)
        result = services.conversation_transfer(conversation=item.conversation, actor=request.user, to_queue=to_queue,
                                                to_agent=to_agent, note=data.validated_data["note"])
        return self._done(result)

    @extend_schema(request=s.CallInputSerializer, responses=s.WorkItemSerializer)
    @action(detail=True, methods=["post"], url_path="call/start")
    def call_start(self, request, pk=None):
        """The handling agent escalates the chat to a voice or video call (D.48)."""
        item = self.get_object()
        data = s.CallInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._done(services.conversation_call_start(conversation=item.conversation, actor=request.user,
                                                           mode=data.validated_data["mode"]))

    @extend_schema(request=None, responses=s.WorkItemSerializer)
    @action(detail=True, methods=["post"], url_path="call/end")
    def call_end(self, request, pk=None):
        item = self.get_object()
        return self._done(services.conversation_call_end(conversation=item.conversation, actor=request.user))

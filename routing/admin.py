import json

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from contactcenter.exceptions import DomainError
from routing import models, services
from routing.forms import DryRunForm


class HolidayInline(admin.TabularInline):
    model = models.Holiday
    extra = 0


@admin.register(models.OperatingHours)
class OperatingHoursAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone"]
    inlines = [HolidayInline]

    def delete_model(self, request, obj):
        services.operating_hours_delete(hours=obj)  # E.58: the queues' out-of-hours pairs go too

    def delete_queryset(self, request, queryset):
        for hours in queryset:
            services.operating_hours_delete(hours=hours)


class OverflowRuleForm(forms.ModelForm):
    """E.58: the locked out-of-hours pair of a queue with operating hours shows its stage and condition
    read-only; its action, target queue and message stay editable."""

    class Meta:
        model = models.OverflowRule
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.is_locked:
            for name in ("queue", "stage", "condition"):
                if name in self.fields:
                    self.fields[name].disabled = True


class OverflowRuleFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        for form in self.deleted_forms:
            if form.instance.pk and form.instance.is_locked:
                raise ValidationError(_("The out-of-hours pair cannot be deleted while the queue has operating "
                                        "hours; remove the hours instead."))


class OverflowRuleInline(admin.TabularInline):
    model = models.OverflowRule
    form = OverflowRuleForm
    formset = OverflowRuleFormSet
    fk_name = "queue"
    exclude = ["route_rule"]
    extra = 0


class RouteRuleOverflowInline(admin.TabularInline):
    """E.59: a route rule's own overflow pairs, replacing its queue's pairs of the same stage."""

    model = models.OverflowRule
    fk_name = "route_rule"
    exclude = ["queue"]
    extra = 0
    verbose_name = _("rule-specific overflow pair")
    verbose_name_plural = _("rule-specific overflow pairs")


class AssignmentRuleInline(admin.TabularInline):
    model = models.AssignmentRule
    extra = 0


class PrioritizationRuleInline(admin.TabularInline):
    model = models.PrioritizationRule
    extra = 0


@admin.register(models.Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "priority", "assignment_method", "operating_hours", "is_active", "is_default"]
    list_filter = ["kind", "assignment_method", "is_active"]
    filter_horizontal = ["members"]
    inlines = [OverflowRuleInline, PrioritizationRuleInline, AssignmentRuleInline]

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        services.queue_save(queue=obj)

    def save_related(self, request, form, formsets, change):
        # E.58: once the inline pairs are saved, the hours pair follows the queue's final operating hours.
        super().save_related(request, form, formsets, change)
        services.queue_hours_pair_sync(queue=form.instance)


@admin.register(models.Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["name", "skill_type", "rating_max"]
    list_filter = ["skill_type"]


@admin.register(models.AgentSkill)
class AgentSkillAdmin(admin.ModelAdmin):
    list_display = ["agent", "skill", "rating"]
    list_select_related = ["agent", "skill"]


@admin.register(models.Presence)
class PresenceAdmin(admin.ModelAdmin):
    list_display = ["name", "base", "is_builtin", "selectable"]

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_builtin:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(models.CapacityProfile)
class CapacityProfileAdmin(admin.ModelAdmin):
    list_display = ["name", "default_limit", "reset", "is_builtin"]

    def get_readonly_fields(self, request, obj=None):
        # D.42: the reset frequency can't be edited after creation.
        return ["reset"] if obj else []

    def has_change_permission(self, request, obj=None):
        # D.48: the built-in Escalation profile is attached by the system only.
        if obj is not None and obj.is_builtin:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_builtin:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(models.WorkStream)
class WorkStreamAdmin(admin.ModelAdmin):
    list_display = ["name", "channel_kind", "kind", "distribution_mode", "fallback_queue", "auto_accept"]
    filter_horizontal = ["capacity_profiles"]

    def get_readonly_fields(self, request, obj=None):
        return ["distribution_mode"] if obj else []

    def get_urls(self):
        return [
            path("dry-run/", self.admin_site.admin_view(self.dry_run_view), name="routing_workstream_dry_run"),
        ] + super().get_urls()

    def dry_run_view(self, request):
        """'Test this rule': which queue and agent a sample conversation would get, and why."""
        form = DryRunForm(request.POST or None)
        context = {**self.admin_site.each_context(request), "form": form, "title": _("Routing dry run")}
        if request.method == "POST" and form.is_valid():
            result = services.routing_dry_run(
                channel_kind=form.cleaned_data["channel_kind"], text=form.cleaned_data["text"],
                context=form.cleaned_data["context"], contact=form.cleaned_data["contact"],
            )
            chosen = (result.get("assignment") or {}).get("chosen_agent")
            context.update(result=result, route_json=json.dumps(result.get("route"), indent=2, default=str),
                           agent=get_user_model().objects.filter(pk=chosen).first() if chosen else None)
        return TemplateResponse(request, "routing/admin/dry_run.html", context)


class AgentCapacityInline(admin.TabularInline):
    model = models.AgentCapacity
    extra = 0


@admin.register(models.AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "presence", "capacity_units", "used_units", "forced_units", "last_assigned_at"]
    list_select_related = ["user", "presence"]
    readonly_fields = ["used_units", "forced_units", "active_items", "last_assigned_at", "last_released_at"]
    inlines = [AgentCapacityInline]

    def save_model(self, request, obj, form, change):
        # Capacity and presence carry invariants (forced units, events): they go through the services.
        if not change:
            return super().save_model(request, obj, form, change)
        other = [f for f in form.changed_data if f not in ("capacity_units", "presence")]
        if other:
            obj.save(update_fields=other)
        if "capacity_units" in form.changed_data:
            services.agent_capacity_set(agent=obj.user, capacity_units=obj.capacity_units)
        if "presence" in form.changed_data:
            services.presence_set(agent=obj.user, presence=obj.presence, system=True)


@admin.register(models.AgentShift)
class AgentShiftAdmin(admin.ModelAdmin):
    list_display = ["agent", "activity", "starts_at", "ends_at", "assignable"]
    list_filter = ["agent", "starts_at", "assignable"]
    list_select_related = ["agent"]
    date_hierarchy = "starts_at"


class ClassificationRuleInline(admin.StackedInline):
    model = models.ClassificationRule
    extra = 0


@admin.register(models.ClassificationRuleset)
class ClassificationRulesetAdmin(admin.ModelAdmin):
    list_display = ["name", "work_stream", "order", "is_active"]
    inlines = [ClassificationRuleInline]


@admin.register(models.RouteRule)
class RouteRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "work_stream", "order", "queue"]
    inlines = [RouteRuleOverflowInline]


@admin.register(models.OverflowRule)
class OverflowRuleAdmin(admin.ModelAdmin):
    list_display = ["queue", "route_rule", "stage", "condition", "threshold", "action", "target_queue"]
    list_filter = ["stage"]
    list_select_related = ["queue", "route_rule", "target_queue"]

    def get_readonly_fields(self, request, obj=None):
        # E.58: the locked out-of-hours pair keeps its owner, stage and condition; its action can change.
        return ["queue", "route_rule", "stage", "condition"] if obj is not None and obj.is_locked else []

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_locked:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        locked = [rule.pk for rule in queryset.select_related("queue") if rule.is_locked]
        if locked:
            messages.warning(request, _("%(n)s out-of-hours pair(s) of queues with operating hours were kept.")
                             % {"n": len(locked)})
        super().delete_queryset(request, queryset.exclude(pk__in=locked))


@admin.register(models.AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "queue", "order", "order_by"]


@admin.register(models.AutoCloseTimer)
class AutoCloseTimerAdmin(admin.ModelAdmin):
    """E.67: the fixed set of auto-close timers; only their minutes are edited."""

    list_display = ["family", "status", "minutes"]
    list_editable = ["minutes"]
    list_display_links = None

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(models.PrioritizationRule)
class PrioritizationRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "queue", "order", "order_by"]


class OfferInline(admin.TabularInline):
    model = models.Offer
    extra = 0
    can_delete = False
    readonly_fields = ["agent", "outcome", "reason", "offered_at", "expires_at", "answered_at"]


class DiagnosticInline(admin.TabularInline):
    model = models.RoutingDiagnostic
    extra = 0
    can_delete = False
    readonly_fields = ["stage", "summary", "detail", "created_at"]


class SessionInline(admin.TabularInline):
    """E.69: the conversation sessions of the work item, read-only."""

    model = models.ConversationSession
    extra = 0
    can_delete = False
    fields = readonly_fields = ["queue", "agent", "started_at", "ended_at", "closure_reason"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(models.WorkItem)
class WorkItemAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "queue", "status", "priority", "agent", "decline_count", "flagged", "queued_at"]
    list_filter = ["status", "queue", "flagged"]
    list_select_related = ["conversation__contact", "queue", "agent"]
    raw_id_fields = ["conversation", "case", "agent", "affinity_agent"]
    inlines = [SessionInline, OfferInline, DiagnosticInline]
    actions = ["run_assignment", "reroute"]

    @admin.action(description=_("Run an assignment cycle for these items' queues"))
    def run_assignment(self, request, queryset):
        decisions = services.assignment_run(queue_ids=set(queryset.values_list("queue_id", flat=True)))
        messages.info(request, _("%(n)s item(s) offered or assigned.") % {"n": len(decisions)})

    @admin.action(description=_("Route these waiting items again (classification and route-to-queue)"))
    def reroute(self, request, queryset):
        done, refused = 0, []
        for item in queryset:
            try:
                services.workitem_reroute(workitem=item, actor=request.user)
                done += 1
            except DomainError as error:
                refused.append(f"#{item.pk}: {error.message}")
        messages.info(request, _("%(n)s item(s) routed again.") % {"n": done})
        if refused:
            messages.warning(request, "; ".join(refused))


@admin.register(models.RoutingDiagnostic)
class RoutingDiagnosticAdmin(admin.ModelAdmin):
    list_display = ["workitem", "stage", "summary", "created_at"]
    list_filter = ["stage"]
    readonly_fields = ["workitem", "stage", "summary", "detail", "created_at"]


@admin.register(models.EffortModel)
class EffortModelAdmin(admin.ModelAdmin):
    list_display = ["trained_at", "sample_count", "r_squared"]
    readonly_fields = ["coefficients", "sample_count", "r_squared", "trained_at"]

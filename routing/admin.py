from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from routing import models, services


class HolidayInline(admin.TabularInline):
    model = models.Holiday
    extra = 0


@admin.register(models.OperatingHours)
class OperatingHoursAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone"]
    inlines = [HolidayInline]


class OverflowRuleInline(admin.TabularInline):
    model = models.OverflowRule
    fk_name = "queue"
    extra = 0


class AssignmentRuleInline(admin.TabularInline):
    model = models.AssignmentRule
    extra = 0


@admin.register(models.Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "priority", "assignment_method", "operating_hours", "is_active"]
    list_filter = ["kind", "assignment_method", "is_active"]
    filter_horizontal = ["members"]
    inlines = [OverflowRuleInline, AssignmentRuleInline]


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
    list_display = ["name", "default_limit", "reset"]

    def get_readonly_fields(self, request, obj=None):
        # D.42: the reset frequency can't be edited after creation.
        return ["reset"] if obj else []


@admin.register(models.WorkStream)
class WorkStreamAdmin(admin.ModelAdmin):
    list_display = ["name", "channel_kind", "kind", "distribution_mode", "fallback_queue", "auto_accept"]
    filter_horizontal = ["capacity_profiles"]

    def get_readonly_fields(self, request, obj=None):
        return ["distribution_mode"] if obj else []


class AgentCapacityInline(admin.TabularInline):
    model = models.AgentCapacity
    extra = 0


@admin.register(models.AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "presence", "capacity_units", "used_units", "forced_units", "last_assigned_at"]
    list_select_related = ["user", "presence"]
    readonly_fields = ["used_units", "forced_units", "active_items", "last_assigned_at", "last_released_at"]
    inlines = [AgentCapacityInline]


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


@admin.register(models.OverflowRule)
class OverflowRuleAdmin(admin.ModelAdmin):
    list_display = ["queue", "stage", "condition", "threshold", "action", "target_queue"]


@admin.register(models.AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin):
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


@admin.register(models.WorkItem)
class WorkItemAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "queue", "status", "priority", "agent", "decline_count", "flagged", "queued_at"]
    list_filter = ["status", "queue", "flagged"]
    list_select_related = ["conversation__contact", "queue", "agent"]
    raw_id_fields = ["conversation", "case", "agent", "affinity_agent"]
    inlines = [OfferInline, DiagnosticInline]
    actions = ["run_assignment"]

    @admin.action(description=_("Run an assignment cycle for these items' queues"))
    def run_assignment(self, request, queryset):
        decisions = services.assignment_run(queue_ids=set(queryset.values_list("queue_id", flat=True)))
        messages.info(request, _("%(n)s item(s) offered or assigned.") % {"n": len(decisions)})


@admin.register(models.RoutingDiagnostic)
class RoutingDiagnosticAdmin(admin.ModelAdmin):
    list_display = ["workitem", "stage", "summary", "created_at"]
    list_filter = ["stage"]
    readonly_fields = ["workitem", "stage", "summary", "detail", "created_at"]


@admin.register(models.EffortModel)
class EffortModelAdmin(admin.ModelAdmin):
    list_display = ["trained_at", "sample_count", "r_squared"]
    readonly_fields = ["coefficients", "sample_count", "r_squared", "trained_at"]

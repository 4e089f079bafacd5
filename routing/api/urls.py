from rest_framework.routers import DefaultRouter

from routing.api import views

router = DefaultRouter()
router.register("operating-hours", views.OperatingHoursViewSet, basename="routing-operating-hours")
router.register("holidays", views.HolidayViewSet, basename="routing-holiday")
router.register("queues", views.QueueViewSet, basename="routing-queue")
router.register("skills", views.SkillViewSet, basename="routing-skill")
router.register("agent-skills", views.AgentSkillViewSet, basename="routing-agent-skill")
router.register("presences", views.PresenceViewSet, basename="routing-presence")
router.register("capacity-profiles", views.CapacityProfileViewSet, basename="routing-capacity-profile")
router.register("work-streams", views.WorkStreamViewSet, basename="routing-work-stream")
router.register("classification-rulesets", views.ClassificationRulesetViewSet, basename="routing-ruleset")
router.register("classification-rules", views.ClassificationRuleViewSet, basename="routing-classification-rule")
router.register("route-rules", views.RouteRuleViewSet, basename="routing-route-rule")
router.register("overflow-rules", views.OverflowRuleViewSet, basename="routing-overflow-rule")
router.register("assignment-rules", views.AssignmentRuleViewSet, basename="routing-assignment-rule")
router.register("auto-close-timers", views.AutoCloseTimerViewSet, basename="routing-auto-close-timer")
router.register("prioritization-rules", views.PrioritizationRuleViewSet, basename="routing-prioritization-rule")
router.register("shifts", views.AgentShiftViewSet, basename="routing-shift")
router.register("agents", views.AgentProfileViewSet, basename="routing-agent")
router.register("work-items", views.WorkItemViewSet, basename="routing-work-item")

urlpatterns = router.urls

from django.urls import path
from rest_framework.routers import DefaultRouter

from crm.api import views

router = DefaultRouter()
router.register("accounts", views.AccountViewSet, basename="account")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("cases", views.CaseViewSet, basename="case")
router.register("conversations", views.ConversationViewSet, basename="conversation")
router.register("activities", views.ActivityViewSet, basename="activity")

urlpatterns = [
    path(
        "conversations/<int:conversation_pk>/messages/",
        views.ConversationMessageViewSet.as_view({"get": "list", "post": "create"}),
        name="conversation-messages",
    ),
    path(
        "contacts/<int:contact_pk>/timeline/",
        views.ContactTimelineViewSet.as_view({"get": "list"}),
        name="contact-timeline",
    ),
    *router.urls,
]

from django.urls import include, path

from crm.views import cases, customers, notifications, quick_replies, workspace

workspace_patterns = [
    path("workspace/worklist/", workspace.worklist, name="worklist"),
    path("conversations/<int:pk>/", workspace.conversation_session, name="conversation"),
    path("conversations/<int:pk>/read/", workspace.conversation_read, name="conversation-read"),
    path("conversations/<int:pk>/messages/", workspace.conversation_message, name="conversation-message"),
    path("conversations/<int:pk>/quick-replies/", workspace.quick_replies, name="quick-replies"),
    path("conversations/<int:pk>/case/", workspace.conversation_case_create, name="conversation-case-create"),
    path("conversations/<int:pk>/case/link/", workspace.conversation_case_link, name="conversation-case-link"),
    path("conversations/<int:pk>/customer/search/", workspace.customer_search, name="customer-search"),
    path("conversations/<int:pk>/customer/", workspace.customer_link, name="customer-link"),
    path("conversations/<int:pk>/timeline/notes/", workspace.timeline_note, name="timeline-note"),
    path("contacts/<int:pk>/card/", customers.contact_card, name="contact-card"),
    path("accounts/<int:pk>/card/", customers.account_card, name="account-card"),
    path("cases/", cases.case_list, name="case-list"),
    path("cases/bulk/", cases.case_bulk, name="case-bulk"),
    path("cases/views/", cases.case_view_save, name="case-view-save"),
    path("cases/<int:pk>/", cases.case_detail, name="case-detail"),
    path("cases/<int:pk>/edit/", cases.case_edit, name="case-edit"),
    path("cases/<int:pk>/notes/", cases.case_note, name="case-note"),
    path("cases/<int:pk>/activities/", cases.case_activity, name="case-activity"),
    path(
        "cases/<int:pk>/activities/<int:activity_pk>/complete/",
        cases.case_activity_complete,
        name="case-activity-complete",
    ),
    path("cases/<int:pk>/resolve/", cases.case_resolve, name="case-resolve"),
    path("cases/<int:pk>/hold/", cases.case_hold, name="case-hold"),
    path("cases/<int:pk>/resume/", cases.case_resume, name="case-resume"),
    path("cases/<int:pk>/merge/", cases.case_merge, name="case-merge"),
    path("cases/<int:pk>/swarm/", cases.case_swarm, name="case-swarm"),
    path("cases/<int:pk>/discussion/", cases.case_discussion_post, name="case-discussion"),
    path("quick-replies/", quick_replies.quick_reply_list, name="quick-reply-list"),
    path("quick-replies/<int:pk>/", quick_replies.quick_reply_edit, name="quick-reply-edit"),
    path("quick-replies/<int:pk>/delete/", quick_replies.quick_reply_delete, name="quick-reply-delete"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read/", notifications.notifications_read, name="notifications-read"),
]

# The workspace is the site's home page; its URL name stays "home" (settings.LOGIN_REDIRECT_URL),
# everything else is namespaced "crm:".
urlpatterns = [
    path("", workspace.home, name="home"),
    path("", include((workspace_patterns, "crm"))),
]

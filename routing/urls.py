from django.urls import path

from routing import views

app_name = "routing"

urlpatterns = [
    path("workspace/agent-bar/", views.agent_bar, name="agent-bar"),
    path("workspace/presence/", views.presence_change, name="presence"),
    path("workspace/offers/", views.offer_list, name="offers"),
    path("workspace/offers/<int:pk>/accept/", views.offer_accept, name="offer-accept"),
    path("workspace/offers/<int:pk>/decline/", views.offer_decline, name="offer-decline"),
    path("workspace/queue-work/", views.queue_work, name="queue-work"),
    path("workspace/queue-work/<int:pk>/pick/", views.workitem_pick, name="workitem-pick"),
    path("workspace/conversations/<int:pk>/transfer/", views.conversation_transfer, name="conversation-transfer"),
    path("workspace/conversations/<int:pk>/consult/", views.conversation_consult, name="conversation-consult"),
    path("workspace/conversations/<int:pk>/consult/reply/", views.consult_reply, name="consult-reply"),
    path("workspace/conversations/<int:pk>/consult/leave/", views.consult_leave, name="consult-leave"),
    path("workspace/conversations/<int:pk>/call/start/", views.conversation_call_start, name="conversation-call-start"),
    path("workspace/conversations/<int:pk>/call/end/", views.conversation_call_end, name="conversation-call-end"),
    path("workspace/conversations/<int:pk>/end/", views.conversation_end, name="conversation-end"),
    path("workspace/conversations/<int:pk>/wrap-up/", views.conversation_wrap_up, name="conversation-wrap-up"),
]

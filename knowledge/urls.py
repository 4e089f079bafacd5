from django.urls import path

from knowledge import views

app_name = "knowledge"

urlpatterns = [
    path("knowledge/", views.article_list, name="article_list"),
    path("knowledge/new/", views.article_create, name="article_create"),
    path("knowledge/preview/", views.article_preview, name="article_preview"),
    path("knowledge/suggest/", views.article_suggest, name="article_suggest"),
    path("knowledge/drafts/", views.draft_queue, name="draft_queue"),
    path("knowledge/drafts/<int:pk>/<str:action>/", views.draft_review, name="draft_review"),
    path("knowledge/suggestions/rate/", views.suggestion_rate, name="suggestion_rate"),
    path("knowledge/assist/", views.smart_assist_panel, name="smart_assist"),
    path("knowledge/<int:pk>/", views.article_detail, name="article_detail"),
    path("knowledge/<int:pk>/edit/", views.article_edit, name="article_edit"),
    path("knowledge/<int:pk>/use/", views.article_use, name="article_use"),
    path("knowledge/<int:pk>/<str:action>/", views.article_action, name="article_action"),
    path("help/", views.help_home, name="help_home"),
    path("help/articles/<str:number>/", views.help_article, name="help_article"),
    path("help/articles/<str:number>/vote/", views.help_vote, name="help_vote"),
]

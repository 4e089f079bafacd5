from django.urls import path
from rest_framework.routers import SimpleRouter

from knowledge.api.views import ArticleViewSet, SearchView

router = SimpleRouter()
router.register("articles", ArticleViewSet, basename="knowledge-article")

urlpatterns = [path("search", SearchView.as_view(), name="knowledge-search"), *router.urls]

from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from contactcenter.api.views import not_found

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", login_required(SpectacularSwaggerView.as_view(url_name="api-schema")), name="api-docs"),
    path("v1/knowledge/", include("knowledge.api.urls")),
    path("v1/", include("crm.api.urls")),
    path("v1/routing/", include("routing.api.urls")),
    path("v1/channels/", include("channels_ingress.api.urls")),
]

# Must stay last: any /api/ path no app claimed is a JSON 404.
urlpatterns.append(re_path(r"", not_found, name="api-not-found"))

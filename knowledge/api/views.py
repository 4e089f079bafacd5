"""Knowledge REST API: articles with lifecycle actions, and hybrid search (thin: serializer → service)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from knowledge import selectors, services
from knowledge.api.serializers import (
    ArticleSerializer,
    ArticleUpdateSerializer,
    ArticleWriteSerializer,
    PublishSerializer,
    RejectSerializer,
    ReviewSerializer,
    SearchHitSerializer,
    SearchQuerySerializer,
    VersionSerializer,
)
from knowledge.filtersets import ArticleFilterSet


class ArticleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Knowledge articles, every version and language; writes go through the lifecycle services."""

    serializer_class = ArticleSerializer
    filterset_class = ArticleFilterSet
    search_fields = ["title", "number", "keywords"]
    ordering_fields = ["updated_at", "view_count", "number", "title"]
    ordering = ["-updated_at"]

    def get_queryset(self):
        return selectors.articles_visible_to(self.request.user)

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _out(self, article, code=status.HTTP_200_OK) -> Response:
        return Response(ArticleSerializer(article).data, status=code)

    @extend_schema(request=ArticleWriteSerializer, responses={201: ArticleSerializer})
    def create(self, request):
        article = services.article_create(author=request.user, **self._input(ArticleWriteSerializer))
        return self._out(article, status.HTTP_201_CREATED)

    @extend_schema(request=ArticleUpdateSerializer, responses=ArticleSerializer)
    def partial_update(self, request, pk=None):
        article = services.article_update(article=self.get_object(), actor=request.user,
                                          **self._input(ArticleUpdateSerializer))
        return self._out(article)

    @extend_schema(request=None, responses=ArticleSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._out(services.article_submit(article=self.get_object(), actor=request.user))

    @extend_schema(request=ReviewSerializer, responses=ArticleSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        data = self._input(ReviewSerializer)
        return self._out(services.article_approve(article=self.get_object(), actor=request.user, **data))

    @extend_schema(request=RejectSerializer, responses=ArticleSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        data = self._input(RejectSerializer)
        return self._out(services.article_reject(article=self.get_object(), actor=request.user, **data))

    @extend_schema(request=PublishSerializer, responses=ArticleSerializer)
    @action(detail=True, methods=["post"], url_path="publish")
    def go_live(self, request, pk=None):
        data = self._input(PublishSerializer)
        return self._out(services.article_publish(article=self.get_object(), actor=request.user, **data))

    @extend_schema(request=VersionSerializer, responses={201: ArticleSerializer})
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request, pk=None):
        data = self._input(VersionSerializer)
        version = services.article_version_create(article=self.get_object(), actor=request.user, **data)
        return self._out(version, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ArticleSerializer)
    @action(detail=True, methods=["post"])
    def expire(self, request, pk=None):
        return self._out(services.article_expire(article=self.get_object(), actor=request.user))

    @extend_schema(request=None, responses=ArticleSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return self._out(services.article_archive(article=self.get_object(), actor=request.user))


class SearchView(APIView):
    """Hybrid (semantic + full-text) search over knowledge passages, one hit per article."""

    @extend_schema(parameters=[SearchQuerySerializer], responses=SearchHitSerializer(many=True))
    def get(self, request):
        params = SearchQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        query, k, sort = data.pop("q"), data.pop("k"), data.pop("sort")
        filters = {key: list(value) if isinstance(value, set) else value for key, value in data.items()}
        hits = services.search(query, filters=filters, k=k, user=request.user, sort=sort)
        return Response({"results": SearchHitSerializer(hits, many=True).data})

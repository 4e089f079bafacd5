from rest_framework import serializers

from knowledge.choices import ArticleStatus, Language, SearchSort, Visibility
from knowledge.models import Article


class ArticleSerializer(serializers.ModelSerializer):
    version = serializers.CharField(read_only=True)
    author = serializers.StringRelatedField()
    reviewer = serializers.StringRelatedField()

    class Meta:
        model = Article
        fields = [
            "id", "number", "version", "major_version", "minor_version", "title", "summary", "body", "body_html",
            "keywords", "product", "category", "language", "visibility", "status", "translation_of",
            "previous_version", "author", "reviewer", "review_comment", "external_id", "publish_at", "published_at",
            "expires_at", "view_count", "helpful_count", "not_helpful_count", "created_at", "updated_at",
        ]
        read_only_fields = fields


class ArticleWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=255)
    body = serializers.CharField(required=False, allow_blank=True, default="")
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    keywords = serializers.ListField(child=serializers.CharField(max_length=60), required=False, default=list,
                                     max_length=50)
    product = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    category = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    language = serializers.ChoiceField(choices=Language.choices, default=Language.ENGLISH)
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.INTERNAL)
    external_id = serializers.CharField(required=False, allow_null=True, max_length=200, default=None)


class ArticleUpdateSerializer(ArticleWriteSerializer):
    title = serializers.CharField(max_length=255, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.pop("external_id")
        for field in self.fields.values():
            field.default = serializers.empty
            field.required = False


class ReviewSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class RejectSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=2000)


class PublishSerializer(serializers.Serializer):
    publish_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    cascade_translations = serializers.BooleanField(required=False, default=False)


class VersionSerializer(serializers.Serializer):
    major = serializers.BooleanField(required=False, default=False)


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=500)
    k = serializers.IntegerField(min_value=1, max_value=50, default=10)
    status = serializers.MultipleChoiceField(choices=ArticleStatus.choices, required=False)
    language = serializers.MultipleChoiceField(choices=Language.choices, required=False)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    product = serializers.CharField(max_length=100, required=False)
    modified_since = serializers.DateTimeField(required=False)
    sort = serializers.ChoiceField(choices=SearchSort.choices, default=SearchSort.RELEVANCE)


class SearchHitSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="article.pk")
    number = serializers.CharField(source="article.number")
    title = serializers.CharField(source="article.title")
    version = serializers.CharField(source="article.version")
    language = serializers.CharField(source="article.language")
    visibility = serializers.CharField(source="article.visibility")
    status = serializers.CharField(source="article.status")
    summary = serializers.CharField(source="article.summary")
    score = serializers.FloatField()
    similarity = serializers.FloatField(allow_null=True)
    heading = serializers.CharField()
    highlight = serializers.CharField(help_text="HTML: escaped passage text with <mark> around matches.")

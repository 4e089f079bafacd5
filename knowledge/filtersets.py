import django_filters

from knowledge.choices import ArticleStatus, Language, Visibility
from knowledge.models import Article


class ArticleFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ArticleStatus.choices)
    language = django_filters.MultipleChoiceFilter(choices=Language.choices)
    visibility = django_filters.ChoiceFilter(choices=Visibility.choices)
    product = django_filters.CharFilter()
    number = django_filters.CharFilter()
    external_id = django_filters.CharFilter()
    modified_since = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Article
        fields = ["status", "language", "visibility", "product", "number", "external_id", "modified_since"]

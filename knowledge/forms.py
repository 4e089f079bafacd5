from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from knowledge.choices import ArticleStatus, Language, SearchSort, UsageKind, Visibility
from knowledge.models import Article


class KeywordsField(forms.CharField):
    """Comma-separated keywords ↔ a list."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        return [item.strip() for item in (value or "").split(",") if item.strip()]


class ArticleForm(forms.ModelForm):
    keywords = KeywordsField(label=_("Keywords"), required=False, help_text=_("Separated by commas."))

    class Meta:
        model = Article
        fields = ["title", "summary", "body", "keywords", "product", "category", "language", "visibility"]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 2}),
            "body": forms.Textarea(attrs={"rows": 18, "class": "mono"}),
        }


class ArticleSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=500)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status"))] + ArticleStatus.choices
    )
    language = forms.ChoiceField(label=_("Language"), required=False, choices=[("", _("Any language"))])
    visibility = forms.ChoiceField(label=_("Visibility"), required=False,
                                   choices=[("", _("Any visibility"))] + Visibility.choices)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SearchSort.choices)

    def __init__(self, *args, languages=(), **kwargs):
        super().__init__(*args, **kwargs)
        names = dict(Language.choices)
        self.fields["language"].choices = [("", _("Any language"))] + [
            (code, names.get(code, code)) for code in languages
        ]


class PublishForm(forms.Form):
    publish_at = forms.DateTimeField(
        label=_("Publish on"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Leave empty to publish now."),
    )
    expires_at = forms.DateTimeField(
        label=_("Expires on"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    cascade_translations = forms.BooleanField(label=_("Also publish approved translations"), required=False)


class ReviewForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class VersionForm(forms.Form):
    major = forms.BooleanField(label=_("Major version"), required=False)


class VoteForm(forms.Form):
    helpful = forms.TypedChoiceField(choices=[("yes", _("Yes")), ("no", _("No"))], coerce=lambda value: value == "yes")
    comment = forms.CharField(required=False, max_length=1000)


class SuggestionRateForm(forms.Form):
    helpful = forms.TypedChoiceField(choices=[("yes", "yes"), ("no", "no")], coerce=lambda value: value == "yes")
    confidence = forms.FloatField(min_value=0, max_value=1)
    article = forms.IntegerField(required=False)
    suggested_case = forms.IntegerField(required=False)
    conversation = forms.IntegerField(required=False)
    case = forms.IntegerField(required=False)

    def clean(self):
        data = super().clean()
        if bool(data.get("article")) == bool(data.get("suggested_case")):
            raise forms.ValidationError(_("Rate either an article or a case."))
        return data


class ArticleUseForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(kind.value, kind.label) for kind in (UsageKind.SENT, UsageKind.LINKED, UsageKind.RESOLUTION)]
    )
    conversation = forms.IntegerField(required=False)
    case = forms.IntegerField(required=False)

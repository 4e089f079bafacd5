"""Shape validation for the workspace pages; rules live in ``crm.services``."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.choices import ActivityKind, CasePriority, CaseStatus, CaseView
from crm.models import Account, CannedResponse, Case, Contact, DispositionCode
from crm.validators import normalize_email, normalize_phone

MAX_MESSAGE_LENGTH = 10_000


class ComposerForm(forms.Form):
    body = forms.CharField(max_length=MAX_MESSAGE_LENGTH, strip=True)
    internal = forms.BooleanField(required=False)


class WrapUpForm(forms.Form):
    codes = forms.ModelMultipleChoiceField(
        queryset=DispositionCode.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Disposition codes"),
    )
    notes = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}), label=_("Notes"))


class CaseFromConversationForm(forms.Form):
    subject = forms.CharField(max_length=255, required=False, label=_("Subject"))
    priority = forms.TypedChoiceField(
        choices=CasePriority.choices, coerce=int, initial=CasePriority.NORMAL, label=_("Priority")
    )


class CaseLinkForm(forms.Form):
    case = forms.ModelChoiceField(queryset=Case.objects.none(), label=_("Existing case"))

    def __init__(self, *args, cases=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].queryset = Case.objects.filter(pk__in=[case.pk for case in cases or []])


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["first_name", "last_name", "email", "phone", "language", "is_vip"]

    def clean_email(self):
        email = self.cleaned_data["email"]
        return normalize_email(email) if email else email

    def clean_phone(self):
        phone = self.cleaned_data["phone"]
        return normalize_phone(phone) if phone else phone


class AccountForm(forms.ModelForm):
    class Meta:
        model = Account
        fields = ["name", "domain", "tier"]


class CaseFilterForm(forms.Form):
    view = forms.ChoiceField(choices=CaseView.choices, required=False)
    status = forms.ChoiceField(choices=[("", _("Any open status")), *CaseStatus.choices], required=False)
    priority = forms.ChoiceField(choices=[("", _("Any priority")), *CasePriority.choices], required=False)
    q = forms.CharField(max_length=100, required=False, label=_("Search"))

    def filters(self) -> dict[str, str]:
        data = self.cleaned_data if self.is_valid() else {}
        return {key: data.get(key) or "" for key in ("view", "status", "priority", "q")}


class BulkAction:
    ASSIGN_TO_ME = "assign_to_me"
    PRIORITY_HIGH = "priority_high"
    PRIORITY_NORMAL = "priority_normal"
    PRIORITY_LOW = "priority_low"
    HOLD = "hold"

    choices = [
        (ASSIGN_TO_ME, _("Assign to me")),
        (PRIORITY_HIGH, _("Set priority: High")),
        (PRIORITY_NORMAL, _("Set priority: Normal")),
        (PRIORITY_LOW, _("Set priority: Low")),
        (HOLD, _("Put on hold")),
    ]


class CaseBulkForm(forms.Form):
    MAX_CASES = 100

    cases = forms.ModelMultipleChoiceField(queryset=Case.objects.none())
    action = forms.ChoiceField(choices=BulkAction.choices)

    def __init__(self, *args, visible=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cases"].queryset = visible if visible is not None else Case.objects.none()

    def clean_cases(self):
        cases = self.cleaned_data["cases"]
        if len(cases) > self.MAX_CASES:
            raise ValidationError(_("Select at most %(max)d cases at once."), params={"max": self.MAX_CASES})
        return cases


class SavedViewForm(forms.Form):
    name = forms.CharField(max_length=60, label=_("Name of this view"))


class CaseEditForm(forms.ModelForm):
    class Meta:
        model = Case
        fields = ["subject", "description", "priority", "severity", "owner"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = staff
        self.fields["owner"].required = False


class CaseNoteForm(forms.Form):
    body = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 2}), label=_("Note"))


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(choices=ActivityKind.choices, label=_("Kind"))
    subject = forms.CharField(max_length=255, label=_("Subject"))
    due_at = forms.DateTimeField(
        required=False, label=_("Due"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )


class ResolveForm(forms.Form):
    resolution = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), label=_("Resolution"))


class MergeForm(forms.Form):
    target = forms.CharField(max_length=20, label=_("Merge into case number"), help_text=_("e.g. CAS-000123"))


class SwarmForm(forms.Form):
    invitees = forms.ModelMultipleChoiceField(queryset=None, label=_("Invite colleagues"))
    note = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}), label=_("Message")
    )

    def __init__(self, *args, staff=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invitees"].queryset = staff


class DiscussionPostForm(forms.Form):
    body = forms.CharField(
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=_("Post"),
        help_text=_("Mention a colleague with @username."),
    )


class CannedResponseForm(forms.ModelForm):
    class Meta:
        model = CannedResponse
        fields = ["slug", "title", "body", "tags", "language"]
        widgets = {"body": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"body": _("Placeholders: {customerName}, {customerFirstName}, {agentName}, {caseNumber}, ...")}

    def __init__(self, *args, owner=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        taken = CannedResponse.objects.filter(owner=self.owner, slug=slug).exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(_("You already have a quick reply with this slug."))
        return slug

    def validate_unique(self):
        # The owner is not a form field; clean_slug checks uniqueness per owner.
        pass

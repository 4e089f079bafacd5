from django import forms
from django.utils.translation import gettext_lazy as _

from crm.choices import ChannelKind
from crm.models import Contact


class DryRunForm(forms.Form):
    """A sample conversation for the routing dry run."""

    channel_kind = forms.ChoiceField(label=_("Channel"), choices=ChannelKind.choices)
    text = forms.CharField(label=_("Customer message"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    contact = forms.ModelChoiceField(label=_("Contact (optional)"), queryset=Contact.objects.all(), required=False,
                                     widget=forms.NumberInput, help_text=_("A contact id, to test VIP, tier or language rules."))
    context = forms.JSONField(label=_("Pre-chat answers (JSON object)"), required=False, initial=dict)

    def clean_context(self):
        value = self.cleaned_data.get("context") or {}
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Give a JSON object, e.g. {\"plan\": \"premium\"}."))
        return value

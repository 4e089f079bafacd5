from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from crm.choices import ChannelKind
from crm.models import Contact
from routing.choices import CallMode
from routing.models import Presence, Queue


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


class PresenceForm(forms.Form):
    presence = forms.ModelChoiceField(queryset=Presence.objects.filter(selectable=True), label=_("Presence"))


class DeclineForm(forms.Form):
    REASONS = [
        ("busy", _("Busy with another customer")),
        ("skills", _("Outside my skills")),
        ("break", _("Going on a break")),
        ("other", _("Other")),
    ]
    reason = forms.ChoiceField(label=_("Reason"), choices=REASONS)
    detail = forms.CharField(label=_("Details"), max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if data.get("reason") == "other" and not data.get("detail"):
            self.add_error("detail", _("Say why you decline."))
        return data

    def reason_text(self) -> str:
        label = dict(self.REASONS)[self.cleaned_data["reason"]]
        detail = self.cleaned_data["detail"]
        return f"{label}: {detail}" if detail else str(label)


class TransferForm(forms.Form):
    """Transfer to exactly one of: a colleague or a queue (of the item's kind), with an optional note."""

    agent = forms.ModelChoiceField(queryset=None, required=False, label=_("Agent"))
    queue = forms.ModelChoiceField(queryset=None, required=False, label=_("Queue"))
    note = forms.CharField(label=_("Note for the next agent"), max_length=2000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, queues, agents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = Queue.objects.filter(pk__in=[q.pk for q in queues]).order_by("priority", "name")
        self.fields["agent"].queryset = _users().filter(pk__in=[a.pk for a in agents]).order_by("username")

    def clean(self):
        data = super().clean()
        if bool(data.get("agent")) == bool(data.get("queue")):
            raise forms.ValidationError(_("Choose either an agent or a queue."))
        return data


class ConsultForm(forms.Form):
    agent = forms.ModelChoiceField(queryset=None, label=_("Colleague"))
    note = forms.CharField(
        label=_("Question"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, agents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = _users().filter(pk__in=[a.pk for a in agents]).order_by("username")


class CallForm(forms.Form):
    """Escalate the chat to a voice or video call (D.48)."""

    mode = forms.ChoiceField(label=_("Call"), choices=CallMode.choices)


class ConsultReplyForm(forms.Form):
    body = forms.CharField(label=_("Answer"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


def _users():
    return get_user_model().objects.filter(is_active=True)

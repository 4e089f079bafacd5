from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _, ngettext

from contactcenter.choices import ApiScope
from contactcenter.models import ApiKey, User
from contactcenter.services import api_key_create, api_key_revoke


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Contact center"), {"fields": ("display_name", "time_zone")}),
    )
    list_display = ("username", "display_name", "email", "first_name", "last_name", "is_active", "is_staff")
    search_fields = ("username", "display_name", "first_name", "last_name", "email")


class ApiKeyAddForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiKey
        fields = ("name", "owner", "scopes", "expires_at")

    def clean_expires_at(self):
        expires_at = self.cleaned_data["expires_at"]
        if expires_at is not None and expires_at <= timezone.now():
            raise ValidationError(_("The expiry must be in the future."))
        return expires_at

    def clean_owner(self):
        owner = self.cleaned_data["owner"]
        if not owner.is_active:
            raise ValidationError(_("The owner is inactive."))
        return owner


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are issued through ``api_key_create`` (the secret is shown once) and revoked, never edited."""

    list_display = (
        "name", "key_id", "owner", "scopes", "created_at", "last_used_at", "expires_at", "revoked_at", "active",
    )
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("name", "key_id", "owner__username")
    list_select_related = ("owner",)
    autocomplete_fields = ("owner",)
    actions = ("revoke",)
    readonly_fields = ("name", "owner", "key_id", "scopes", "created_at", "last_used_at", "expires_at", "revoked_at")

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else ()

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiKeyAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        return self.readonly_fields if obj else ApiKeyAddForm.Meta.fields

    @admin.display(boolean=True, description=_("active"))
    def active(self, api_key: ApiKey) -> bool:
        return api_key.is_active

    def save_model(self, request, obj, form, change):
        if change:
            return
        api_key, plaintext = api_key_create(
            name=form.cleaned_data["name"], owner=form.cleaned_data["owner"],
            scopes=form.cleaned_data["scopes"], expires_at=form.cleaned_data["expires_at"],
        )
        obj.pk, obj.key_id = api_key.pk, api_key.key_id
        messages.warning(
            request, _("Copy the key now, it is shown only once: %(key)s") % {"key": plaintext}
        )

    @admin.action(description=_("Revoke the selected API keys"), permissions=["change"])
    def revoke(self, request, queryset):
        keys = list(queryset.filter(revoked_at__isnull=True))
        for api_key in keys:
            api_key_revoke(api_key=api_key)
        self.message_user(
            request, ngettext("Revoked %(n)d key.", "Revoked %(n)d keys.", len(keys)) % {"n": len(keys)},
            messages.SUCCESS,
        )

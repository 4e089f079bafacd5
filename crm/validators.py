import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def normalize_phone(value: str, region: str | None = None) -> str:
    """Return ``value`` in E.164, or raise ValidationError if it is not a valid number."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("Enter a phone number in international format, e.g. +15551234567.")) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(_("%(value)s is not a valid phone number."), params={"value": value})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_e164(value: str) -> None:
    if value and normalize_phone(value) != value:
        raise ValidationError(_("Store phone numbers in E.164, e.g. +15551234567."))


def normalize_email(value: str) -> str:
    """Lower-case the domain (the local part is case-sensitive by the RFC) and trim."""
    local, _sep, domain = value.strip().rpartition("@")
    if not local or not domain:
        raise ValidationError(_("Enter a valid email address."))
    return f"{local}@{domain.lower()}"

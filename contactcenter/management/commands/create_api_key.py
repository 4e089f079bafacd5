"""``create_api_key``: issue an API key and print it once, so a script can provision one.

Only the key goes to stdout (``KEY=$(manage.py create_api_key ...)``); what it
is and who it acts as go to stderr.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify

from contactcenter.choices import Role
from contactcenter.models import User
from contactcenter.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key and print it (shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="What the key is for, e.g. 'billing sync'.")
        parser.add_argument("--scopes", default="read", help="Comma-separated: read, write (default: read).")
        parser.add_argument(
            "--owner",
            help="Username the key acts as. Without it the key gets its own integration user "
                 "(api-<name>) in the Supervisors group, so it sees every record.",
        )
        parser.add_argument("--expires", help="Expiry as an ISO date-time (UTC if no offset), e.g. 2027-01-31T00:00.")

    def handle(self, *args, name, scopes, owner, expires, **options):
        expires_at = self._expiry(expires)
        with transaction.atomic():
            user = self._owner(owner, name)
            try:
                api_key, plaintext = api_key_create(
                    name=name, owner=user, scopes=scopes.split(","), expires_at=expires_at
                )
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from exc
        self.stderr.write(
            f"API key {api_key.key_id} '{api_key.name}' acting as {user.username} "
            f"with scopes {','.join(api_key.scopes)}. It is shown only once:"
        )
        self.stdout.write(plaintext)

    def _expiry(self, expires: str | None):
        if not expires:
            return None
        moment = parse_datetime(expires)
        if moment is None:
            raise CommandError(f"--expires {expires!r} is not an ISO date-time.")
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment, datetime.UTC)

    def _owner(self, username: str | None, name: str) -> User:
        if username:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user named {username!r}.")
            return user
        slug = slugify(name)[:100] or "integration"
        user, created = User.objects.get_or_create(
            username=f"api-{slug}", defaults={"display_name": name[:150]}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get_or_create(name=Role.SUPERVISOR)[0])
        return user

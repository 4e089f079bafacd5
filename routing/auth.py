"""Sign-in and sign-out move an agent's presence (D.50); Django's auth signals are the only hook into its login views."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from routing import services


@receiver(user_logged_in, dispatch_uid="routing_presence_sign_in")
def signed_in(sender, request, user, **kwargs) -> None:
    services.presence_sign_in(agent=user)


@receiver(user_logged_out, dispatch_uid="routing_presence_sign_out")
def signed_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        services.presence_sign_out(agent=user)

"""Role checks shared by pages, API and sockets."""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied

from contactcenter.choices import Role


def user_roles(user) -> frozenset[str]:
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_role_cache", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._role_cache = cached
    return cached


def is_supervisor(user) -> bool:
    """Supervisors and administrators see every conversation."""
    return bool(user.is_authenticated) and (
        user.is_superuser or bool(user_roles(user) & {Role.SUPERVISOR, Role.ADMINISTRATOR})
    )


def is_staff_member(user) -> bool:
    """Anyone who works in the contact center: agent, supervisor or administrator."""
    return bool(user.is_authenticated) and (user.is_superuser or bool(user_roles(user)))


def staff_required(view):
    """Page views: signed-in users outside the contact-center roles get 403 (the middleware handles signed-out ones)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_staff_member(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper

from rest_framework import permissions

from contactcenter.choices import ApiScope
from contactcenter.models import ApiKey
from contactcenter.permissions import is_staff_member


class HasScope(permissions.BasePermission):
    """Signed-in staff only; an API key must carry ``read`` for safe methods and ``write`` otherwise.

    Object-level visibility is not decided here but by the selectors every
    view takes its queryset from.
    """

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated and is_staff_member(request.user)):
            return False
        if isinstance(request.auth, ApiKey):
            needed = ApiScope.READ if request.method in permissions.SAFE_METHODS else ApiScope.WRITE
            return needed in request.auth.scopes
        return True

from django.http import JsonResponse
from django.utils.translation import gettext as _


def not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown ``/api/`` paths answer in the API's error shape, not with an HTML page."""
    return JsonResponse(
        {"error": {"code": "not_found", "message": _("No API endpoint at %(path)s.") % {"path": request.path},
                   "fields": {}}},
        status=404,
    )

"""OpenAPI generation: every operation documents the error shape it can answer with."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API failure has this shape.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "Stable machine-readable code, e.g. `invalid`, `not_found`."},
                "message": {"type": "string", "description": "Human-readable explanation."},
                "fields": {
                    "type": "object",
                    "description": "Per-field messages for validation errors (`invalid`); empty otherwise.",
                    "additionalProperties": {
                        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}],
                    },
                },
            },
            "required": ["code", "message", "fields"],
        }
    },
    "required": ["error"],
}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class AutoSchema(SpectacularAutoSchema):
    def _error_statuses(self) -> list[str]:
        statuses = []
        if self.method in BODY_METHODS:
            statuses += ["400", "413", "415"]
        if not any(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            statuses += ["401", "403"]
        if "{" in self.path:
            statuses.append("404")
        if self.method in WRITE_METHODS:
            statuses.append("409")
        return statuses + ["429"]

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        component = ResolvedComponent(
            name=ERROR_COMPONENT, type=ResolvedComponent.SCHEMA, schema=ERROR_SCHEMA, object=ERROR_COMPONENT
        )
        self.registry.register_on_missing(component)
        for status_code in self._error_statuses():
            if status_code not in responses:
                responses[status_code] = {
                    "content": {"application/json": {"schema": component.ref}},
                    "description": "",
                }
        return responses


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "contactcenter.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "cck_<key id>_<secret>",
            "description": "An API key from `manage.py create_api_key` or the admin. "
                           "GET needs the `read` scope; other methods need `write`.",
        }

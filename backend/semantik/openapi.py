"""How the REST API describes itself in OpenAPI: the one error shape, the errors each endpoint answers
because of what it is (input, credentials, rights, path ids, rate limits), and one tag per app."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ComponentRegistry
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated

from semantik.accounts.authentication import ApiKeyAuthentication
from semantik.accounts.permissions import ApiKeyScope, scope_needed

# Query parameters of the paginator: a bad page is a 404, never a 400.
_PAGE_PARAMETERS = {"page", "page_size"}


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text=(
            "What went wrong, for programs: `invalid`, `not_authenticated`, `token_not_valid`, "
            "`invalid_api_key`, `missing_scope`, `permission_denied`, `not_found`, `conflict`, "
            "`throttled`, `service_unavailable`, ..."
        )
    )
    message = serializers.CharField(help_text="What went wrong, for people.")
    details = serializers.JSONField(
        required=False,
        help_text="Invalid input (400) only: the problems, by field name as sent (`{field: [message]}`).",
    )


class ErrorSerializer(serializers.Serializer):
    """The one shape of every error the API answers."""

    error = ErrorBodySerializer()


def error(description: str) -> OpenApiResponse:
    """An error an endpoint answers, in the one error shape, with when it happens."""
    return OpenApiResponse(ErrorSerializer, description=description)


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, plus the errors every endpoint can answer and a tag per app.

    Errors an endpoint declares itself (a 409 when a collection is busy, say) keep their own words.
    """

    def get_tags(self) -> list[str]:
        # Views live in semantik.<app>.views: the tag is the app.
        parts = self.view.__class__.__module__.split(".")
        if len(parts) == 3 and parts[0] == "semantik":
            return [parts[1]]
        return list(super().get_tags())

    def get_operation(
        self, path: str, path_regex: str, path_prefix: str, method: str, registry: ComponentRegistry
    ) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(
            path, path_regex, path_prefix, method, registry
        )
        if operation is None:
            return None
        responses: dict[str, Any] = operation["responses"]
        for code, description in self._errors(operation).items():
            responses.setdefault(code, self._error_response(code, description))
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _errors(self, operation: dict[str, Any]) -> dict[str, str]:
        parameters = operation.get("parameters", [])
        query = {p["name"] for p in parameters if p["in"] == "query"}
        errors = {}
        if "requestBody" in operation or query - _PAGE_PARAMETERS:
            errors["400"] = "The input is invalid (`invalid`): `details` names each field's problems."
        if "requestBody" in operation:
            errors["413"] = (
                "The request body is over the size limit (`too_large`): DATA_UPLOAD_MAX_MEMORY_SIZE "
                "for JSON, the upload limits for files."
            )
        authenticators = self.view.get_authenticators()
        permissions = self.view.get_permissions()
        if authenticators and not any(isinstance(p, AllowAny) for p in permissions):
            errors["401"] = (
                "No credentials, or bad ones: a missing, expired, tampered or revoked token "
                "(`not_authenticated`, `token_not_valid`), an unknown, revoked or expired API key "
                "(`invalid_api_key`, `api_key_revoked`, `api_key_expired`)."
            )
        if refusals := self._refusals(authenticators, permissions):
            errors["403"] = " ".join(refusals)
        missing = []
        if any(p["in"] == "path" for p in parameters):
            missing.append("it does not exist, or it is not yours to see, which reads the same")
        if "page" in query:
            missing.append("the page asked for is past the last")
        if missing:
            errors["404"] = f"Not found (`not_found`): {'; or '.join(missing)}."
        if self.view.get_throttles():
            errors["429"] = "Too many requests (`throttled`): `Retry-After` says how many seconds to wait."
            # Rate limits are counted in Redis: without it no request is let through unchecked.
            errors["503"] = "A service this needs is unavailable (`service_unavailable`), such as Redis."
        return errors

    def _refusals(self, authenticators: Sequence[Any], permissions: Sequence[Any]) -> list[str]:
        refusals = []
        for permission in permissions:
            if isinstance(permission, (AllowAny, IsAuthenticated)):
                continue
            if isinstance(permission, ApiKeyScope):
                if any(isinstance(a, ApiKeyAuthentication) for a in authenticators):
                    needed = scope_needed(self.view.request, self.view)
                    refusals.append(f"An API key needs the `{needed}` scope for this (`missing_scope`).")
                continue
            message, code = str(permission.message), getattr(permission, "code", None)
            refusals.append(f"{message.rstrip('.')} (`{code}`)." if code else message)
        return refusals

    def _error_response(self, code: str, description: str) -> dict[str, Any]:
        component = self.resolve_serializer(ErrorSerializer, "response")
        response: dict[str, Any] = {
            "description": description,
            "content": {"application/json": {"schema": component.ref}},
        }
        if code == "429":
            response["headers"] = {
                "Retry-After": {
                    "description": "Seconds until a request is let through again.",
                    "schema": {"type": "integer"},
                }
            }
        return response

"""What an API key may do (its scopes), and the endpoints only a logged-in person may use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from semantik.accounts.models import ApiKey

# DRF imports these classes while it builds rest_framework.views: importing it here would be circular.
if TYPE_CHECKING:
    from rest_framework.views import APIView


def scope_needed(request: Request, view: APIView) -> str:
    """The scope a request needs: the view's `api_scope` if it declares one, else by method."""
    declared = getattr(view, "api_scope", None)
    if declared:
        return str(declared)
    return ApiKey.Scope.READ.value if request.method in SAFE_METHODS else ApiKey.Scope.WRITE.value


class ApiKeyScope(BasePermission):
    """Requests made with an API key need the key to hold the request's scope; others pass."""

    code = "missing_scope"
    message = "This API key lacks the scope this request needs."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not isinstance(request.auth, ApiKey):
            return True
        needed = scope_needed(request, view)
        if needed in request.auth.scopes:
            return True
        self.message = f"This API key lacks the {needed!r} scope that this request needs."
        return False


class LoggedIn(BasePermission):
    """A person logged in with a password (a JWT): API keys cannot manage keys or the password."""

    code = "login_required"
    message = "Log in with your password to do this: API keys cannot manage accounts or keys."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated and not isinstance(request.auth, ApiKey))

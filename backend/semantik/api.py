"""The one shape every API error takes: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class ServiceUnavailable(exceptions.APIException):
    """A dependency (Triton, Qdrant, Redis, PostgreSQL) is down: 503 with the reason, never a hang."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "service_unavailable"
    default_detail = "A service Semantik depends on is unavailable."

    def __init__(self, detail: Any = None, code: str | None = None, details: Any = None) -> None:
        super().__init__(detail, code)
        # Structured reasons (the error shape's `details`), e.g. one per collection that failed.
        self.details = details


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = "The request body is too large."


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The resource is busy."


def _message(detail: Any) -> str:
    if isinstance(detail, dict) and detail.get("messages"):
        # simplejwt's InvalidToken: the reason ("Token is expired") is in the messages it tried.
        reasons = [str(m.get("message")) for m in detail["messages"] if isinstance(m, dict)]
        return f"{detail.get('detail', 'Invalid token')}: {reasons[0]}" if reasons else str(detail["detail"])
    if isinstance(detail, dict):
        for key, value in detail.items():
            inner = _message(value)
            return inner if key in {"detail", "non_field_errors"} else f"{key}: {inner}"
        return "Invalid input."
    if isinstance(detail, list):
        return _message(detail[0]) if detail else "Invalid input."
    return str(detail)


def _code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return "invalid" if isinstance(exc, exceptions.ValidationError) else exc.default_code


def dependency_unavailable(exc: BaseException) -> ServiceUnavailable | None:
    """The 503 for an exception that says a service Semantik depends on is down or was lost
    mid-request; None for any other exception (a bug stays a 500)."""
    # Imported here: both modules import this one.
    from semantik.inference.base import InferenceUnavailable
    from semantik.vectors.base import VectorStoreUnavailable

    service = None
    if isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DatabaseError) and "connection" in str(exc).lower()
    ):
        service = "PostgreSQL"
    elif isinstance(exc, RedisConnectionError | RedisTimeoutError):
        service = "Redis"
    elif isinstance(exc, BrokerError):
        service = "Redis (the task queue)"
    elif isinstance(exc, InferenceUnavailable):
        service = "Triton (inference)"
    elif isinstance(exc, VectorStoreUnavailable):
        service = "Qdrant"
    if service is None:
        return None
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    return ServiceUnavailable(f"{service} is unavailable: {reason}. Try again shortly.")


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        # Django's own answer would be an HTML 400 (and an error log) for a body over its limit.
        exc = PayloadTooLarge(
            f"The request body is over the limit of {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes "
            "(DATA_UPLOAD_MAX_MEMORY_SIZE); send less at once."
        )
    elif not isinstance(exc, exceptions.APIException) and (unavailable := dependency_unavailable(exc)):
        # A lost dependency is the client's to retry, not a server bug: no traceback, a 503 saying which.
        logger.warning("%s", unavailable.detail, exc_info=False)
        exc = unavailable
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    body: dict[str, Any] = {"code": _code(exc), "message": _message(exc.detail)}
    if isinstance(exc, exceptions.ValidationError):
        body["details"] = exc.detail
    elif getattr(exc, "details", None) is not None:
        body["details"] = exc.details  # type: ignore[attr-defined]
    response.data = {"error": body}
    return response


def error_response(code: str, message: str, http_status: int) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=http_status)


@csrf_exempt  # Else a POST to an unknown URL is CSRF's HTML 403 instead of this 404: nothing here changes.
def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    return error_response("not_found", f"No API endpoint at {request.path}", 404)


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def paginated(
    request: Request,
    view: APIView,
    queryset: QuerySet[Any] | Sequence[Any],
    render: Callable[[list[Any]], Any],
) -> Response:
    """One page of `queryset` (or of a lazily sliced sequence) as {count, next, previous, results}."""
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request, view=view) or []
    return paginator.get_paginated_response(render(list(page)))


def parse_uuid(raw: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise exceptions.ValidationError({field: [f"{raw!r} is not a valid id."]}) from exc


def current_user(request: Request) -> User:
    """The authenticated user of a request that passed IsAuthenticated."""
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user

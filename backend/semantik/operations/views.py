"""Operations of the collections the caller may read: list, read, cancel and retry (editors and the owner)."""

from __future__ import annotations

from uuid import UUID

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from semantik.api import Pagination, current_user, paginated, parse_uuid
from semantik.documents.services import operation_retry
from semantik.openapi import error
from semantik.operations.models import Operation
from semantik.operations.selectors import operation_for, operations_readable_by
from semantik.operations.serializers import OperationSerializer
from semantik.operations.services import operation_cancel, operation_state


@extend_schema_view(get=extend_schema(responses=OperationSerializer))
class OperationDetailView(APIView):
    def get(self, request: Request, operation_id: UUID) -> Response:
        operation = operation_for(current_user(request), operation_id, "read")
        return Response(operation_state(operation))


@extend_schema_view(
    get=extend_schema(
        parameters=[
            OpenApiParameter("collection", OpenApiTypes.UUID, description="Only this collection's."),
            OpenApiParameter("status", enum=Operation.Status.values, description="Only those in this state."),
        ],
        responses=OperationSerializer(many=True),
    )
)
class OperationListView(APIView):
    pagination_class = Pagination

    def get(self, request: Request) -> Response:
        operations = operations_readable_by(current_user(request))
        if collection_id := request.query_params.get("collection"):
            operations = operations.filter(collection_id=parse_uuid(collection_id, "collection"))
        if status := request.query_params.get("status"):
            if status not in Operation.Status.values:
                allowed = ", ".join(Operation.Status.values)
                raise ValidationError({"status": [f"{status!r} is not an operation status ({allowed})."]})
            operations = operations.filter(status=status)
        return paginated(request, self, operations, lambda page: [operation_state(o) for o in page])


@extend_schema_view(
    post=extend_schema(
        request=None,
        description="A pending operation ends at once; a running one stops at its next file.",
        responses={202: OperationSerializer, 409: error("The operation has already ended (`conflict`).")},
    )
)
class OperationCancelView(APIView):
    def post(self, request: Request, operation_id: UUID) -> Response:
        operation = operation_for(current_user(request), operation_id, "write")
        return Response(operation_state(operation_cancel(str(operation.pk))), status=202)


@extend_schema_view(
    post=extend_schema(
        request=None,
        description=(
            "Queue a new operation that does again what a failed or cancelled one set out to do (the same "
            "kind, on the same source, document or reindex target). What the first one finished is "
            "skipped, so the collection ends exactly as if it had succeeded."
        ),
        responses={
            202: OperationSerializer,
            400: error("The operation has not failed or been cancelled, or its source is gone (`invalid`)."),
            409: error("Another write operation is under way on the collection (`conflict`)."),
        },
    )
)
class OperationRetryView(APIView):
    def post(self, request: Request, operation_id: UUID) -> Response:
        operation = operation_for(current_user(request), operation_id, "write")
        return Response(operation_state(operation_retry(operation=operation)), status=202)

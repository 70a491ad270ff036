"""Operations of the collections the caller may read: list, read, cancel (editors and the owner)."""

from __future__ import annotations

from uuid import UUID

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from semantik.api import current_user, paginated, parse_uuid
from semantik.operations.selectors import operation_for, operations_readable_by
from semantik.operations.services import operation_cancel, operation_state


class OperationDetailView(APIView):
    def get(self, request: Request, operation_id: UUID) -> Response:
        operation = operation_for(current_user(request), operation_id, "read")
        return Response(operation_state(operation))


class OperationListView(APIView):
    def get(self, request: Request) -> Response:
        operations = operations_readable_by(current_user(request))
        if collection_id := request.query_params.get("collection"):
            operations = operations.filter(collection_id=parse_uuid(collection_id, "collection"))
        if status := request.query_params.get("status"):
            operations = operations.filter(status=status)
        return paginated(request, self, operations, lambda page: [operation_state(o) for o in page])


class OperationCancelView(APIView):
    def post(self, request: Request, operation_id: UUID) -> Response:
        operation = operation_for(current_user(request), operation_id, "write")
        return Response(operation_state(operation_cancel(str(operation.pk))), status=202)

"""GET /api/v2/operations/{id}: an operation's status, counters and error."""

from __future__ import annotations

from uuid import UUID

from django.shortcuts import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from semantik.api import current_user
from semantik.operations.selectors import operations_for_user
from semantik.operations.services import operation_state


class OperationDetailView(APIView):
    def get(self, request: Request, operation_id: UUID) -> Response:
        operation = get_object_or_404(operations_for_user(current_user(request)), pk=operation_id)
        return Response(operation_state(operation))


class OperationListView(APIView):
    def get(self, request: Request) -> Response:
        operations = operations_for_user(current_user(request))[:100]
        return Response({"results": [operation_state(o) for o in operations]})

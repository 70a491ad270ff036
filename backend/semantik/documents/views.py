"""POST /api/v2/collections/{id}/sources: add a folder and start indexing it."""

from __future__ import annotations

from uuid import UUID

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from semantik.api import current_user
from semantik.collections.selectors import collection_get_for_user
from semantik.documents.serializers import SourceAddSerializer
from semantik.documents.services import source_add


class SourceListView(APIView):
    def get(self, request: Request, collection_id: UUID) -> Response:
        collection = collection_get_for_user(current_user(request), collection_id)
        sources = [
            {
                "id": str(s.id),
                "path": s.path,
                "created_at": s.created_at,
                "last_scanned_at": s.last_scanned_at,
            }
            for s in collection.sources.all()
        ]
        return Response({"results": sources})

    def post(self, request: Request, collection_id: UUID) -> Response:
        collection = collection_get_for_user(current_user(request), collection_id)
        body = SourceAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        operation = source_add(
            collection=collection, path=body.validated_data["path"], user=current_user(request)
        )
        return Response(
            {"operation_id": str(operation.id), "type": operation.type, "status": operation.status},
            status=status.HTTP_202_ACCEPTED,
        )

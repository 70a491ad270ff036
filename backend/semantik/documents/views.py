"""Sources of a collection (add, list, rescan, remove), its documents (list, read), chunking preview."""

from __future__ import annotations

from uuid import UUID

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from semantik.api import current_user, paginated, parse_uuid
from semantik.collections.selectors import collection_get_for_user
from semantik.documents.preview import chunking_preview
from semantik.documents.reindexing import collection_reindex
from semantik.documents.selectors import document_get, documents_list, source_get
from semantik.documents.serializers import (
    ChunkingPreviewSerializer,
    DocumentSerializer,
    ReindexSerializer,
    SourceAddSerializer,
    SourceSerializer,
)
from semantik.documents.services import source_add, source_remove, source_rescan
from semantik.operations.models import Operation


def accepted(operation: Operation) -> Response:
    body = {"operation_id": str(operation.id), "type": operation.type, "status": operation.status}
    return Response(body, status=status.HTTP_202_ACCEPTED)


class SourceListView(APIView):
    def get(self, request: Request, collection_id: UUID) -> Response:
        collection = collection_get_for_user(current_user(request), collection_id)
        return Response({"results": SourceSerializer(collection.sources.all(), many=True).data})

    def post(self, request: Request, collection_id: UUID) -> Response:
        user = current_user(request)
        collection = collection_get_for_user(user, collection_id)
        body = SourceAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        operation = source_add(
            collection=collection,
            path=data["path"],
            user=user,
            include=data.get("include"),
            exclude=data.get("exclude"),
        )
        return accepted(operation)


class ReindexView(APIView):
    """Rebuild the collection with another model or chunking; search uses the old index until the swap."""

    def post(self, request: Request, collection_id: UUID) -> Response:
        user = current_user(request)
        collection = collection_get_for_user(user, collection_id)
        body = ReindexSerializer(data=request.data, context={"collection": collection})
        body.is_valid(raise_exception=True)
        return accepted(collection_reindex(collection=collection, user=user, target=body.validated_data))


class SourceDetailView(APIView):
    def get(self, request: Request, collection_id: UUID, source_id: UUID) -> Response:
        collection = collection_get_for_user(current_user(request), collection_id)
        return Response(SourceSerializer(source_get(collection, source_id)).data)

    def delete(self, request: Request, collection_id: UUID, source_id: UUID) -> Response:
        user = current_user(request)
        source = source_get(collection_get_for_user(user, collection_id), source_id)
        return accepted(source_remove(source=source, user=user))


class SourceRescanView(APIView):
    def post(self, request: Request, collection_id: UUID, source_id: UUID) -> Response:
        user = current_user(request)
        source = source_get(collection_get_for_user(user, collection_id), source_id)
        return accepted(source_rescan(source=source, user=user))


class DocumentListView(APIView):
    def get(self, request: Request, collection_id: UUID) -> Response:
        collection = collection_get_for_user(current_user(request), collection_id)
        source = request.query_params.get("source")
        documents = documents_list(
            collection,
            status=request.query_params.get("status"),
            source_id=parse_uuid(source, "source") if source else None,
        )
        return paginated(request, self, documents, lambda page: DocumentSerializer(page, many=True).data)


class DocumentDetailView(APIView):
    def get(self, request: Request, collection_id: UUID, document_id: UUID) -> Response:
        collection = collection_get_for_user(current_user(request), collection_id)
        return Response(DocumentSerializer(document_get(collection, document_id)).data)


class ChunkingPreviewView(APIView):
    """POST /api/v2/chunking/preview: the chunks a chunking configuration makes of a text or document."""

    def post(self, request: Request) -> Response:
        body = ChunkingPreviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        preview = chunking_preview(
            current_user(request),
            text=data.get("text"),
            file_name=data.get("file_name"),
            collection_id=data.get("collection"),
            document_id=data.get("document"),
            embedding_model=data.get("embedding_model"),
            chunking_strategy=data.get("chunking_strategy"),
            chunk_size=data.get("chunk_size"),
            chunk_overlap=data.get("chunk_overlap"),
        )
        return Response(preview)

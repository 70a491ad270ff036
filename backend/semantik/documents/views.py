"""Sources of a collection (add, list, rescan, remove), uploads, documents (list, read, chunks, file,
text, retry), chunking preview."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any
from uuid import UUID

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from semantik.api import Pagination, current_user, paginated, parse_uuid
from semantik.collections.selectors import collection_for
from semantik.documents.content import document_file, document_mime_type, document_open, document_text_window
from semantik.documents.models import Document
from semantik.documents.preview import chunking_preview
from semantik.documents.reindexing import collection_reindex
from semantik.documents.selectors import (
    DocumentChunks,
    document_for,
    document_get,
    documents_list,
    source_get,
)
from semantik.documents.serializers import (
    ChunkingPreviewResultSerializer,
    ChunkingPreviewSerializer,
    DocumentChunkSerializer,
    DocumentSerializer,
    DocumentTextSerializer,
    ReindexSerializer,
    SourceAddSerializer,
    SourceListSerializer,
    SourceSerializer,
    TextRangeSerializer,
    UploadQueuedSerializer,
    UploadSerializer,
)
from semantik.documents.services import document_retry, source_add, source_remove, source_rescan, upload_add
from semantik.documents.uploads import UploadParser
from semantik.openapi import error
from semantik.operations.models import Operation
from semantik.operations.serializers import OperationQueuedSerializer
from semantik.operations.services import operation_ensure_idle

BUSY = error("A write operation is under way on the collection; wait for it to finish (`conflict`).")
CHANGED = error("The file has changed since it was indexed: rescan its source first (`conflict`).")
UNREADABLE = error("The file is over MAX_FILE_BYTES, or its text cannot be extracted (`unreadable`).")
NOT_FAILED = error("The document has not failed: only a failed document is retried (`invalid`).")
QDRANT_DOWN = error("Qdrant is unavailable (`service_unavailable`).")

# Types a browser shows without running anything of the file's own: inline, without a sandbox,
# because browsers' PDF viewers do not work inside one. Everything else is an attachment.
_INLINE_TYPES = {"application/pdf"}
# Types a browser would run (scripts in a page, an SVG, XML that is XHTML): sent as plain text, so
# even a browser that ignores the sandbox and the attachment shows their source.
_ACTIVE_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "application/xml",
    "text/xml",
    "text/javascript",
    "application/javascript",
    "application/ecmascript",
    "message/rfc822",
}


def safe_content_type(mime_type: str) -> str:
    """The type a document's file is served as: its own, unless a browser could run it."""
    if mime_type in _ACTIVE_TYPES or mime_type.endswith(("+xml", "script")):
        return "text/plain; charset=utf-8"
    return mime_type


def accepted(operation: Operation, **extra: Any) -> Response:
    body = {"operation_id": str(operation.id), "type": operation.type, "status": operation.status, **extra}
    return Response(body, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    get=extend_schema(operation_id="collections_sources_list", responses=SourceListSerializer),
    post=extend_schema(
        request=SourceAddSerializer,
        description="Add a folder inside DOCUMENT_PATH and index it; adding it again rescans it.",
        responses={202: OperationQueuedSerializer, 409: BUSY},
    ),
)
class SourceListView(APIView):
    def get(self, request: Request, collection_id: UUID) -> Response:
        collection = collection_for(current_user(request), collection_id, "read")
        return Response({"results": SourceSerializer(collection.sources.all(), many=True).data})

    def post(self, request: Request, collection_id: UUID) -> Response:
        user = current_user(request)
        collection = collection_for(user, collection_id, "write")
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


@extend_schema_view(
    post=extend_schema(request=ReindexSerializer, responses={202: OperationQueuedSerializer, 409: BUSY})
)
class ReindexView(APIView):
    """Rebuild the collection with another model or chunking; search uses the old index until the swap."""

    def post(self, request: Request, collection_id: UUID) -> Response:
        user = current_user(request)
        collection = collection_for(user, collection_id, "write")
        body = ReindexSerializer(data=request.data, context={"collection": collection})
        body.is_valid(raise_exception=True)
        return accepted(collection_reindex(collection=collection, user=user, target=body.validated_data))


@extend_schema_view(
    get=extend_schema(responses=SourceSerializer),
    delete=extend_schema(
        description="Queue the removal of the source with its documents and vectors.",
        responses={202: OperationQueuedSerializer, 409: BUSY},
    ),
)
class SourceDetailView(APIView):
    def get(self, request: Request, collection_id: UUID, source_id: UUID) -> Response:
        collection = collection_for(current_user(request), collection_id, "read")
        return Response(SourceSerializer(source_get(collection, source_id)).data)

    def delete(self, request: Request, collection_id: UUID, source_id: UUID) -> Response:
        user = current_user(request)
        source = source_get(collection_for(user, collection_id, "write"), source_id)
        return accepted(source_remove(source=source, user=user))


@extend_schema_view(post=extend_schema(request=None, responses={202: OperationQueuedSerializer, 409: BUSY}))
class SourceRescanView(APIView):
    def post(self, request: Request, collection_id: UUID, source_id: UUID) -> Response:
        user = current_user(request)
        source = source_get(collection_for(user, collection_id, "write"), source_id)
        return accepted(source_rescan(source=source, user=user))


@extend_schema_view(
    post=extend_schema(
        request=UploadSerializer,
        responses={
            202: UploadQueuedSerializer,
            409: BUSY,
            413: error("A file, or the whole body, is over its size limit (`too_large`)."),
            500: error("A file could not be stored (`upload_failed`); nothing was kept."),
        },
    )
)
class UploadView(APIView):
    """POST /api/v2/collections/{id}/uploads: multipart `files` (and optional `paths`, one per file)."""

    parser_classes = [UploadParser]

    def post(self, request: Request, collection_id: UUID) -> Response:
        user = current_user(request)
        collection = collection_for(user, collection_id, "write")
        operation_ensure_idle(collection)  # before the body is read: a busy collection stores nothing
        form = request.POST  # the parsed form fields: one `paths` value per file, if any
        operation, stored = upload_add(
            collection=collection,
            user=user,
            files=request.FILES.getlist("files"),
            paths=form.getlist("paths") if "paths" in form else None,
        )
        return accepted(operation, source_id=operation.params["source_id"], files=stored)


@extend_schema_view(
    get=extend_schema(
        parameters=[
            OpenApiParameter(
                "status", enum=Document.Status.values, description="Only documents in this state."
            ),
            OpenApiParameter("source", OpenApiTypes.UUID, description="Only documents of this source."),
        ],
        responses=DocumentSerializer(many=True),
    )
)
class DocumentListView(APIView):
    pagination_class = Pagination

    def get(self, request: Request, collection_id: UUID) -> Response:
        collection = collection_for(current_user(request), collection_id, "read")
        source = request.query_params.get("source")
        documents = documents_list(
            collection,
            status=request.query_params.get("status"),
            source_id=parse_uuid(source, "source") if source else None,
        )
        return paginated(request, self, documents, lambda page: DocumentSerializer(page, many=True).data)


@extend_schema_view(get=extend_schema(responses=DocumentSerializer))
class DocumentDetailView(APIView):
    def get(self, request: Request, collection_id: UUID, document_id: UUID) -> Response:
        collection = collection_for(current_user(request), collection_id, "read")
        return Response(DocumentSerializer(document_get(collection, document_id)).data)


@extend_schema_view(get=extend_schema(responses=DocumentSerializer))
class DocumentView(APIView):
    """GET /api/v2/documents/{id}: the document, as in its collection's list."""

    def get(self, request: Request, document_id: UUID) -> Response:
        return Response(DocumentSerializer(document_for(current_user(request), document_id, "read")).data)


@extend_schema_view(get=extend_schema(responses={200: DocumentChunkSerializer(many=True), 503: QDRANT_DOWN}))
class DocumentChunksView(APIView):
    """GET /api/v2/documents/{id}/chunks: its chunks as Qdrant holds them, paginated, in order."""

    pagination_class = Pagination

    def get(self, request: Request, document_id: UUID) -> Response:
        document = document_for(current_user(request), document_id, "read")
        return paginated(request, self, DocumentChunks(document), lambda page: page)


class _AnyAccept(BaseContentNegotiation):
    """The file is what it is, whatever the client accepts; errors are still JSON."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


@extend_schema_view(
    get=extend_schema(
        responses={
            (200, "*/*"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The file as the type sniffed from its content: a PDF inline, any other "
                "type as an attachment, a type a browser could run (HTML, SVG, XML, script) as text/plain.",
            )
        }
    )
)
class DocumentContentView(APIView):
    """GET /api/v2/documents/{id}/content: the original file: a PDF inline, anything else an attachment."""

    content_negotiation_class = _AnyAccept

    def get(self, request: Request, document_id: UUID) -> FileResponse:
        document = document_for(current_user(request), document_id, "read")
        path = document_file(document)
        mime_type = document_mime_type(document, path)
        response = FileResponse(
            document_open(document, path),
            content_type=safe_content_type(mime_type),
            as_attachment=mime_type not in _INLINE_TYPES,
            filename=PurePosixPath(document.relative_path).name,
        )
        response["X-Content-Type-Options"] = "nosniff"
        # The UI may show it in a frame; its own scripts (an HTML page's, an SVG's) never run.
        response["X-Frame-Options"] = "SAMEORIGIN"
        if mime_type not in _INLINE_TYPES:
            response["Content-Security-Policy"] = "sandbox"
        return response


@extend_schema_view(
    get=extend_schema(
        parameters=[TextRangeSerializer],
        responses={200: DocumentTextSerializer, 409: CHANGED, 422: UNREADABLE},
    )
)
class DocumentTextView(APIView):
    """GET /api/v2/documents/{id}/text?start=&end=: the extracted text (a range of it) and page starts."""

    def get(self, request: Request, document_id: UUID) -> Response:
        document = document_for(current_user(request), document_id, "read")
        window = TextRangeSerializer(data=request.query_params)
        window.is_valid(raise_exception=True)
        return Response(
            document_text_window(document, window.validated_data["start"], window.validated_data.get("end"))
        )


@extend_schema_view(
    post=extend_schema(request=None, responses={202: OperationQueuedSerializer, 400: NOT_FAILED, 409: BUSY})
)
class DocumentRetryView(APIView):
    """POST /api/v2/documents/{id}/retry: index a failed document again."""

    def post(self, request: Request, document_id: UUID) -> Response:
        user = current_user(request)
        return accepted(document_retry(document=document_for(user, document_id, "write"), user=user))


@extend_schema_view(
    post=extend_schema(
        request=ChunkingPreviewSerializer,
        responses={
            200: ChunkingPreviewResultSerializer,
            404: error(
                "The collection or document the body names does not exist, or is not yours to see, "
                "which reads the same (`not_found`)."
            ),
            409: CHANGED,
            422: UNREADABLE,
        },
    )
)
class ChunkingPreviewView(APIView):
    """POST /api/v2/chunking/preview: the chunks a chunking configuration makes of a text or document."""

    # It changes nothing: an API key that may read may preview.
    api_scope = "read"

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

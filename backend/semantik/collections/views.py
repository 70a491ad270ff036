"""Collection endpoints: list, create, read, change, delete, and share."""

from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from semantik.api import Pagination, current_user, paginated
from semantik.collections.selectors import (
    ROLES,
    collection_check,
    collection_for,
    collection_share_get,
    collection_shares,
    collections_readable_by,
)
from semantik.collections.serializers import (
    CollectionCreateSerializer,
    CollectionDetailSerializer,
    CollectionSerializer,
    CollectionUpdateSerializer,
    ShareCreateSerializer,
    ShareSerializer,
    ShareUpdateSerializer,
)
from semantik.collections.services import (
    collection_create,
    collection_delete,
    collection_share,
    collection_share_update,
    collection_unshare,
    collection_update,
)
from semantik.openapi import error


@extend_schema_view(
    get=extend_schema(responses=CollectionSerializer(many=True)),
    post=extend_schema(
        request=CollectionCreateSerializer,
        responses={
            201: CollectionDetailSerializer,
            503: error("Qdrant is unavailable: no collection is created."),
        },
    ),
)
class CollectionListView(APIView):
    pagination_class = Pagination

    def get(self, request: Request) -> Response:
        role = request.query_params.get("role")
        if role is not None and role not in ROLES:
            raise ValidationError({"role": [f"{role!r} is not a role ({', '.join(ROLES)})."]})
        collections = collections_readable_by(current_user(request), role=role)
        return paginated(request, self, collections, lambda page: CollectionSerializer(page, many=True).data)

    def post(self, request: Request) -> Response:
        user = current_user(request)
        body = CollectionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        collection = collection_create(
            owner=user,
            name=data["name"],
            description=data["description"],
            model=data["model"],
            chunking_strategy=data["chunking_strategy"],
            chunk_size=data["chunk_size"],
            chunk_overlap=data["chunk_overlap"],
            default_reranker=data["default_reranker"],
        )
        created = collection_for(user, collection.pk, "own")
        return Response(CollectionDetailSerializer(created).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(responses=CollectionDetailSerializer),
    patch=extend_schema(request=CollectionUpdateSerializer, responses=CollectionDetailSerializer),
    delete=extend_schema(
        responses={
            204: None,
            409: error("An operation is under way on the collection: cancel it or wait (`conflict`)."),
        }
    ),
)
class CollectionDetailView(APIView):
    def get(self, request: Request, collection_id: UUID) -> Response:
        collection = collection_for(current_user(request), collection_id, "read")
        return Response(CollectionDetailSerializer(collection).data)

    def patch(self, request: Request, collection_id: UUID) -> Response:
        user = current_user(request)
        collection = collection_for(user, collection_id, "read")
        body = CollectionUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        # Editors change what the collection says and does; whether everyone may read it is the owner's call.
        collection_check(user, collection, "own" if "is_public" in body.validated_data else "write")
        collection_update(collection, **body.validated_data)
        return Response(CollectionDetailSerializer(collection_for(user, collection_id, "read")).data)

    def delete(self, request: Request, collection_id: UUID) -> Response:
        collection_delete(collection_for(current_user(request), collection_id, "own"))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ShareListView(APIView):
    """GET/POST /api/v2/collections/{id}/shares: who else may use the collection (owner only)."""

    @extend_schema(responses=inline_serializer("ShareList", {"results": ShareSerializer(many=True)}))
    def get(self, request: Request, collection_id: UUID) -> Response:
        collection = collection_for(current_user(request), collection_id, "own")
        return Response({"results": ShareSerializer(collection_shares(collection), many=True).data})

    @extend_schema(request=ShareCreateSerializer, responses={201: ShareSerializer, 200: ShareSerializer})
    def post(self, request: Request, collection_id: UUID) -> Response:
        collection = collection_for(current_user(request), collection_id, "own")
        body = ShareCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        share, created = collection_share(collection, **body.validated_data)
        return Response(
            ShareSerializer(share).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class ShareDetailView(APIView):
    """PATCH/DELETE /api/v2/collections/{id}/shares/{user_id}: change a user's role, or end it."""

    @extend_schema(request=ShareUpdateSerializer, responses=ShareSerializer)
    def patch(self, request: Request, collection_id: UUID, user_id: int) -> Response:
        collection = collection_for(current_user(request), collection_id, "own")
        share = collection_share_get(collection, user_id)
        body = ShareUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(ShareSerializer(collection_share_update(share, **body.validated_data)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, collection_id: UUID, user_id: int) -> Response:
        collection = collection_for(current_user(request), collection_id, "own")
        collection_unshare(collection_share_get(collection, user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

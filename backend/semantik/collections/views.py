"""Collection endpoints: list, create, read, rename, delete."""

from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from semantik.api import Pagination, current_user, paginated
from semantik.collections.selectors import collection_get_for_user, collections_for_user
from semantik.collections.serializers import (
    CollectionCreateSerializer,
    CollectionDetailSerializer,
    CollectionSerializer,
    CollectionUpdateSerializer,
)
from semantik.collections.services import collection_create, collection_delete, collection_update
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
        collections = collections_for_user(current_user(request))
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
        created = collection_get_for_user(user, collection.pk)
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
        collection = collection_get_for_user(current_user(request), collection_id)
        return Response(CollectionDetailSerializer(collection).data)

    def patch(self, request: Request, collection_id: UUID) -> Response:
        user = current_user(request)
        collection = collection_get_for_user(user, collection_id)
        body = CollectionUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        collection_update(collection, **body.validated_data)
        return Response(CollectionDetailSerializer(collection_get_for_user(user, collection_id)).data)

    def delete(self, request: Request, collection_id: UUID) -> Response:
        collection_delete(collection_get_for_user(current_user(request), collection_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

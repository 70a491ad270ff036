"""Collection endpoints: list, create, detail."""

from __future__ import annotations

from uuid import UUID

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from semantik.api import current_user
from semantik.collections.selectors import collection_get_for_user, collections_for_user
from semantik.collections.serializers import CollectionCreateSerializer, CollectionSerializer
from semantik.collections.services import collection_create


class CollectionListView(APIView):
    def get(self, request: Request) -> Response:
        return Response(
            {"results": CollectionSerializer(collections_for_user(current_user(request)), many=True).data}
        )

    def post(self, request: Request) -> Response:
        body = CollectionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        collection = collection_create(
            owner=current_user(request),
            name=data["name"],
            description=data["description"],
            model=data["model"],
            chunk_size=data["chunk_size"],
            chunk_overlap=data["chunk_overlap"],
        )
        created = collection_get_for_user(current_user(request), collection.pk)
        return Response(CollectionSerializer(created).data, status=status.HTTP_201_CREATED)


class CollectionDetailView(APIView):
    def get(self, request: Request, collection_id: UUID) -> Response:
        return Response(
            CollectionSerializer(collection_get_for_user(current_user(request), collection_id)).data
        )

"""POST /api/v2/search."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from semantik.api import current_user
from semantik.openapi import error
from semantik.search.serializers import SearchRequestSerializer, SearchResponseSerializer
from semantik.search.services import search


@extend_schema_view(
    post=extend_schema(
        request=SearchRequestSerializer,
        responses={
            200: SearchResponseSerializer,
            404: error("A collection does not exist or is not yours to see (`not_found`)."),
            503: error(
                "The embedding service (Triton), Qdrant or Redis is unavailable (`service_unavailable`)."
            ),
        },
    )
)
class SearchView(APIView):
    api_scope = "search"

    def post(self, request: Request) -> Response:
        body = SearchRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        outcome = search(
            user=current_user(request),
            query=data["query"],
            collection_ids=data["collections"],
            k=data["k"],
            mode=data["mode"],
            fusion=data["fusion"],
            weights=data.get("weights"),
            score_threshold=data.get("score_threshold"),
        )
        return Response({"query": data["query"], **outcome})

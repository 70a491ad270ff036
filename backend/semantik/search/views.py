"""POST /api/v2/search and POST /api/v2/search/evaluate."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from semantik.api import current_user
from semantik.collections.selectors import collections_get_many_for_user
from semantik.openapi import error
from semantik.search.evaluation import evaluate
from semantik.search.serializers import (
    EvaluationReportSerializer,
    EvaluationRequestSerializer,
    SearchRequestSerializer,
    SearchResponseSerializer,
)
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
        outcome = search(
            user=current_user(request),
            collection_ids=body.validated_data["collections"],
            request=body.search_request(),
        )
        return Response({"query": body.validated_data["query"], **outcome})


@extend_schema_view(
    post=extend_schema(
        request=EvaluationRequestSerializer,
        responses={
            200: EvaluationReportSerializer,
            404: error("A collection does not exist or is not yours to see (`not_found`)."),
        },
    )
)
class EvaluationView(APIView):
    # It runs searches and changes nothing: an API key needs the search scope.
    api_scope = "search"

    def post(self, request: Request) -> Response:
        body = EvaluationRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        report = evaluate(
            collections_get_many_for_user(current_user(request), data["collections"]),
            data["queries"],
            modes=data["modes"],
            rerank=data["rerank"],
            k=data["k"],
        )
        return Response(report)

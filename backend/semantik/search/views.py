"""POST /api/v2/search."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from semantik.api import current_user
from semantik.search.serializers import SearchRequestSerializer
from semantik.search.services import search


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

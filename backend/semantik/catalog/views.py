"""GET /api/v2/models: every model this installation serves, its precisions and whether each is ready."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from semantik.api import Pagination
from semantik.catalog.selectors import catalog_models, catalog_readiness
from semantik.catalog.serializers import CatalogModelSerializer, ModelListQuerySerializer


@extend_schema_view(
    get=extend_schema(parameters=[ModelListQuerySerializer], responses=CatalogModelSerializer(many=True))
)
class ModelListView(APIView):
    pagination_class = Pagination

    def get(self, request: Request) -> Response:
        query = ModelListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        paginator = Pagination()
        page = paginator.paginate_queryset(
            catalog_models(query.validated_data.get("kind")), request, view=self
        )
        models = list(page or [])
        context = {"readiness": catalog_readiness(models)}
        return paginator.get_paginated_response(
            CatalogModelSerializer(models, many=True, context=context).data
        )

"""Catalog response shapes: a model with its shared properties, and one entry per exported variant."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from semantik.catalog.selectors import CatalogModel
from semantik.inference.models import EMBEDDING, KINDS, ModelInfo


class ModelListQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KINDS, required=False)


class VariantSerializer(serializers.Serializer):
    name = serializers.CharField()
    precision = serializers.CharField(source="precision_name")
    target = serializers.CharField()
    ready = serializers.SerializerMethodField()
    # Why it is not ready ("" when it is): Triton's state, Triton unreachable, or the load error.
    reason = serializers.SerializerMethodField()

    def get_ready(self, variant: ModelInfo) -> bool:
        return self.context["readiness"].get(variant.name, "unknown") == ""

    def get_reason(self, variant: ModelInfo) -> str:
        return str(self.context["readiness"].get(variant.name, "unknown"))


class CatalogModelSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.CharField()
    # The model it was exported from (a Hugging Face id or a folder). The field's name shadows
    # Field.source only for the type checker: DRF moves declared fields off the class.
    source = serializers.CharField(source="first.source")  # type: ignore[assignment]
    # The vector width; null for a reranker, which gives one score per pair.
    dimension = serializers.SerializerMethodField()
    max_length = serializers.IntegerField(source="first.max_length")
    pooling = serializers.CharField(source="first.pooling")
    query_prefix = serializers.CharField(source="first.query_prefix", allow_null=True)
    document_prefix = serializers.CharField(source="first.document_prefix", allow_null=True)
    # What turns a reranker's logit into its score (sigmoid, identity); null for an embedder.
    activation = serializers.CharField(source="first.activation", allow_null=True)
    precisions = serializers.ListField(child=serializers.CharField())
    ready = serializers.SerializerMethodField()
    variants = serializers.SerializerMethodField()

    def get_dimension(self, model: CatalogModel) -> int | None:
        return model.first.dimension if model.kind == EMBEDDING else None

    def get_ready(self, model: CatalogModel) -> bool:
        """At least one precision can serve now."""
        return any(self.context["readiness"].get(v.name, "unknown") == "" for v in model.variants)

    @extend_schema_field(VariantSerializer(many=True))
    def get_variants(self, model: CatalogModel) -> list[dict[str, Any]]:
        return list(VariantSerializer(model.variants, many=True, context=self.context).data)

"""Search request shapes: a search, its filters, and a quality evaluation."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

from semantik.inference.runtime import available_rerankers
from semantik.search.evaluation import LabelledQuery, RerankSetting
from semantik.search.filters import SearchFilters
from semantik.search.services import (
    FUSIONS,
    MAX_CONTEXT,
    MAX_RERANK_CANDIDATES,
    MAX_WINDOW,
    MODES,
    SearchRequest,
)

RETRIEVERS = ("semantic", "keyword")
MAX_LIMIT = 100
_MIME_TYPE = re.compile(r"^[\w.+-]+/(?:[\w.+-]+|\*)$")


class WeightsField(serializers.DictField):
    """{"semantic": w, "keyword": w}: positive weights of the two retrievers in hybrid mode."""

    child = serializers.FloatField(min_value=0, max_value=100)

    def to_internal_value(self, data: Any) -> dict[str, float]:
        weights: dict[str, float] = super().to_internal_value(data)
        unknown = sorted(set(weights) - set(RETRIEVERS))
        if unknown:
            raise serializers.ValidationError(
                f"Unknown retriever {', '.join(map(repr, unknown))}; weights take {' and '.join(RETRIEVERS)}."
            )
        if any(weight <= 0 for weight in weights.values()):
            raise serializers.ValidationError(
                "Weights must be positive; to leave a retriever out, use mode semantic or keyword."
            )
        return weights


class MimeTypeField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        value: str = super().to_internal_value(data)
        if not _MIME_TYPE.match(value):
            raise serializers.ValidationError(
                f"{value!r} is not a mime type: write type/subtype (text/markdown) or type/* (text/*)."
            )
        return value.lower()


def validate_reranker(name: str) -> None:
    known = available_rerankers()
    if name not in known:
        listing = ", ".join(sorted(known)) or "none is exported"
        raise serializers.ValidationError(f"Unknown reranker {name!r}; available: {listing}.")


class SearchFiltersSerializer(serializers.Serializer):
    path_prefix = serializers.CharField(required=False, max_length=4096, trim_whitespace=False)
    path_glob = serializers.CharField(required=False, max_length=4096, trim_whitespace=False)
    mime_types = serializers.ListField(
        child=MimeTypeField(max_length=128), min_length=1, max_length=50, required=False
    )
    modified_after = serializers.DateTimeField(required=False)
    modified_before = serializers.DateTimeField(required=False)
    document_ids = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=1000, required=False
    )

    def validate(self, attrs: dict[str, Any]) -> SearchFilters:  # type: ignore[override]
        after, before = attrs.get("modified_after"), attrs.get("modified_before")
        if after and before and after >= before:
            raise serializers.ValidationError({"modified_before": ["Must be later than modified_after."]})
        return SearchFilters(
            path_prefix=attrs.get("path_prefix"),
            path_glob=attrs.get("path_glob"),
            mime_types=tuple(attrs["mime_types"]) if "mime_types" in attrs else None,
            modified_after=after,
            modified_before=before,
            document_ids=tuple(str(i) for i in attrs["document_ids"]) if "document_ids" in attrs else None,
        )


class SearchRequestSerializer(serializers.Serializer):
    query = serializers.CharField(max_length=2000, trim_whitespace=True)
    collections = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=50)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, required=False)
    k = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, required=False)  # older name of limit
    offset = serializers.IntegerField(min_value=0, max_value=MAX_WINDOW - 1, default=0)
    mode = serializers.ChoiceField(choices=MODES, default="semantic")
    fusion = serializers.ChoiceField(choices=FUSIONS, required=False)
    weights = WeightsField(required=False)
    score_threshold = serializers.FloatField(min_value=-1, max_value=1, required=False, allow_null=True)
    filters = SearchFiltersSerializer(required=False)
    rerank = serializers.BooleanField(required=False, allow_null=True, default=None)
    reranker = serializers.CharField(required=False, max_length=128, validators=[validate_reranker])
    rerank_candidates = serializers.IntegerField(min_value=1, max_value=MAX_RERANK_CANDIDATES, required=False)
    # The field named as the API names it; DRF's metaclass moves it out of the way of Serializer.context.
    context = serializers.IntegerField(min_value=0, max_value=MAX_CONTEXT, default=0)  # type: ignore[assignment]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        mode = attrs["mode"]
        for name in ("fusion", "weights"):
            if name in attrs and mode != "hybrid":
                raise serializers.ValidationError({name: [f'Applies to mode "hybrid" only, not "{mode}".']})
        if attrs.get("score_threshold") is not None and mode == "keyword":
            raise serializers.ValidationError(
                {
                    "score_threshold": [
                        'Applies to the semantic (cosine) score, which mode "keyword" does not compute.'
                    ]
                }
            )
        if "limit" in attrs and "k" in attrs and attrs["limit"] != attrs["k"]:
            raise serializers.ValidationError({"k": ["k is the older name of limit: give one of them."]})
        limit = attrs.get("limit") or attrs.get("k") or 10
        if attrs["offset"] + limit > MAX_WINDOW:
            raise serializers.ValidationError({"offset": [f"offset + limit may be at most {MAX_WINDOW}."]})
        if attrs["rerank"] is False:
            for name in ("reranker", "rerank_candidates"):
                if name in attrs:
                    raise serializers.ValidationError({name: ["Means nothing with rerank false."]})
        return {**attrs, "limit": limit}

    def search_request(self) -> SearchRequest:
        data = self.validated_data
        return SearchRequest(
            query=data["query"],
            limit=data["limit"],
            offset=data["offset"],
            mode=data["mode"],
            fusion=data.get("fusion", "rrf"),
            weights=data.get("weights"),
            score_threshold=data.get("score_threshold"),
            filters=data.get("filters"),
            rerank=data["rerank"],
            reranker=data.get("reranker"),
            rerank_candidates=data.get("rerank_candidates"),
            context=data["context"],
        )


class RerankSettingField(serializers.Field):
    """false (no reranking), true (the collections' default reranker) or a reranker's name."""

    def to_internal_value(self, data: Any) -> RerankSetting:
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and data:
            validate_reranker(data)
            return data
        raise serializers.ValidationError("Expected false, true or a reranker's name.")

    def to_representation(self, value: RerankSetting) -> RerankSetting:
        return value


class LabelledQuerySerializer(serializers.Serializer):
    query = serializers.CharField(max_length=2000)
    relevant = serializers.ListField(
        child=serializers.CharField(max_length=4096), min_length=1, max_length=1000
    )

    def validate(self, attrs: dict[str, Any]) -> LabelledQuery:  # type: ignore[override]
        return LabelledQuery(attrs["query"], tuple(attrs["relevant"]))


class EvaluationRequestSerializer(serializers.Serializer):
    """What `POST /api/v2/search/evaluate` and `semantik manage evaluate` take."""

    collections = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=50)
    queries = serializers.ListField(child=LabelledQuerySerializer(), min_length=1, max_length=2000)
    modes = serializers.ListField(
        child=serializers.ChoiceField(choices=MODES), min_length=1, max_length=3, default=list(MODES)
    )
    rerank = serializers.ListField(child=RerankSettingField(), min_length=1, max_length=4, default=[False])
    k = serializers.IntegerField(min_value=1, max_value=100, default=10)

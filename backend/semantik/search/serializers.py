"""Search request shapes: a search, its filters, and a quality evaluation."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import extend_schema_field, inline_serializer
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


@extend_schema_field(
    {"oneOf": [{"type": "boolean"}, {"type": "string"}], "description": "false, true or a reranker's name"}
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


class ScoresSerializer(serializers.Serializer):
    semantic = serializers.FloatField(
        allow_null=True, help_text="The cosine, if the semantic retriever found it."
    )
    keyword = serializers.FloatField(allow_null=True, help_text="BM25, if the keyword retriever found it.")
    fused = serializers.FloatField(allow_null=True, help_text="The fusion's score, in hybrid mode only.")
    rerank = serializers.FloatField(allow_null=True, help_text="The cross-encoder's score, if it reranked.")


class ContextSerializer(serializers.Serializer):
    before = serializers.CharField(help_text="The document's text just before the chunk (no overlap).")
    after = serializers.CharField(help_text="The document's text just after the chunk.")


# Fields given as a dict: a declared `context` field would shadow Field.context.
SEARCH_RESULT_FIELDS: dict[str, serializers.Field] = {
    "text": serializers.CharField(),
    "highlights": serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(), min_length=2, max_length=2),
        help_text="[start, end) character positions in `text` of the query's terms.",
    ),
    "path": serializers.CharField(help_text="The document's path relative to its source."),
    "title": serializers.CharField(allow_null=True),
    "score": serializers.FloatField(
        help_text="What the results are ranked by: rerank, fused, BM25 or cosine."
    ),
    "scores": ScoresSerializer(),
    "document_id": serializers.UUIDField(),
    "chunk_index": serializers.IntegerField(min_value=0),
    "start": serializers.IntegerField(help_text="Character offsets of the chunk in the document's text."),
    "end": serializers.IntegerField(),
    "page": serializers.IntegerField(
        allow_null=True, help_text="The PDF or PPTX page of `start`, else null."
    ),
    "heading_path": serializers.ListField(
        child=serializers.CharField(),
        help_text="Titles of the headings the chunk sits under, outermost first.",
    ),
    "collection_id": serializers.UUIDField(),
    "preview_url": serializers.CharField(help_text="Where the UI opens the document at this chunk."),
    "context": ContextSerializer(allow_null=True, help_text="With `context` > 0 in the request; else null."),
}


class RerankerUseSerializer(serializers.Serializer):
    name = serializers.CharField()
    applied = serializers.BooleanField()
    reason = serializers.CharField(help_text="Why it was not applied (timeout, failure); empty when it was.")


class CollectionErrorSerializer(serializers.Serializer):
    collection_id = serializers.UUIDField()
    message = serializers.CharField()


# Built from a dict: a declared `errors` field would shadow Serializer.errors.
SearchResponseSerializer = inline_serializer(
    name="SearchResponse",
    fields={
        "query": serializers.CharField(),
        "mode": serializers.ChoiceField(
            choices=MODES, help_text="What ran: a hybrid query without keyword terms runs as semantic."
        ),
        "fusion": serializers.ChoiceField(
            choices=FUSIONS, allow_null=True, help_text="In hybrid mode; else null."
        ),
        "merge": serializers.CharField(
            allow_null=True, help_text='"rrf" when several collections were merged.'
        ),
        "reranker": RerankerUseSerializer(allow_null=True),
        "offset": serializers.IntegerField(),
        "limit": serializers.IntegerField(),
        "results": inline_serializer(
            name="SearchResult", fields=SEARCH_RESULT_FIELDS, many=True, help_text="Best first."
        ),
        "errors": CollectionErrorSerializer(
            many=True, help_text="Collections that could not be searched, and why."
        ),
    },
)


class EvaluationRunSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=MODES)
    rerank = serializers.JSONField(help_text="false, true or a reranker's name, as asked.")
    reranker = serializers.CharField(allow_null=True)
    ndcg_at_10 = serializers.FloatField()
    recall_at_k = serializers.FloatField()
    mrr = serializers.FloatField()
    queries = serializers.IntegerField()
    failed = serializers.IntegerField(help_text="Searches that raised (counted as finding nothing).")
    reranked = serializers.IntegerField(help_text="Searches the reranker actually reordered.")
    mean_ms = serializers.FloatField()


class EvaluationReportSerializer(serializers.Serializer):
    k = serializers.IntegerField()
    queries = serializers.IntegerField(
        help_text="Queries with at least one relevant document in the collections."
    )
    skipped = serializers.ListField(child=serializers.CharField())
    unmatched = serializers.ListField(child=serializers.CharField())
    runs = EvaluationRunSerializer(many=True)

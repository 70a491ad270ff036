"""Search request shape."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from semantik.search.services import FUSIONS, MODES

RETRIEVERS = ("semantic", "keyword")


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


class SearchRequestSerializer(serializers.Serializer):
    query = serializers.CharField(max_length=2000, trim_whitespace=True)
    collections = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=50)
    k = serializers.IntegerField(min_value=1, max_value=100, default=10)
    mode = serializers.ChoiceField(choices=MODES, default="semantic")
    fusion = serializers.ChoiceField(choices=FUSIONS, required=False)
    weights = WeightsField(required=False)
    score_threshold = serializers.FloatField(min_value=-1, max_value=1, required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        mode = attrs["mode"]
        for field in ("fusion", "weights"):
            if field in attrs and mode != "hybrid":
                raise serializers.ValidationError({field: [f'Applies to mode "hybrid" only, not "{mode}".']})
        if attrs.get("score_threshold") is not None and mode == "keyword":
            raise serializers.ValidationError(
                {
                    "score_threshold": [
                        'Applies to the semantic (cosine) score, which mode "keyword" does not compute.'
                    ]
                }
            )
        attrs.setdefault("fusion", "rrf")
        return attrs


class ScoresSerializer(serializers.Serializer):
    semantic = serializers.FloatField(
        allow_null=True, help_text="The cosine, if the semantic retriever found it."
    )
    keyword = serializers.FloatField(allow_null=True, help_text="BM25, if the keyword retriever found it.")
    fused = serializers.FloatField(allow_null=True, help_text="The fusion's score, in hybrid mode only.")


class SearchResultSerializer(serializers.Serializer):
    text = serializers.CharField()
    path = serializers.CharField()
    score = serializers.FloatField(help_text="What the results are ranked by: fused, else BM25, else cosine.")
    scores = ScoresSerializer()
    document_id = serializers.UUIDField()
    chunk_index = serializers.IntegerField(min_value=0)
    start = serializers.IntegerField(help_text="Character offsets of the chunk in the document's text.")
    end = serializers.IntegerField()
    page = serializers.IntegerField(allow_null=True, help_text="The PDF or PPTX page of `start`, else null.")
    heading_path = serializers.ListField(
        child=serializers.CharField(),
        help_text="Titles of the headings the chunk sits under, outermost first.",
    )
    collection_id = serializers.UUIDField()


class SearchResponseSerializer(serializers.Serializer):
    query = serializers.CharField()
    mode = serializers.ChoiceField(
        choices=MODES, help_text="What ran: a hybrid query without keyword terms runs as semantic."
    )
    fusion = serializers.ChoiceField(choices=FUSIONS, allow_null=True, help_text="In hybrid mode; else null.")
    results = SearchResultSerializer(many=True, help_text="Best first.")

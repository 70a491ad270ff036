"""Collection request and response shapes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from semantik.collections.models import Collection
from semantik.collections.selectors import collection_vector_count
from semantik.documents.chunking import SPECIAL_TOKENS, chunking_errors
from semantik.inference.base import ModelNotFound
from semantik.inference.runtime import available_rerankers, model_info


def validate_default_reranker(name: str) -> None:
    """A reranker of the model repository, or "" for none."""
    if name and name not in (known := available_rerankers()):
        listing = ", ".join(sorted(known)) or "none is exported"
        raise serializers.ValidationError(f"Unknown reranker {name!r}; available: {listing}.")


class CollectionCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128, trim_whitespace=True)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    embedding_model = serializers.CharField(required=False)
    chunk_size = serializers.IntegerField(required=False, min_value=16)
    chunk_overlap = serializers.IntegerField(required=False, min_value=0)
    # The reranker searches use unless they say otherwise; "" for none.
    default_reranker = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=128, validators=[validate_default_reranker]
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            model = model_info(attrs.get("embedding_model") or settings.DEFAULT_EMBEDDING_MODEL)
        except ModelNotFound as exc:
            raise serializers.ValidationError({"embedding_model": [str(exc)]}) from exc
        chunk_size = attrs.get("chunk_size") or min(
            settings.DEFAULT_CHUNK_SIZE, model.max_length - SPECIAL_TOKENS
        )
        overlap = attrs.get("chunk_overlap")
        if overlap is None:
            overlap = min(settings.DEFAULT_CHUNK_OVERLAP, chunk_size // 4)
        if errors := chunking_errors(model.name, model.max_length, chunk_size, overlap):
            raise serializers.ValidationError(errors)
        return {**attrs, "model": model, "chunk_size": chunk_size, "chunk_overlap": overlap}


class CollectionUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128, trim_whitespace=True, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    # Minutes between periodic syncs of every source; null turns the sync off.
    sync_interval_minutes = serializers.IntegerField(required=False, allow_null=True, min_value=5)
    default_reranker = serializers.CharField(
        required=False, allow_blank=True, max_length=128, validators=[validate_default_reranker]
    )


class CollectionSerializer(serializers.ModelSerializer):
    document_count = serializers.IntegerField(read_only=True, default=0)
    failed_document_count = serializers.IntegerField(read_only=True, default=0)
    chunk_count = serializers.IntegerField(read_only=True, default=0)
    total_bytes = serializers.IntegerField(read_only=True, default=0)
    last_indexed_at = serializers.DateTimeField(read_only=True, default=None)

    class Meta:
        model = Collection
        fields = [
            "id",
            "name",
            "description",
            "embedding_model",
            "vector_dimension",
            "chunk_size",
            "chunk_overlap",
            "status",
            "document_count",
            "failed_document_count",
            "chunk_count",
            "total_bytes",
            "last_indexed_at",
            "created_at",
            "updated_at",
            "sync_interval_minutes",
            "default_reranker",
        ]
        read_only_fields = fields


class CollectionDetailSerializer(CollectionSerializer):
    vector_count = serializers.SerializerMethodField()

    class Meta(CollectionSerializer.Meta):
        fields = [*CollectionSerializer.Meta.fields, "vector_count"]
        read_only_fields = fields

    def get_vector_count(self, collection: Collection) -> int | None:
        return collection_vector_count(collection)

"""Collection request and response shapes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from semantik.catalog.selectors import PrecisionNotServed, document_max_length, served_model
from semantik.collections.models import Collection, CollectionShare
from semantik.collections.selectors import collection_vector_count
from semantik.documents.chunking import SPECIAL_TOKENS, chunking_errors
from semantik.inference.base import ModelNotFound
from semantik.inference.runtime import available_rerankers


def validate_default_reranker(name: str) -> None:
    """A reranker of the model repository, or "" for none."""
    if name and name not in (known := available_rerankers()):
        listing = ", ".join(sorted(known)) or "none is exported"
        raise serializers.ValidationError(f"Unknown reranker {name!r}; available: {listing}.")


class CollectionCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128, trim_whitespace=True)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    # A model of GET /api/v2/models; its variant is chosen by `precision`.
    embedding_model = serializers.CharField(required=False)
    chunking_strategy = serializers.ChoiceField(
        choices=Collection.Chunking.choices, default=Collection.Chunking.RECURSIVE
    )
    precision = serializers.ChoiceField(choices=Collection.Precision.choices, required=False)
    chunk_size = serializers.IntegerField(required=False, min_value=16)
    chunk_overlap = serializers.IntegerField(required=False, min_value=0)
    # The reranker searches use unless they say otherwise; "" for none.
    default_reranker = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=128, validators=[validate_default_reranker]
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            model = served_model(
                attrs.get("embedding_model") or settings.DEFAULT_EMBEDDING_MODEL, attrs.get("precision")
            )
        except PrecisionNotServed as exc:
            raise serializers.ValidationError({"precision": [str(exc)]}) from exc
        except ModelNotFound as exc:
            raise serializers.ValidationError({"embedding_model": [str(exc)]}) from exc
        # The document prefix (e5: "passage: ") is in front of every chunk the model reads.
        max_length = document_max_length(model.info)
        chunk_size = attrs.get("chunk_size") or min(settings.DEFAULT_CHUNK_SIZE, max_length - SPECIAL_TOKENS)
        overlap = attrs.get("chunk_overlap")
        if overlap is None:
            overlap = min(settings.DEFAULT_CHUNK_OVERLAP, chunk_size // 4)
        if errors := chunking_errors(model.model, max_length, chunk_size, overlap):
            raise serializers.ValidationError(errors)
        return {**attrs, "model": model, "chunk_size": chunk_size, "chunk_overlap": overlap}


class CollectionUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=128, trim_whitespace=True, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    # Minutes between periodic syncs of every source; null turns the sync off.
    # At most what the database column holds (a larger number was a 500).
    sync_interval_minutes = serializers.IntegerField(
        required=False, allow_null=True, min_value=5, max_value=2**31 - 1
    )
    default_reranker = serializers.CharField(
        required=False, allow_blank=True, max_length=128, validators=[validate_default_reranker]
    )
    # Readable and searchable by every signed-in user; only the owner may change it.
    is_public = serializers.BooleanField(required=False)


class CollectionStateSerializer(serializers.ModelSerializer):
    """A collection as everyone who may read it sees it (the `collection.updated` event's data)."""

    owner = serializers.CharField(source="owner.username", read_only=True)
    document_count = serializers.IntegerField(read_only=True, default=0)
    failed_document_count = serializers.IntegerField(read_only=True, default=0)
    chunk_count = serializers.IntegerField(read_only=True, default=0)
    total_bytes = serializers.IntegerField(read_only=True, default=0)
    last_indexed_at = serializers.DateTimeField(read_only=True, default=None, allow_null=True)

    class Meta:
        model = Collection
        fields = [
            "id",
            "name",
            "description",
            "embedding_model",
            "precision",
            "vector_dimension",
            "chunking_strategy",
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
            "owner",
            "is_public",
        ]
        read_only_fields = fields


class CollectionSerializer(CollectionStateSerializer):
    """A collection as the caller sees it: with their `role` (owner, editor, viewer or public)."""

    role = serializers.CharField(read_only=True)

    class Meta(CollectionStateSerializer.Meta):
        fields = [*CollectionStateSerializer.Meta.fields, "role"]
        read_only_fields = fields


class CollectionDetailSerializer(CollectionSerializer):
    vector_count = serializers.SerializerMethodField()

    class Meta(CollectionSerializer.Meta):
        fields = [*CollectionSerializer.Meta.fields, "vector_count"]
        read_only_fields = fields

    def get_vector_count(self, collection: Collection) -> int | None:
        return collection_vector_count(collection)


class ShareSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = CollectionShare
        fields = ["user_id", "username", "role", "created_at", "updated_at"]
        read_only_fields = fields


class ShareCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=CollectionShare.Role.choices)


class ShareUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=CollectionShare.Role.choices)

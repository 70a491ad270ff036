"""Source and document shapes."""

from typing import Any

from rest_framework import serializers

from semantik.catalog.selectors import PrecisionNotServed, document_max_length, served_model
from semantik.collections.models import Collection
from semantik.documents.chunking import SPECIAL_TOKENS, STRATEGIES, chunking_errors
from semantik.documents.models import Document, Source
from semantik.inference.base import ModelNotFound


class SourceAddSerializer(serializers.Serializer):
    path = serializers.CharField(max_length=4096)
    include = serializers.ListField(
        child=serializers.CharField(max_length=512), required=False, max_length=100
    )
    exclude = serializers.ListField(
        child=serializers.CharField(max_length=512), required=False, max_length=100
    )


class ReindexSerializer(serializers.Serializer):
    """What a reindex changes; whatever is left out keeps the collection's current value.

    Context: `collection`.
    """

    embedding_model = serializers.CharField(required=False)
    precision = serializers.ChoiceField(choices=Collection.Precision.choices, required=False)
    chunking_strategy = serializers.ChoiceField(choices=STRATEGIES, required=False)
    chunk_size = serializers.IntegerField(required=False, min_value=16)
    chunk_overlap = serializers.IntegerField(required=False, min_value=0)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        collection: Collection = self.context["collection"]
        name = attrs.get("embedding_model", collection.embedding_model)
        # A new model without a precision gets its default one; the same model keeps the collection's.
        precision = attrs.get("precision") or (None if "embedding_model" in attrs else collection.precision)
        try:
            model = served_model(name, precision)
        except PrecisionNotServed as exc:
            raise serializers.ValidationError({"precision": [str(exc)]}) from exc
        except ModelNotFound as exc:
            raise serializers.ValidationError({"embedding_model": [str(exc)]}) from exc
        max_length = document_max_length(model.info)
        size = attrs.get("chunk_size", min(collection.chunk_size, max_length - SPECIAL_TOKENS))
        overlap = attrs.get("chunk_overlap", min(collection.chunk_overlap, size // 4))
        if errors := chunking_errors(model.model, max_length, size, overlap):
            raise serializers.ValidationError(errors)
        return {
            "embedding_model": model.model,
            "precision": model.precision,
            "vector_dimension": model.info.dimension,
            "chunking_strategy": attrs.get("chunking_strategy", collection.chunking_strategy),
            "chunk_size": size,
            "chunk_overlap": overlap,
        }


class ChunkingPreviewSerializer(serializers.Serializer):
    """A text, or a document of a collection, and the chunking to try on it."""

    text = serializers.CharField(required=False, trim_whitespace=False, max_length=200_000)
    # Read the text as a file so named would be read: "notes.md" finds its Markdown headings.
    file_name = serializers.CharField(required=False, max_length=255)
    collection = serializers.UUIDField(required=False)
    document = serializers.UUIDField(required=False)
    embedding_model = serializers.CharField(required=False)
    chunking_strategy = serializers.ChoiceField(choices=STRATEGIES, required=False)
    chunk_size = serializers.IntegerField(required=False, min_value=16)
    chunk_overlap = serializers.IntegerField(required=False, min_value=0)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("text" in attrs) == ("document" in attrs):
            raise serializers.ValidationError({"text": ["Give either a text or a document, not both."]})
        if "file_name" in attrs and "text" not in attrs:
            raise serializers.ValidationError({"file_name": ["Names a text given here, not a document."]})
        if "document" in attrs and "collection" not in attrs:
            raise serializers.ValidationError(
                {"collection": ["A document is previewed within its collection."]}
            )
        return attrs


class TextRangeSerializer(serializers.Serializer):
    """?start=&end=: a character range of a document's text."""

    start = serializers.IntegerField(required=False, min_value=0, default=0)
    end = serializers.IntegerField(required=False, min_value=0)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "end" in attrs and attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": ["end must not come before start."]})
        return attrs


class SourceSerializer(serializers.ModelSerializer):
    document_count = serializers.SerializerMethodField()

    class Meta:
        model = Source
        fields = [
            "id",
            "kind",
            "path",
            "include",
            "exclude",
            "created_at",
            "last_scanned_at",
            "document_count",
        ]
        read_only_fields = fields

    def get_document_count(self, source: Source) -> int:
        return source.documents.count()


class DocumentSerializer(serializers.ModelSerializer):
    source_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Document
        fields = [
            "id",
            "source_id",
            "relative_path",
            "path",
            "title",
            "mime_type",
            "size",
            "mtime",
            "status",
            "error",
            "chunk_count",
            "indexed_at",
            "updated_at",
        ]
        read_only_fields = fields

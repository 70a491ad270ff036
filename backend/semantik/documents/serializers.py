"""Source and document shapes."""

from typing import Any

from rest_framework import serializers

from semantik.catalog.selectors import PrecisionNotServed, document_max_length, served_model
from semantik.collections.models import Collection
from semantik.documents.chunking import SPECIAL_TOKENS, chunking_errors
from semantik.documents.models import Document, Source
from semantik.inference.base import ModelNotFound
from semantik.operations.serializers import OperationQueuedSerializer


def validate_glob(pattern: str) -> None:
    """A glob matches paths relative to the source: one that is absolute or climbs out with `..`
    could never match, so it is refused instead of silently admitting (or excluding) nothing."""
    if any(ord(c) < 32 or ord(c) == 127 for c in pattern):
        raise serializers.ValidationError(f"{pattern!r} contains a NUL or control character.")
    if pattern.startswith("/"):
        raise serializers.ValidationError(
            f"{pattern!r} is absolute; globs are relative to the source's folder."
        )
    if ".." in pattern.split("/"):
        raise serializers.ValidationError(
            f"{pattern!r} contains '..'; globs are relative to the source's folder."
        )


class SourceAddSerializer(serializers.Serializer):
    path = serializers.CharField(max_length=4096)
    include = serializers.ListField(
        child=serializers.CharField(max_length=512, validators=[validate_glob]),
        required=False,
        max_length=100,
    )
    exclude = serializers.ListField(
        child=serializers.CharField(max_length=512, validators=[validate_glob]),
        required=False,
        max_length=100,
    )


class ReindexSerializer(serializers.Serializer):
    """What a reindex changes; whatever is left out keeps the collection's current value.

    Context: `collection`.
    """

    embedding_model = serializers.CharField(required=False)
    precision = serializers.ChoiceField(choices=Collection.Precision.choices, required=False)
    chunking_strategy = serializers.ChoiceField(choices=Collection.Chunking.choices, required=False)
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
    chunking_strategy = serializers.ChoiceField(choices=Collection.Chunking.choices, required=False)
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


class SourceListSerializer(serializers.Serializer):
    """A collection's sources, all of them (a collection has few)."""

    results = SourceSerializer(many=True)


class UploadSerializer(serializers.Serializer):
    """The multipart body of an upload."""

    files = serializers.ListField(child=serializers.FileField(), help_text="One part per file.")
    paths = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Where each file goes, relative to the upload source: one per file, in the same order "
        "(else the file's own name).",
    )


class StoredFileSerializer(serializers.Serializer):
    relative_path = serializers.CharField()
    size = serializers.IntegerField(min_value=0)


class UploadQueuedSerializer(OperationQueuedSerializer):
    """202: the files are in place, and the `upload` operation indexing them is queued."""

    source_id = serializers.UUIDField(help_text="The collection's upload source.")
    files = StoredFileSerializer(many=True)


class DocumentChunkSerializer(serializers.Serializer):
    """A chunk as Qdrant holds it; any other payload about the chunk comes along too."""

    index = serializers.IntegerField(min_value=0)
    text = serializers.CharField(allow_blank=True)
    start = serializers.IntegerField(allow_null=True, help_text="Character offsets in the document's text.")
    end = serializers.IntegerField(allow_null=True)
    page = serializers.IntegerField(allow_null=True, help_text="The PDF or PPTX page of `start`, else null.")
    heading_path = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Titles of the headings the chunk sits under, outermost first.",
    )


class DocumentTextSerializer(serializers.Serializer):
    document_id = serializers.UUIDField()
    content_hash = serializers.CharField(allow_blank=True, help_text="SHA-256 of the file that was indexed.")
    mime_type = serializers.CharField()
    characters = serializers.IntegerField(min_value=0, help_text="The length of the whole text.")
    start = serializers.IntegerField(min_value=0)
    end = serializers.IntegerField(min_value=0)
    text = serializers.CharField(allow_blank=True, help_text="Characters `start` to `end` of the text.")
    page_starts = serializers.ListField(
        child=serializers.IntegerField(), help_text="Where each page starts in the text (PDF, PPTX)."
    )


class PreviewChunkSerializer(serializers.Serializer):
    index = serializers.IntegerField(min_value=0)
    text = serializers.CharField(allow_blank=True)
    start = serializers.IntegerField(min_value=0)
    end = serializers.IntegerField(min_value=0)
    tokens = serializers.IntegerField(min_value=0)
    heading_path = serializers.ListField(child=serializers.CharField())


class ChunkingPreviewResultSerializer(serializers.Serializer):
    """The chunking that was applied, and the chunks it makes."""

    embedding_model = serializers.CharField()
    chunking_strategy = serializers.ChoiceField(choices=Collection.Chunking.choices)
    chunk_size = serializers.IntegerField()
    chunk_overlap = serializers.IntegerField()
    characters = serializers.IntegerField(min_value=0)
    chunks = PreviewChunkSerializer(many=True)

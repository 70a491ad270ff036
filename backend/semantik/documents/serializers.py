"""Source and document shapes."""

from rest_framework import serializers

from semantik.documents.models import Document, Source


class SourceAddSerializer(serializers.Serializer):
    path = serializers.CharField(max_length=4096)


class SourceSerializer(serializers.ModelSerializer):
    document_count = serializers.SerializerMethodField()

    class Meta:
        model = Source
        fields = ["id", "path", "created_at", "last_scanned_at", "document_count"]
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

"""Source request shapes."""

from rest_framework import serializers


class SourceAddSerializer(serializers.Serializer):
    path = serializers.CharField(max_length=4096)

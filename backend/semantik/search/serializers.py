"""Search request shape."""

from rest_framework import serializers


class SearchRequestSerializer(serializers.Serializer):
    query = serializers.CharField(max_length=2000, trim_whitespace=True)
    collections = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=50)
    k = serializers.IntegerField(min_value=1, max_value=100, default=10)

"""Response shapes of the health probes."""

from __future__ import annotations

from rest_framework import serializers


class LivenessSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok"])


class CheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    latency_ms = serializers.FloatField()
    error = serializers.CharField(allow_blank=True, help_text="Why it failed; empty when it answered.")


class ReadinessSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "unavailable"])
    down = serializers.ListField(child=serializers.CharField(), help_text="The services that did not answer.")
    checks = serializers.DictField(
        child=CheckSerializer(), help_text="By service: postgres, redis, qdrant, triton."
    )

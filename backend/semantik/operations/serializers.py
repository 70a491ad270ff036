"""Operation response shapes: an operation's state, and the 202 answer of a request that queued one."""

from __future__ import annotations

from rest_framework import serializers

from semantik.operations.models import Operation


class OperationSerializer(serializers.Serializer):
    """An operation's state as `operations.services.operation_state` gives it (and WebSocket events carry)."""

    id = serializers.UUIDField()
    collection_id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=Operation.Type.choices)
    status = serializers.ChoiceField(choices=Operation.Status.choices)
    files_total = serializers.IntegerField(min_value=0)
    files_processed = serializers.IntegerField(min_value=0)
    files_skipped = serializers.IntegerField(min_value=0, help_text="Unchanged since the last scan.")
    files_failed = serializers.IntegerField(min_value=0)
    chunks_written = serializers.IntegerField(min_value=0)
    current_file = serializers.CharField(allow_blank=True, help_text="The file at work now; empty when none.")
    error = serializers.CharField(allow_blank=True, help_text="Why it failed or ended; empty otherwise.")
    cancel_requested = serializers.BooleanField(help_text="A running operation stops at its next file.")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    files_per_s = serializers.FloatField(
        allow_null=True, help_text="Files per second since it started, while it runs; else null."
    )
    eta_s = serializers.FloatField(
        allow_null=True, help_text="Seconds left at that rate, while it runs; else null."
    )


class OperationQueuedSerializer(serializers.Serializer):
    """202: the operation that will do the work; follow it at /api/v2/operations/{operation_id}."""

    operation_id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=Operation.Type.choices)
    status = serializers.ChoiceField(choices=Operation.Status.choices)

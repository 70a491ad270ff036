"""The Operation: one unit of long work on a collection, from pending to a final state."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from semantik.collections.models import Collection


class Operation(models.Model):
    class Type(models.TextChoices):
        INDEX = "index", "Index"
        APPEND = "append", "Append"
        RESCAN = "rescan", "Rescan"
        REINDEX = "reindex", "Reindex"
        REMOVE_SOURCE = "remove_source", "Remove source"
        DELETE = "delete", "Delete"
        # Index files sent through the API into the collection's upload source.
        UPLOAD = "upload", "Upload"
        # Index one failed document again.
        RETRY = "retry", "Retry document"
        # Periodic rescan of every source, started by the scheduler.
        SYNC = "sync", "Sync"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINAL_STATUSES = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="operations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    type = models.CharField(max_length=16, choices=Type.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    params = models.JSONField(default=dict, blank=True)
    files_total = models.PositiveIntegerField(default=0)
    files_processed = models.PositiveIntegerField(default=0)
    files_skipped = models.PositiveIntegerField(default=0)
    files_failed = models.PositiveIntegerField(default=0)
    chunks_written = models.PositiveIntegerField(default=0)
    current_file = models.CharField(max_length=4096, blank=True, default="")
    error = models.TextField(blank=True, default="")
    # Set by a user; the worker stops at the next file and ends the operation as cancelled.
    cancel_requested = models.BooleanField(default=False)
    task_id = models.CharField(max_length=255, blank=True, default="")
    # "host:pid" of the worker process running it: lets a restarted worker find what its previous
    # incarnation left half done, and keeps two workers from running one operation.
    worker = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["collection", "status"]), models.Index(fields=["user", "status"])]

    def __str__(self) -> str:
        return f"{self.type} {self.id} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES

"""The Collection: its owner, its embedding model, its chunking, and where its vectors live."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Collection(models.Model):
    class Status(models.TextChoices):
        EMPTY = "empty", "Empty"
        READY = "ready", "Ready"
        INDEXING = "indexing", "Indexing"
        ERROR = "error", "Error"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections")
    name = models.CharField(max_length=128)
    description = models.TextField(blank=True, default="")
    embedding_model = models.CharField(max_length=128)
    vector_dimension = models.PositiveIntegerField()
    chunk_size = models.PositiveIntegerField()
    chunk_overlap = models.PositiveIntegerField()
    # The Qdrant collection that serves this collection now. It is the alias: a reindex builds a
    # new generation and swaps this pointer in one transaction.
    vector_collection = models.CharField(max_length=128)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.EMPTY)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="collection_unique_name_per_owner")
        ]

    def __str__(self) -> str:
        return self.name

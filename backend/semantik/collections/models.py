"""The Collection (its owner, model, chunking, and where its vectors live) and who else may use it."""

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

    class Precision(models.TextChoices):
        FLOAT32 = "float32", "float32"
        FLOAT16 = "float16", "float16"
        INT8 = "int8", "int8"

    class Chunking(models.TextChoices):
        # Paragraphs, then sentences, then words, within headings for Markdown and HTML.
        RECURSIVE = "recursive", "Recursive"
        # Windows of chunk_size tokens, whatever the text's structure.
        FIXED = "fixed", "Fixed size"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collections")
    name = models.CharField(max_length=128)
    description = models.TextField(blank=True, default="")
    embedding_model = models.CharField(max_length=128)
    vector_dimension = models.PositiveIntegerField()
    # Part of the served model's identity: every vector of a collection comes from one variant.
    precision = models.CharField(max_length=16, choices=Precision.choices, default=Precision.FLOAT32)
    chunking_strategy = models.CharField(max_length=16, choices=Chunking.choices, default=Chunking.RECURSIVE)
    chunk_size = models.PositiveIntegerField()
    chunk_overlap = models.PositiveIntegerField()
    # The Qdrant collection that serves this collection now. It is the alias: a reindex builds a
    # new generation and swaps this pointer in one transaction.
    vector_collection = models.CharField(max_length=128)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.EMPTY)
    # Periodic sync: every source is rescanned this often (minutes); null = only on request.
    sync_interval_minutes = models.PositiveIntegerField(null=True, blank=True)
    # The reranker search uses for this collection unless a request says otherwise; blank = none.
    default_reranker = models.CharField(max_length=128, blank=True, default="")
    # Every signed-in user may read and search it (never change it); only its owner sets this.
    is_public = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="collection_unique_name_per_owner")
        ]

    def __str__(self) -> str:
        return self.name


class CollectionShare(models.Model):
    """One user's access to someone else's collection: viewer (read, search) or editor (and change)."""

    class Role(models.TextChoices):
        VIEWER = "viewer", "Viewer"
        EDITOR = "editor", "Editor"

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collection_shares"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "user"], name="collection_share_unique_user")
        ]

    def __str__(self) -> str:
        return f"{self.collection} → {self.user} ({self.role})"

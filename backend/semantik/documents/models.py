"""Sources (folders a collection reads) and the documents found in them."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models

from semantik.collections.models import Collection


class Source(models.Model):
    class Kind(models.TextChoices):
        # A folder under one of the document roots, read in place.
        FOLDER = "folder", "Folder"
        # Files sent through the API, stored under the managed upload root.
        UPLOAD = "upload", "Upload"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="sources")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.FOLDER)
    # Resolved and absolute: inside a document root (folder), or the collection's upload folder.
    path = models.CharField(max_length=4096)
    # Glob patterns on the path relative to the source ("*.md", "notes/**"); empty include = all.
    include = models.JSONField(default=list, blank=True)
    exclude = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_scanned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["collection", "path"], name="source_unique_path")]

    def __str__(self) -> str:
        return self.path

    @property
    def roots(self) -> list[Path]:
        """The folders this source's files must resolve into: uploads have the upload root alone."""
        if self.kind == self.Kind.UPLOAD:
            return [Path(settings.UPLOAD_ROOT)]
        return [Path(root) for root in settings.DOCUMENT_PATH]

    @property
    def off_limits(self) -> list[Path]:
        """Folders this source never reads, even where a document root contains them."""
        # Other collections' uploads, should UPLOAD_ROOT lie inside a document root.
        return [] if self.kind == self.Kind.UPLOAD else [Path(settings.UPLOAD_ROOT)]


class Document(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        INDEXED = "indexed", "Indexed"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="documents")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="documents")
    # A document's identity is (source, relative path): a rescan finds it again by these.
    relative_path = models.CharField(max_length=4096)
    path = models.CharField(max_length=4096)
    size = models.BigIntegerField(default=0)
    mtime = models.FloatField(default=0)
    content_hash = models.CharField(max_length=64, blank=True, default="")
    mime_type = models.CharField(max_length=128, blank=True, default="")
    title = models.CharField(max_length=512, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True, default="")
    chunk_count = models.PositiveIntegerField(default=0)
    indexed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["relative_path"]
        constraints = [
            models.UniqueConstraint(fields=["source", "relative_path"], name="document_unique_relative_path")
        ]
        indexes = [models.Index(fields=["collection", "status"])]

    def __str__(self) -> str:
        return self.relative_path

"""A document's original file and its extracted text, read again from disk within its source's roots."""

from __future__ import annotations

import logging
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, TypedDict

from django.conf import settings
from django.core.cache import cache
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound

from semantik.api import Conflict
from semantik.documents.extraction import SNIFF_BYTES, Extracted, ExtractionError, file_type_for, sniff
from semantik.documents.extraction_pool import ExtractionPool
from semantik.documents.indexing import file_sha256
from semantik.documents.models import Document
from semantik.documents.paths import PathNotAllowed, confine
from semantik.documents.reading import Confinement, open_confined

logger = logging.getLogger(__name__)

OCTET_STREAM = "application/octet-stream"
# Extracted texts are cached by content hash, so a changed file never gets an old text.
TEXT_CACHE_S = 3600
# The most characters one text request returns; a UI asks for the window around a chunk.
MAX_TEXT_WINDOW = 1_000_000


class DocumentUnreadable(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unreadable"
    default_detail = "The document cannot be read."


class DocumentText(TypedDict):
    text: str
    page_starts: list[int]
    mime_type: str


def document_file(document: Document) -> Path:
    """The document's file as it is now, resolved and inside its source's roots; else 404 saying why."""
    source = document.source
    where = Path(source.path) / document.relative_path
    try:
        path = confine(str(where), source.roots, source.off_limits)
    except PathNotAllowed as exc:
        raise NotFound(
            f"The file of {document.relative_path!r} now leads outside the document roots, so it is not read."
        ) from exc
    if not path.is_file():
        raise NotFound(
            f"The file of {document.relative_path!r} no longer exists at {where}; "
            "rescan its source to bring the collection up to date."
        )
    return path


def document_open(document: Document, path: Path) -> BinaryIO:
    """The file `document_file` found, opened only if what is opened is still a regular file in
    the roots (it may have been swapped for a symlink out, a FIFO or a device since)."""
    source = document.source
    try:
        return open_confined(path, Confinement.of(source.roots, source.off_limits))
    except ExtractionError as exc:
        raise NotFound(f"The file of {document.relative_path!r} is not read: {exc}") from exc


def document_mime_type(document: Document, path: Path) -> str:
    """The type sniffed at indexing; for a document not indexed, sniffed now from the file's start."""
    if document.status == Document.Status.INDEXED and document.mime_type:
        return document.mime_type
    claimed = file_type_for(document.relative_path)
    if claimed is None:
        return OCTET_STREAM
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if claimed.container and head.startswith(b"PK\x03\x04"):
        return claimed.mime_type  # which ZIP document it is shows only in the whole archive
    try:
        return sniff(head, claimed).mime_type
    except ExtractionError:
        return OCTET_STREAM


def document_text(document: Document) -> DocumentText:
    """The text extraction gives for the document, the version whose chunks are indexed.

    Extracted in a worker process within the extraction limits, and cached by document and
    content hash. A file changed since it was indexed is a 409: its chunks' offsets would not
    fit the new text.
    """
    key = f"document-text:{document.pk}:{document.content_hash}"
    if document.content_hash and (cached := _cache_get(key)) is not None:
        return cached  # type: ignore[no-any-return]
    extracted = document_extracted(document)
    text: DocumentText = {
        "text": extracted.text,
        "page_starts": list(extracted.page_starts),
        "mime_type": extracted.mime_type,
    }
    if document.content_hash:
        _cache_set(key, text)
    return text


def document_extracted(document: Document) -> Extracted:
    """Extract the document's file again, confined to its roots and within the extraction limits."""
    path = document_file(document)
    size = path.stat().st_size
    if size > settings.MAX_FILE_BYTES:
        raise DocumentUnreadable(
            f"{document.relative_path!r} is {size} bytes, over the {settings.MAX_FILE_BYTES}-byte limit."
        )
    if document.content_hash and file_sha256(path) != document.content_hash:
        raise Conflict(
            f"{document.relative_path!r} has changed since it was indexed; "
            "rescan its source to see its new text."
        )
    pool = ExtractionPool(
        workers=1, timeout_s=settings.EXTRACTION_TIMEOUT_S, memory_bytes=settings.EXTRACTION_MEMORY_BYTES
    )
    with pool:
        try:
            confinement = Confinement.of(
                document.source.roots, document.source.off_limits, settings.MAX_FILE_BYTES
            )
            return pool.extract(path, PurePosixPath(document.relative_path).name, confinement=confinement)
        except ExtractionError as exc:
            raise DocumentUnreadable(
                f"The text of {document.relative_path!r} cannot be extracted: {exc}"
            ) from exc


def document_text_window(document: Document, start: int = 0, end: int | None = None) -> dict[str, Any]:
    """Characters `start` to `end` of the document's text (at most MAX_TEXT_WINDOW), with its page starts."""
    extracted = document_text(document)
    text = extracted["text"]
    start = min(start, len(text))
    end = min(len(text) if end is None else end, len(text), start + MAX_TEXT_WINDOW)
    return {
        "document_id": str(document.pk),
        "content_hash": document.content_hash,
        "mime_type": extracted["mime_type"],
        "characters": len(text),
        "start": start,
        "end": end,
        "text": text[start:end],
        "page_starts": extracted["page_starts"],
    }


def _cache_get(key: str) -> Any:
    # The cache only saves work: when Redis is away, the text is extracted again.
    try:
        return cache.get(key)
    except Exception:
        logger.warning("Cache unavailable; extracting the text again", exc_info=True)
        return None


def _cache_set(key: str, value: Any) -> None:
    try:
        cache.set(key, value, TEXT_CACHE_S)
    except Exception:
        logger.warning("Cache unavailable; the text is not cached", exc_info=True)

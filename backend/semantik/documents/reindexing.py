"""Reindex: rebuild a collection with another model or chunking in a new Qdrant generation, then swap.

The live generation and the Document rows stay as they are while the new one is built, so
search keeps answering from the old index throughout. Once every source is done and the new
generation holds exactly the chunks it should, one transaction moves the collection's pointer and
rewrites the Document rows; the old generation is dropped after the commit. A failed, cancelled
or killed reindex leaves the collection as it was (a resumed one starts the build again).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from semantik.catalog.selectors import collection_model
from semantik.collections.models import Collection
from semantik.documents.indexing import SourceIndexer
from semantik.documents.models import Document
from semantik.documents.services import enqueue_operation, start_counting
from semantik.inference.base import Embedder
from semantik.inference.runtime import get_embedder
from semantik.operations.models import Operation
from semantik.operations.services import ProgressRecorder, operation_create
from semantik.vectors import get_vector_store
from semantik.vectors.base import VectorStore, VectorStoreError
from semantik.vectors.naming import collection_name, parse_collection_name

logger = logging.getLogger(__name__)

# What a reindex may change: everything that shapes the vectors.
TARGET_FIELDS = (
    "embedding_model",
    "precision",
    "vector_dimension",
    "chunking_strategy",
    "chunk_size",
    "chunk_overlap",
)


def collection_reindex(*, collection: Collection, user: User, target: dict[str, Any]) -> Operation:
    """Queue the rebuild of a collection with `target` (validated values of TARGET_FIELDS)."""
    parsed = parse_collection_name(collection.vector_collection)
    generation = parsed[1] + 1 if parsed else 2
    params = {
        "target": {name: target.get(name, getattr(collection, name)) for name in TARGET_FIELDS},
        "vector_collection": collection_name(collection.pk, generation),
    }
    with transaction.atomic():
        operation = operation_create(
            collection=collection, user=user, type=Operation.Type.REINDEX, params=params
        )
        enqueue_operation(operation)
    return operation


@dataclass
class Ledger:
    """What the new generation says about each document, applied to the rows at the swap."""

    documents: dict[Any, tuple[Document, dict[str, object]]] = field(default_factory=dict)
    gone: list[Any] = field(default_factory=list)

    @property
    def chunk_count(self) -> int:
        return sum(
            count
            for _, fields in self.documents.values()
            if isinstance(count := fields.get("chunk_count", 0), int)
        )


class GenerationIndexer(SourceIndexer):
    """Indexes every file of one source into the new generation, recording instead of saving."""

    replaces_points = False
    skips_unchanged = False

    def __init__(
        self,
        operation: Operation,
        embedder: Embedder,
        store: VectorStore,
        *,
        target: Collection,
        source: Any,
        progress: ProgressRecorder,
        ledger: Ledger,
    ) -> None:
        super().__init__(operation, embedder, store, source=source, progress=progress)
        # An unsaved copy of the collection with the new settings and the new generation's name:
        # the pipeline chunks and writes by it.
        self.collection = target
        self.ledger = ledger

    def record(self, document: Document, **fields: object) -> None:
        if document._state.adding:
            # A file new since the last scan: its row exists from now on (pending, no chunks).
            document.save()
        self.ledger.documents[document.pk] = (document, fields)

    def remove_gone(self, documents: list[Document]) -> None:
        self.ledger.gone.extend(d.pk for d in documents)

    def forget_unfinished(self, document_ids: list[str]) -> None:
        """Nothing to undo on the live rows: the new generation is dropped as a whole."""


def reindex_run(operation: Operation) -> None:
    """Build the new generation, validate it, and swap it in; drop it on any failure."""
    store = get_vector_store()
    target = copy.copy(operation.collection)
    for name, value in operation.params["target"].items():
        setattr(target, name, value)
    target.vector_collection = operation.params["vector_collection"]
    if target.vector_collection == operation.collection.vector_collection:
        raise VectorStoreError("The reindex target is the live generation; refusing to overwrite it.")
    # A resumed reindex starts over: what a killed predecessor wrote may be incomplete.
    store.drop_collection(target.vector_collection)
    store.create_collection(target.vector_collection, target.vector_dimension)
    try:
        progress = start_counting(operation)
        ledger = Ledger()
        embedder = get_embedder(collection_model(target).name)
        for source in operation.collection.sources.all():
            GenerationIndexer(
                operation, embedder, store, target=target, source=source, progress=progress, ledger=ledger
            ).run()
        progress.checkpoint()
        _swap(operation, target, ledger, store)
    except BaseException:
        store.drop_collection(target.vector_collection)
        raise


def _swap(operation: Operation, target: Collection, ledger: Ledger, store: VectorStore) -> None:
    actual = store.count(target.vector_collection)
    if actual != ledger.chunk_count:
        raise VectorStoreError(
            f"The new index holds {actual} vectors for {ledger.chunk_count} chunks; the collection "
            "keeps its current index."
        )
    with transaction.atomic():
        live = Collection.objects.select_for_update().get(pk=operation.collection_id)
        old = live.vector_collection
        for name in (*TARGET_FIELDS, "vector_collection"):
            setattr(live, name, getattr(target, name))
        live.save(update_fields=[*TARGET_FIELDS, "vector_collection", "updated_at"])
        changed: set[str] = set()
        rows = []
        for document, fields in ledger.documents.values():
            for name, value in fields.items():
                setattr(document, name, value)
            changed.update(fields)
            rows.append(document)
        if rows:
            Document.objects.bulk_update(rows, sorted(changed), batch_size=500)
        Document.objects.filter(pk__in=ledger.gone).delete()
        transaction.on_commit(lambda: store.drop_collection(old))
    logger.info("Collection %s now served by %s (was %s)", live.pk, target.vector_collection, old)

"""Collection writes: creating one creates its Qdrant collection in the same breath."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError

from semantik.api import Conflict, ServiceUnavailable
from semantik.catalog.selectors import ServedModel
from semantik.collections.models import Collection
from semantik.documents.uploads import upload_folder, upload_folder_remove
from semantik.operations.models import Operation
from semantik.vectors import get_vector_store
from semantik.vectors.base import VectorStoreUnavailable
from semantik.vectors.naming import collection_name


def collection_create(
    *,
    owner: User,
    name: str,
    model: ServedModel,
    chunk_size: int,
    chunk_overlap: int,
    chunking_strategy: str = Collection.Chunking.RECURSIVE,
    description: str = "",
    default_reranker: str = "",
) -> Collection:
    try:
        with transaction.atomic():
            collection = Collection(
                owner=owner,
                name=name,
                description=description,
                # The model and precision, not the variant's name: catalog.selectors.collection_model
                # turns them into the variant that serves the collection.
                embedding_model=model.model,
                precision=model.precision,
                vector_dimension=model.info.dimension,
                chunking_strategy=chunking_strategy,
                chunk_size=chunk_size,
                chunk_overlap=chunk_overlap,
                default_reranker=default_reranker,
            )
            collection.vector_collection = collection_name(collection.id)
            collection.save()
            # Inside the transaction: if Qdrant refuses, no row points at a missing collection.
            get_vector_store().create_collection(collection.vector_collection, model.info.dimension)
    except IntegrityError as exc:
        raise ValidationError({"name": [f"You already have a collection named {name!r}."]}) from exc
    except VectorStoreUnavailable as exc:
        raise ServiceUnavailable(f"Qdrant is unavailable: {exc}") from exc
    return collection


_UNSET: Any = object()


def collection_update(
    collection: Collection,
    *,
    name: str | None = None,
    description: str | None = None,
    sync_interval_minutes: int | None = _UNSET,
    default_reranker: str | None = None,
) -> Collection:
    """Rename, describe, schedule or choose the default reranker of a collection; what shapes its
    vectors changes by a reindex only."""
    if name is not None:
        collection.name = name
    if description is not None:
        collection.description = description
    if sync_interval_minutes is not _UNSET:
        collection.sync_interval_minutes = sync_interval_minutes
    if default_reranker is not None:
        collection.default_reranker = default_reranker
    try:
        with transaction.atomic():
            collection.save(
                update_fields=[
                    "name",
                    "description",
                    "sync_interval_minutes",
                    "default_reranker",
                    "updated_at",
                ]
            )
    except IntegrityError as exc:
        raise ValidationError({"name": [f"You already have a collection named {name!r}."]}) from exc
    return collection


def collection_delete(collection: Collection) -> None:
    """Delete a collection, its documents and operations, then its Qdrant collection and uploads.

    Refused (409) while a write operation runs: its worker would go on writing vectors for a
    collection that no longer exists.
    """
    with transaction.atomic():
        locked = Collection.objects.select_for_update().get(pk=collection.pk)
        active = (
            Operation.objects.filter(collection=locked).exclude(status__in=Operation.FINAL_STATUSES).first()
        )
        if active is not None:
            raise Conflict(
                f"Collection {locked.name!r} is busy with {active.type} operation {active.id}; "
                "cancel it or wait for it to finish."
            )
        vector_collection = locked.vector_collection
        locked.delete()
        # After the commit: a rolled-back delete must not have lost the vectors. A failure here
        # leaves an unreferenced Qdrant collection, never a row pointing at nothing.
        transaction.on_commit(lambda: get_vector_store().drop_collection(vector_collection))
        # Its uploaded files too; a failure there is logged and leaves files, never a row.
        folder = upload_folder(collection.pk)
        transaction.on_commit(lambda: upload_folder_remove(folder), robust=True)

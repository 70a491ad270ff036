"""Collection reads, always scoped to what the user may see."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from django.contrib.auth.models import User
from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from rest_framework.exceptions import NotFound

from semantik.collections.models import Collection
from semantik.documents.models import Document
from semantik.vectors import get_vector_store
from semantik.vectors.base import VectorStoreError


def collections_for_user(user: User) -> QuerySet[Collection]:
    indexed = Q(documents__status=Document.Status.INDEXED)
    return (
        Collection.objects.filter(owner=user)
        .annotate(
            document_count=Count("documents", filter=indexed, distinct=True),
            failed_document_count=Count("documents", filter=Q(documents__status=Document.Status.FAILED)),
            chunk_count=Coalesce(Sum("documents__chunk_count", filter=indexed), 0),
            total_bytes=Coalesce(Sum("documents__size", filter=indexed), 0),
            last_indexed_at=Max("documents__indexed_at"),
        )
        .order_by("name", "id")
    )


def collection_get_for_user(user: User, collection_id: UUID | str) -> Collection:
    """The collection, or 404 whether it does not exist or belongs to someone else."""
    collection = collections_for_user(user).filter(pk=collection_id).first()
    if collection is None:
        raise NotFound(f"Collection {collection_id} not found.")
    return collection


def collections_get_many_for_user(user: User, collection_ids: Sequence[UUID]) -> list[Collection]:
    found = {c.pk: c for c in Collection.objects.filter(owner=user, pk__in=collection_ids)}
    missing = [str(i) for i in collection_ids if i not in found]
    if missing:
        raise NotFound(f"Collection {', '.join(missing)} not found.")
    return [found[i] for i in collection_ids]


def collection_vector_count(collection: Collection) -> int | None:
    """How many points Qdrant holds for the collection (None when Qdrant cannot say right now).

    Equal to chunk_count when the collection is consistent; shown so a user can see it is.
    """
    try:
        return get_vector_store().count(collection.vector_collection)
    except VectorStoreError:
        return None

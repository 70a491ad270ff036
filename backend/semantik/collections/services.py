"""Collection writes: creating one creates its Qdrant collection in the same breath."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError

from semantik.api import ServiceUnavailable
from semantik.collections.models import Collection
from semantik.inference.models import ModelInfo
from semantik.vectors import get_vector_store
from semantik.vectors.base import VectorStoreUnavailable
from semantik.vectors.naming import collection_name


def collection_create(
    *,
    owner: User,
    name: str,
    model: ModelInfo,
    chunk_size: int,
    chunk_overlap: int,
    description: str = "",
) -> Collection:
    try:
        with transaction.atomic():
            collection = Collection(
                owner=owner,
                name=name,
                description=description,
                embedding_model=model.name,
                vector_dimension=model.dimension,
                chunk_size=chunk_size,
                chunk_overlap=chunk_overlap,
            )
            collection.vector_collection = collection_name(collection.id)
            collection.save()
            # Inside the transaction: if Qdrant refuses, no row points at a missing collection.
            get_vector_store().create_collection(collection.vector_collection, model.dimension)
    except IntegrityError as exc:
        raise ValidationError({"name": [f"You already have a collection named {name!r}."]}) from exc
    except VectorStoreUnavailable as exc:
        raise ServiceUnavailable(f"Qdrant is unavailable: {exc}") from exc
    return collection

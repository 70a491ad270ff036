"""The one place that knows how Qdrant collections and points are named."""

from __future__ import annotations

import re
import uuid

# Fixed forever: changing it would give every existing chunk a new id, so re-indexing would
# duplicate points instead of overwriting them.
SEMANTIK_NAMESPACE = uuid.UUID("d4582392-76df-484f-acdb-f154b5fc0a90")

_NAME = re.compile(r"^sk_(?P<hex>[0-9a-f]{32})_g(?P<generation>[1-9][0-9]*)$")


def collection_name(collection_id: uuid.UUID | str, generation: int = 1) -> str:
    """The Qdrant collection of one generation of a Semantik collection.

    A reindex builds generation + 1 beside the live one and then moves the pointer kept in
    PostgreSQL (`Collection.vector_collection`), so searches never see a half-built index.
    """
    if generation < 1:
        raise ValueError(f"generation must be 1 or more, got {generation}")
    return f"sk_{_as_uuid(collection_id).hex}_g{generation}"


def parse_collection_name(name: str) -> tuple[uuid.UUID, int] | None:
    """(collection id, generation) of a name made by collection_name, or None for any other name."""
    match = _NAME.match(name)
    if match is None:
        return None
    return uuid.UUID(match["hex"]), int(match["generation"])


def point_id(collection_id: uuid.UUID | str, document_id: uuid.UUID | str, chunk_index: int) -> str:
    """The id of one chunk's point: the same inputs always give the same id.

    Deterministic so that a retried or repeated ingestion task overwrites its points instead of
    adding duplicates.
    """
    if chunk_index < 0:
        raise ValueError(f"chunk_index must not be negative, got {chunk_index}")
    key = f"{_as_uuid(collection_id)}/{_as_uuid(document_id)}/{chunk_index}"
    return str(uuid.uuid5(SEMANTIK_NAMESPACE, key))


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    # Normalises "ABC…", "{abc…}" and UUID objects to one value, so each gives the same name.
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)

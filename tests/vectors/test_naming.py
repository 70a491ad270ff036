"""Collection and point naming: deterministic, distinct, and reversible where it has to be."""

from __future__ import annotations

import uuid

import pytest

from semantik.vectors.naming import collection_name, parse_collection_name, point_id

COLLECTION = uuid.UUID("0b6f3f0e-8d4c-4d63-a1b6-3f0a3b9f2c11")
DOCUMENT = uuid.UUID("5a0e7c1d-2f43-4e8b-9a77-0c2d1e6b4f90")


def test_point_id_is_the_same_for_the_same_chunk_every_time() -> None:
    assert point_id(COLLECTION, DOCUMENT, 3) == point_id(COLLECTION, DOCUMENT, 3)


def test_point_id_does_not_depend_on_how_the_uuids_are_spelled() -> None:
    spelled = point_id(str(COLLECTION).upper(), "{" + str(DOCUMENT) + "}", 3)
    assert spelled == point_id(COLLECTION, DOCUMENT, 3)


def test_point_id_is_a_uuid5_of_collection_document_and_chunk() -> None:
    value = uuid.UUID(point_id(COLLECTION, DOCUMENT, 0))
    assert value.version == 5
    assert str(value) == point_id(COLLECTION, DOCUMENT, 0)


def test_point_ids_differ_across_chunks_documents_and_collections() -> None:
    other_collection, other_document = uuid.uuid4(), uuid.uuid4()
    ids = {
        point_id(c, d, i)
        for c in (COLLECTION, other_collection)
        for d in (DOCUMENT, other_document)
        for i in range(50)
    }
    assert len(ids) == 2 * 2 * 50


def test_point_id_rejects_a_negative_chunk_index() -> None:
    with pytest.raises(ValueError):
        point_id(COLLECTION, DOCUMENT, -1)


def test_collection_name_carries_the_collection_and_its_generation() -> None:
    assert collection_name(COLLECTION) == f"sk_{COLLECTION.hex}_g1"
    assert collection_name(str(COLLECTION), 2) == f"sk_{COLLECTION.hex}_g2"
    assert parse_collection_name(collection_name(COLLECTION, 7)) == (COLLECTION, 7)


def test_collection_names_of_generations_and_collections_are_distinct() -> None:
    names = {collection_name(c, g) for c in (COLLECTION, uuid.uuid4()) for g in (1, 2, 3)}
    assert len(names) == 6


def test_collection_name_rejects_generation_zero() -> None:
    with pytest.raises(ValueError):
        collection_name(COLLECTION, 0)


@pytest.mark.parametrize("name", ["documents", f"sk_{COLLECTION.hex}_g0", f"sk_{COLLECTION.hex}", ""])
def test_names_not_made_here_do_not_parse(name: str) -> None:
    assert parse_collection_name(name) is None

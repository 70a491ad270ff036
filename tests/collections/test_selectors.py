"""Roles, and what each role allows: the one place that decides who may do what with a collection."""

from __future__ import annotations

import pytest
from rest_framework.exceptions import NotFound, PermissionDenied

from semantik.catalog.selectors import served_model
from semantik.collections.models import CollectionShare
from semantik.collections.selectors import (
    collection_check,
    collection_for,
    collection_ids_followed_by,
    collection_role,
    collections_readable_by,
)
from semantik.collections.services import collection_create
from semantik.documents.models import Document, Source

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(make_user, models):  # type: ignore[no-untyped-def]
    alice, bob, carol, eve = (make_user(n) for n in ("alice", "bob", "carol", "eve"))
    collection = collection_create(
        owner=alice, name="Team", model=served_model("all-minilm-l6-v2"), chunk_size=128, chunk_overlap=16
    )
    CollectionShare.objects.create(collection=collection, user=bob, role="editor")
    CollectionShare.objects.create(collection=collection, user=carol, role="viewer")
    return collection, alice, bob, carol, eve


def test_each_user_has_the_role_their_share_or_ownership_gives(team):  # type: ignore[no-untyped-def]
    collection, alice, bob, carol, eve = team
    assert [collection_role(u, collection) for u in (alice, bob, carol, eve)] == [
        "owner",
        "editor",
        "viewer",
        None,
    ]
    collection.is_public = True
    collection.save()
    assert collection_role(eve, collection) == "public"
    # A share outranks the public role.
    assert collection_role(carol, collection) == "viewer"


@pytest.mark.parametrize(
    ("who", "need", "outcome"),
    [
        (1, "read", "owner"),
        (1, "own", "owner"),
        (2, "write", "editor"),
        (2, "own", PermissionDenied),
        (3, "read", "viewer"),
        (3, "write", PermissionDenied),
        (4, "read", NotFound),
    ],
)
def test_a_need_beyond_the_role_is_403_and_no_role_is_404(team, who, need, outcome):  # type: ignore[no-untyped-def]
    collection, user = team[0], team[who]
    if isinstance(outcome, str):
        assert collection_check(user, collection, need) == outcome
        assert collection_for(user, collection.pk, need).role == outcome
    else:
        with pytest.raises(outcome):
            collection_check(user, collection, need)


def test_shares_do_not_multiply_the_counts(team, documents_root):  # type: ignore[no-untyped-def]
    collection, alice, bob, carol, _ = team
    source = Source.objects.create(collection=collection, path=str(documents_root))
    for name, chunks in (("a.txt", 3), ("b.txt", 4)):
        Document.objects.create(
            collection=collection,
            source=source,
            relative_path=name,
            path=str(documents_root / name),
            size=10,
            status=Document.Status.INDEXED,
            chunk_count=chunks,
        )
    for user in (alice, bob, carol):
        (listed,) = collections_readable_by(user)
        assert (listed.document_count, listed.chunk_count, listed.total_bytes) == (2, 7, 20)


def test_sockets_follow_own_and_shared_collections_not_every_public_one(team, make_user, models):  # type: ignore[no-untyped-def]
    collection, alice, bob, _, eve = team
    other = collection_create(
        owner=eve, name="Eve's", model=served_model("all-minilm-l6-v2"), chunk_size=128, chunk_overlap=16
    )
    other.is_public = True
    other.save()
    assert collection_ids_followed_by(bob.pk) == [str(collection.pk)]
    assert sorted(collection_ids_followed_by(alice.pk)) == [str(collection.pk)]
    assert collection_role(alice, other) == "public"

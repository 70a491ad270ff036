"""Collection reads, and the one place that decides who may do what with a collection.

A user's role on a collection is `owner`, `editor` or `viewer` (a share), `public` (anyone signed
in, when the collection is public) or none. Reading needs any role, writing `owner` or `editor`,
managing the collection itself (delete, shares, is_public) `owner`. A collection the user may not
read is a 404 exactly like a missing one; one they may read but not change is a 403, because its
existence is no secret to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db.models import Case, Count, Max, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from rest_framework.exceptions import NotFound, PermissionDenied

from semantik.collections.models import Collection, CollectionShare
from semantik.documents.models import Document
from semantik.vectors import get_vector_store
from semantik.vectors.base import VectorStoreError

Need = Literal["read", "write", "own"]
Role = Literal["owner", "editor", "viewer", "public"]

ROLES: tuple[Role, ...] = ("owner", "editor", "viewer", "public")
# The roles that may do what each need names.
ALLOWED: dict[Need, frozenset[str]] = {
    "read": frozenset(ROLES),
    "write": frozenset({"owner", "editor"}),
    "own": frozenset({"owner"}),
}
# Collections a user follows by default on the live-updates socket: their own and those shared
# with them, not every public collection of the installation.
MEMBER_ROLES = frozenset({"owner", "editor", "viewer"})

AnyUser = User | AbstractBaseUser | AnonymousUser


def _user_id(user: AnyUser | int) -> int | None:
    if isinstance(user, int):
        return user
    return user.pk if user.is_authenticated else None


def readable_filter(user: AnyUser | int, prefix: str = "") -> Q:
    """A filter on Collection (or, with `prefix="collection__"`, on a model pointing at one) that
    keeps what the user may read."""
    user_id = _user_id(user)
    if user_id is None:
        return Q(pk__in=[])
    shared = CollectionShare.objects.filter(user_id=user_id).values("collection_id")
    # A subquery, not a join on shares: a join would multiply the document counts below.
    return (
        Q(**{f"{prefix}owner_id": user_id})
        | Q(**{f"{prefix}is_public": True})
        | Q(**{f"{prefix}pk__in": shared})
    )


def _with_role(collections: QuerySet[Collection], user_id: int) -> QuerySet[Collection]:
    """Annotates `role`; "public" is right only for collections that readable_filter kept."""
    share_role = CollectionShare.objects.filter(collection=OuterRef("pk"), user_id=user_id).values("role")[:1]
    return collections.annotate(
        role=Case(
            When(owner_id=user_id, then=Value("owner")),
            default=Coalesce(Subquery(share_role), Value("public")),
        )
    )


def _with_stats(collections: QuerySet[Collection]) -> QuerySet[Collection]:
    indexed = Q(documents__status=Document.Status.INDEXED)
    return collections.annotate(
        document_count=Count("documents", filter=indexed, distinct=True),
        failed_document_count=Count("documents", filter=Q(documents__status=Document.Status.FAILED)),
        chunk_count=Coalesce(Sum("documents__chunk_count", filter=indexed), 0),
        total_bytes=Coalesce(Sum("documents__size", filter=indexed), 0),
        last_indexed_at=Max("documents__indexed_at"),
    ).order_by("name", "id")


_READABLE_AMONG = f"""
    SELECT c.* FROM {Collection._meta.db_table} c
    WHERE c.id = ANY(%s)
      AND (c.owner_id = %s OR c.is_public OR EXISTS (
        SELECT 1 FROM {CollectionShare._meta.db_table} s WHERE s.collection_id = c.id AND s.user_id = %s
      ))
"""  # noqa: S608 - table names from the models, values as parameters


def collections_readable_by(user: AnyUser | int, *, role: str | None = None) -> QuerySet[Collection]:
    """Every collection the user may read (or only those where they have `role`), with their
    `role` and its document statistics."""
    user_id = _user_id(user)
    collections = Collection.objects.filter(readable_filter(user)).select_related("owner")
    if user_id is not None:
        collections = _with_role(collections, user_id)
        if role is not None:
            collections = collections.filter(role=role)  # type: ignore[misc]  # an annotation
    return _with_stats(collections)


def collection_with_stats(collection_id: UUID | str) -> Collection | None:
    """The collection and its document statistics, whoever asks (for events; no access check)."""
    return _with_stats(Collection.objects.filter(pk=collection_id).select_related("owner")).first()


def collection_role(user: AnyUser | int, collection: Collection | UUID | str) -> Role | None:
    """The user's role on the collection, or None when they may not even read it."""
    user_id = _user_id(user)
    if user_id is None:
        return None
    collection_id = collection.pk if isinstance(collection, Collection) else collection
    found: Any = _with_role(Collection.objects.filter(pk=collection_id), user_id).filter(
        readable_filter(user_id)
    )
    role = found.values_list("role", flat=True).first()
    return role


def collection_check(
    user: AnyUser | int, collection: Collection, need: Need, *, missing: str | None = None
) -> Role:
    """The user's role if it allows `need`; else 404 (they may not read it: `missing` says what is
    not found, so a document's 404 does not name its collection) or 403 (they may read it)."""
    role = collection_role(user, collection)
    _require(role, need, collection, missing)
    assert role is not None
    return role


def _require(role: str | None, need: Need, collection: Collection, missing: str | None = None) -> None:
    if role is None:
        raise NotFound(missing or f"Collection {collection.pk} not found.")
    if role in ALLOWED[need]:
        return
    if need == "own":
        raise PermissionDenied(
            f"Only the owner of collection {collection.pk} can do this.", code="owner_required"
        )
    raise PermissionDenied(
        f"You may read collection {collection.pk} but not change it: ask its owner for editor access.",
        code="editor_required",
    )


def collection_for(user: AnyUser, collection_id: UUID | str, need: Need) -> Collection:
    """The collection with its statistics and the user's `role`, if the role allows `need`.

    404 whether it does not exist or the user may not read it; 403 if they may read it only.
    """
    collection = collections_readable_by(user).filter(pk=collection_id).first()
    if collection is None:
        raise NotFound(f"Collection {collection_id} not found.")
    _require(collection.role, need, collection)  # type: ignore[attr-defined]
    return collection


def collections_get_many_for_user(user: AnyUser, collection_ids: Sequence[UUID]) -> list[Collection]:
    """The collections, in the order given, if the user may read every one (else 404 naming the rest).

    Every search asks this, so it is one statement written out: the same rule as readable_filter
    (owner, public, or shared with the user), without the ORM building the query each time, which
    took more CPU than PostgreSQL answering it.
    """
    user_id = _user_id(user)
    found: dict[Any, Collection] = {}
    if user_id is not None and collection_ids:
        rows = Collection.objects.raw(_READABLE_AMONG, [list(collection_ids), user_id, user_id])
        found = {c.pk: c for c in rows}
    missing = [str(i) for i in collection_ids if i not in found]
    if missing:
        raise NotFound(f"Collection {', '.join(missing)} not found.")
    return [found[i] for i in collection_ids]


def collection_ids_followed_by(user_id: int) -> list[str]:
    """The collections the user owns or that are shared with them (what their sockets follow)."""
    collections = Collection.objects.filter(
        Q(owner_id=user_id)
        | Q(pk__in=CollectionShare.objects.filter(user_id=user_id).values("collection_id"))
    )
    return [str(pk) for pk in collections.values_list("pk", flat=True)]


def collection_ids_readable_among(user_id: int, collection_ids: Sequence[str]) -> set[str]:
    """Of these collection ids, those the user may read."""
    found = Collection.objects.filter(readable_filter(user_id), pk__in=list(collection_ids))
    return {str(pk) for pk in found.values_list("pk", flat=True)}


def collection_shares(collection: Collection) -> QuerySet[CollectionShare]:
    return (
        CollectionShare.objects.filter(collection=collection)
        .select_related("user")
        .order_by("user__username")
    )


def collection_share_get(collection: Collection, user_id: int) -> CollectionShare:
    share = collection_shares(collection).filter(user_id=user_id).first()
    if share is None:
        raise NotFound(f"Collection {collection.pk} is not shared with user {user_id}.")
    return share


def collection_vector_count(collection: Collection) -> int | None:
    """How many points Qdrant holds for the collection (None when Qdrant cannot say right now).

    Equal to chunk_count when the collection is consistent; shown so a user can see it is.
    """
    try:
        return get_vector_store().count(collection.vector_collection)
    except VectorStoreError:
        return None

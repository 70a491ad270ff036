"""Collection writes: creating one (with its Qdrant collection in the same breath), changing,
sharing and deleting it, each announced to the sockets that follow it once committed."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError

from semantik.api import Conflict, ServiceUnavailable
from semantik.catalog.selectors import ServedModel
from semantik.collections.models import Collection, CollectionShare
from semantik.collections.selectors import collection_with_stats
from semantik.documents.uploads import upload_folder, upload_folder_remove
from semantik.operations.models import Operation
from semantik.realtime.events import access_changed, publish
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
    # The owner's sockets follow their new collection from now on.
    transaction.on_commit(lambda: access_changed(collection.pk, user_ids=[owner.pk]))
    return collection


_UNSET: Any = object()


def collection_update(
    collection: Collection,
    *,
    name: str | None = None,
    description: str | None = None,
    sync_interval_minutes: int | None = _UNSET,
    default_reranker: str | None = None,
    is_public: bool | None = None,
) -> Collection:
    """Rename, describe, schedule, publish or choose the default reranker of a collection; what
    shapes its vectors changes by a reindex only. Who may change `is_public` (the owner) is the
    caller's check."""
    if name is not None:
        collection.name = name
    if description is not None:
        collection.description = description
    if sync_interval_minutes is not _UNSET:
        collection.sync_interval_minutes = sync_interval_minutes
    if default_reranker is not None:
        collection.default_reranker = default_reranker
    unpublished = is_public is False and collection.is_public
    if is_public is not None:
        collection.is_public = is_public
    try:
        with transaction.atomic():
            collection.save(
                update_fields=[
                    "name",
                    "description",
                    "sync_interval_minutes",
                    "default_reranker",
                    "is_public",
                    "updated_at",
                ]
            )
            if unpublished:
                # Sockets that subscribed to it as a public collection must leave it.
                transaction.on_commit(lambda: access_changed(collection.pk, everyone=True))
            transaction.on_commit(lambda: collection_announce(collection.pk))
    except IntegrityError as exc:
        raise ValidationError(
            {"name": [f"The owner of this collection already has a collection named {name!r}."]}
        ) from exc
    return collection


def collection_announce(collection_id: object) -> None:
    """Send `collection.updated` (its state and statistics) to the sockets that follow it."""
    from semantik.collections.serializers import CollectionStateSerializer  # it imports the catalog

    collection = collection_with_stats(str(collection_id))
    if collection is not None:
        publish(collection.pk, "collection.updated", dict(CollectionStateSerializer(collection).data))


def collection_share(collection: Collection, *, username: str, role: str) -> tuple[CollectionShare, bool]:
    """Share the collection with a user as viewer or editor, or change their role; (share, created).

    Usernames are no secret among the users of one installation: an unknown one is a plain 400.
    """
    user = User.objects.filter(username__iexact=username).first()
    if user is None:
        raise ValidationError({"username": [f"There is no user named {username!r}."]})
    if user.pk == collection.owner_id:
        raise ValidationError({"username": [f"{user.username!r} owns this collection already."]})
    with transaction.atomic():
        share, created = CollectionShare.objects.update_or_create(
            collection=collection, user=user, defaults={"role": role}
        )
        _announce_access(collection, share.user_id)
    return share, created


def collection_share_update(share: CollectionShare, *, role: str) -> CollectionShare:
    with transaction.atomic():
        share.role = role
        share.save(update_fields=["role", "updated_at"])
        _announce_access(share.collection, share.user_id)
    return share


def collection_unshare(share: CollectionShare) -> None:
    """End a user's access; their open sockets stop receiving the collection's events."""
    with transaction.atomic():
        share.delete()
        _announce_access(share.collection, share.user_id)


def _announce_access(collection: Collection, user_id: int) -> None:
    collection_id = collection.pk
    transaction.on_commit(lambda: access_changed(collection_id, user_ids=[user_id]))
    transaction.on_commit(lambda: collection_announce(collection_id))


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
        collection_id = locked.pk
        locked.delete()
        # The sockets following it learn it is gone (and stop waiting for its events).
        transaction.on_commit(
            lambda: publish(collection_id, "collection.deleted", {"id": str(collection_id)})
        )
        # After the commit: a rolled-back delete must not have lost the vectors. A failure here
        # leaves an unreferenced Qdrant collection, never a row pointing at nothing.
        transaction.on_commit(lambda: get_vector_store().drop_collection(vector_collection))
        # Its uploaded files too; a failure there is logged and leaves files, never a row.
        folder = upload_folder(collection.pk)
        transaction.on_commit(lambda: upload_folder_remove(folder), robust=True)

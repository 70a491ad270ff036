"""A small real installation to fuzz: a user with a JWT and an API key, a second user to share with,
a collection with an indexed folder, a failed document and an upload, all through the REST API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from semantik.operations.models import Operation

PASSWORD = "correct horse battery staple"


@dataclass
class World:
    """Ids of real objects the fuzzer's path parameters point at, and the two credentials."""

    user_id: int
    jwt: str
    api_key: str
    api_key_prefix: str
    api: APIClient
    collection_id: str
    other_user_id: int
    ids: dict[str, list[str]] = field(default_factory=dict)

    def headers(self, credential: str) -> dict[str, str]:
        if credential == "jwt":
            return {"Authorization": f"Bearer {self.jwt}"}
        return {"Authorization": f"Api-Key {self.api_key}"}


def run_pending(collection_id: str) -> None:
    """Run the collection's queued operation as the worker would (no worker runs in these tests)."""
    from semantik.documents.services import source_index

    operation = Operation.objects.get(collection_id=collection_id, status=Operation.Status.PENDING)
    source_index(str(operation.id))


def end_active_operations() -> None:
    """Cancel whatever a case queued, so the next case finds the collection free (else every write
    after the first accepted one would be a 409)."""
    Operation.objects.exclude(status__in=Operation.FINAL_STATUSES).update(status=Operation.Status.CANCELLED)


@pytest.fixture
def world(  # type: ignore[no-untyped-def]
    settings, models, documents_root: Path, upload_root: Path, make_user
) -> Iterator[World]:
    # The fuzzer sends hundreds of requests a minute: rate limits would answer most with 429.
    settings.THROTTLE_RATES = dict.fromkeys(settings.THROTTLE_RATES)
    settings.REGISTRATION_OPEN = True
    # Queries and chunks are embedded in-process: no Triton server, so no 503 for a missing one.
    settings.INFERENCE_BACKEND = "onnx"
    from semantik.inference.runtime import reset_embedders

    reset_embedders()

    user = make_user("fuzzer", PASSWORD)
    other = make_user("friend", PASSWORD)
    api = APIClient()
    tokens = api.post("/api/auth/login", {"username": "fuzzer", "password": PASSWORD}, format="json").json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    key = api.post(
        "/api/auth/keys", {"name": "fuzz", "scopes": ["read", "search", "write"]}, format="json"
    ).json()

    folder = documents_root / "notes"
    folder.mkdir()
    (folder / "lighthouse.md").write_text("# Keeper\n\nThe lighthouse keeper trimmed the wick at dusk.\n")
    (folder / "garden.txt").write_text("Tomatoes need sun, water and patience.\n")
    (folder / "broken.txt").write_bytes(b"\x00\x01\x02\x03" * 64)
    collection = api.post("/api/v2/collections", {"name": "Notes"}, format="json").json()
    base = f"/api/v2/collections/{collection['id']}"
    operation = api.post(f"{base}/sources", {"path": str(folder)}, format="json").json()["operation_id"]
    run_pending(collection["id"])
    uploaded = api.post(
        f"{base}/uploads",
        {"files": [SimpleUploadedFile("river.txt", b"The river runs to the sea.")]},
        format="multipart",
    )
    assert uploaded.status_code == 202, uploaded.content
    run_pending(collection["id"])
    api.post(f"{base}/shares", {"username": "friend", "role": "viewer"}, format="json")

    documents = api.get(f"{base}/documents").json()["results"]
    assert sorted(d["status"] for d in documents) == ["failed", "indexed", "indexed", "indexed"], documents
    sources = api.get(f"{base}/sources").json()["results"]
    yield World(
        user_id=user.pk,
        jwt=tokens["access"],
        api_key=key["key"],
        api_key_prefix=key["prefix"],
        api=api,
        collection_id=collection["id"],
        other_user_id=other.pk,
        ids={
            "collection_id": [collection["id"]],
            "document_id": [d["id"] for d in documents],
            "source_id": [s["id"] for s in sources],
            "operation_id": [operation, uploaded.json()["operation_id"]],
            "key_id": [key["id"]],
            "user_id": [str(other.pk)],
        },
    )


def fresh_target(world: World, name: str) -> str:
    """A throwaway object for a case that deletes what its path names, so the world stays whole."""
    if name == "collection_id":
        return str(
            world.api.post("/api/v2/collections", {"name": uuid.uuid4().hex}, format="json").json()["id"]
        )
    if name == "key_id":
        created: dict[str, Any] = world.api.post(
            "/api/auth/keys", {"name": "throwaway", "scopes": ["read"]}, format="json"
        ).json()
        return str(created["id"])
    raise KeyError(name)

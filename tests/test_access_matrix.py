"""Who may do what: every endpoint and method of the API, for every kind of caller.

The table below names the exact status each caller gets. The URL resolver is walked, so an
endpoint added without a row here fails `test_every_endpoint_has_a_row`. Each request runs in a
savepoint that is rolled back, so every caller meets the same world: a private collection owned by
`owner`, shared with `editor` and `viewer`; `public` is a stranger while the collection is public,
`other` a stranger while it is not; API keys of the owner with one scope each, and a stranger's
key with every scope. No response to a caller who may not read the collection contains its name,
description, paths, counts or text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from semantik.accounts.services import api_key_create
from semantik.catalog.selectors import served_model
from semantik.collections.models import Collection, CollectionShare
from semantik.collections.services import collection_create
from semantik.documents.models import Document, Source
from semantik.operations.models import Operation
from semantik.search.keyword import document_vector
from semantik.vectors import get_vector_store
from semantik.vectors.base import ChunkPoint
from semantik.vectors.naming import point_id
from tests.conftest import access_token_for

pytestmark = pytest.mark.django_db

ACTORS = (
    "owner",
    "editor",
    "viewer",
    "public",
    "other",
    "anonymous",
    "key_read",
    "key_search",
    "key_write",
    "key_other",
)
# Callers who may not read the collection: nothing of it may reach them.
OUTSIDERS = {"other", "anonymous", "key_other"}

# What must never reach an outsider: the collection's name and description, its folder, its
# documents' paths and text, and its counts (chunks, bytes).
NAME, DESCRIPTION = "Zanzibar Ledger", "the quarterly smuggling accounts"
FOLDER, DOCUMENT, FAILED = "vault-7f3", "plans-ultra.txt", "broken-ultra.txt"
TEXT = "The nightingale sings the password at midnight."
CHUNKS, BYTES = 7331, 98765
SECRETS = ("Zanzibar", "smuggling", FOLDER, "plans-ultra", "broken-ultra", "nightingale")
# Counts are checked as JSON values: as bare digits they could turn up inside an id.
COUNTS = tuple(f"{sep}{n}" for n in (CHUNKS, BYTES) for sep in (": ", ":"))


def expect(*statuses: int) -> dict[str, int]:
    """Statuses in the order of ACTORS."""
    return dict(zip(ACTORS, statuses, strict=True))


def read(ok: int = 200) -> dict[str, int]:
    """Anyone who may read the collection; API keys need `read`."""
    return expect(ok, ok, ok, ok, 404, 401, ok, 403, 403, 404)


def write(ok: int) -> dict[str, int]:
    """Owner and editors; viewers and public readers may read, so theirs is a 403; keys need `write`."""
    return expect(ok, ok, 403, 403, 404, 401, 403, 403, ok, 404)


def own(ok: int) -> dict[str, int]:
    """The owner only."""
    return expect(ok, 403, 403, 403, 404, 401, 403, 403, ok, 404)


def own_read(ok: int = 200) -> dict[str, int]:
    """The owner only, reading: the owner's keys need `read`."""
    return expect(ok, 403, 403, 403, 404, 401, ok, 403, 403, 404)


def search_scope(ok: int = 200) -> dict[str, int]:
    return expect(ok, ok, ok, ok, 404, 401, 403, ok, 403, 404)


def listing(ok: int = 200) -> dict[str, int]:
    """Not about one collection: every signed-in caller (each sees only what they may read)."""
    return expect(ok, ok, ok, ok, ok, 401, ok, 403, 403, ok)


def jwt_only(ok: int, owner_only: bool = False) -> dict[str, int]:
    """Account endpoints: a person logged in with a password; API keys cannot use them."""
    others = 404 if owner_only else ok
    return expect(ok, others, others, others, others, 401, 403, 403, 403, 403)


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ACTORS, status)


@dataclass
class World:
    owner: User
    editor: User
    viewer: User
    stranger: User
    newcomer: User
    collection: Collection
    source: Source
    document: Document
    failed: Document
    operation: Operation
    keys: dict[str, str] = field(default_factory=dict)
    key_id: str = ""

    def ids(self) -> dict[str, Any]:
        return {
            "collection": self.collection.pk,
            "source": self.source.pk,
            "document": self.document.pk,
            "failed": self.failed.pk,
            "operation": self.operation.pk,
            "viewer": self.viewer.pk,
            "key": self.key_id,
        }


@dataclass(frozen=True)
class Row:
    path: str  # formatted with World.ids()
    status: dict[str, int]
    body: Any = None
    multipart: bool = False
    prepare: Callable[[World], None] | None = None
    # A 200 shows this (so that outsiders not seeing it means something).
    shows: str = ""


def _pending(world: World) -> None:
    Operation.objects.filter(pk=world.operation.pk).update(status=Operation.Status.PENDING, finished_at=None)


def _failed_operation(world: World) -> None:
    Operation.objects.filter(pk=world.operation.pk).update(status=Operation.Status.FAILED, error="Lost.")


def _upload(world: World) -> dict[str, Any]:
    return {"files": SimpleUploadedFile("notes.txt", b"Uploaded notes.")}


C = "/api/v2/collections/{collection}"

# (route as the URL resolver spells it, method) → the request and what each caller gets.
MATRIX: dict[tuple[str, str], Row] = {
    # Accounts: about the caller, not about a collection.
    ("api/auth/register", "POST"): Row("/api/auth/register", everyone(400), body={}),
    ("api/auth/login", "POST"): Row("/api/auth/login", everyone(400), body={}),
    ("api/auth/refresh", "POST"): Row("/api/auth/refresh", everyone(400), body={}),
    ("api/auth/logout", "POST"): Row("/api/auth/logout", everyone(400), body={}),
    ("api/auth/me", "GET"): Row("/api/auth/me", listing()),
    ("api/auth/password", "POST"): Row("/api/auth/password", jwt_only(400), body={}),
    ("api/auth/keys", "GET"): Row("/api/auth/keys", jwt_only(200)),
    ("api/auth/keys", "POST"): Row("/api/auth/keys", jwt_only(400), body={}),
    # The owner's read key: another user's key is a 404 like a missing one.
    ("api/auth/keys/<uuid:key_id>", "GET"): Row("/api/auth/keys/{key}", jwt_only(200, owner_only=True)),
    ("api/auth/keys/<uuid:key_id>", "DELETE"): Row("/api/auth/keys/{key}", jwt_only(204, owner_only=True)),
    ("api/health/livez", "GET"): Row("/api/health/livez", everyone(200)),
    # Readiness depends on the services running here, never on the caller: checked as equal for all.
    ("api/health/readyz", "GET"): Row("/api/health/readyz", {}),
    ("api/schema", "GET"): Row("/api/schema", everyone(200)),
    ("api/docs", "GET"): Row("/api/docs", everyone(200)),
    # Staff or the metrics token only; API keys are no credential there.
    ("metrics", "GET"): Row("/metrics", expect(403, 403, 403, 403, 403, 401, 401, 401, 401, 401)),
    ("api/v2/models", "GET"): Row("/api/v2/models", listing()),
    # Collections.
    ("api/v2/collections", "GET"): Row("/api/v2/collections", listing(), shows=NAME),
    ("api/v2/collections", "POST"): Row(
        "/api/v2/collections",
        expect(201, 201, 201, 201, 201, 401, 403, 403, 201, 201),
        body={"name": "Fresh"},
    ),
    ("api/v2/collections/<uuid:collection_id>", "GET"): Row(C, read()),
    ("api/v2/collections/<uuid:collection_id>", "PATCH"): Row(C, write(200), body={"description": "changed"}),
    ("api/v2/collections/<uuid:collection_id>", "DELETE"): Row(C, own(204)),
    ("api/v2/collections/<uuid:collection_id>/shares", "GET"): Row(f"{C}/shares", own_read()),
    ("api/v2/collections/<uuid:collection_id>/shares", "POST"): Row(
        f"{C}/shares", own(201), body={"username": "newcomer", "role": "viewer"}
    ),
    ("api/v2/collections/<uuid:collection_id>/shares/<int:user_id>", "PATCH"): Row(
        f"{C}/shares/{{viewer}}", own(200), body={"role": "editor"}
    ),
    ("api/v2/collections/<uuid:collection_id>/shares/<int:user_id>", "DELETE"): Row(
        f"{C}/shares/{{viewer}}", own(204)
    ),
    ("api/v2/collections/<uuid:collection_id>/reindex", "POST"): Row(f"{C}/reindex", write(202), body={}),
    # Sources, uploads and documents.
    ("api/v2/collections/<uuid:collection_id>/sources", "GET"): Row(f"{C}/sources", read()),
    ("api/v2/collections/<uuid:collection_id>/sources", "POST"): Row(
        f"{C}/sources", write(202), body="folder"
    ),
    ("api/v2/collections/<uuid:collection_id>/sources/<uuid:source_id>", "GET"): Row(
        f"{C}/sources/{{source}}", read()
    ),
    ("api/v2/collections/<uuid:collection_id>/sources/<uuid:source_id>", "DELETE"): Row(
        f"{C}/sources/{{source}}", write(202)
    ),
    ("api/v2/collections/<uuid:collection_id>/sources/<uuid:source_id>/rescan", "POST"): Row(
        f"{C}/sources/{{source}}/rescan", write(202)
    ),
    ("api/v2/collections/<uuid:collection_id>/uploads", "POST"): Row(
        f"{C}/uploads", write(202), body=_upload, multipart=True
    ),
    ("api/v2/collections/<uuid:collection_id>/documents", "GET"): Row(f"{C}/documents", read()),
    ("api/v2/collections/<uuid:collection_id>/documents/<uuid:document_id>", "GET"): Row(
        f"{C}/documents/{{document}}", read()
    ),
    ("api/v2/documents/<uuid:document_id>", "GET"): Row("/api/v2/documents/{document}", read()),
    ("api/v2/documents/<uuid:document_id>/chunks", "GET"): Row("/api/v2/documents/{document}/chunks", read()),
    ("api/v2/documents/<uuid:document_id>/content", "GET"): Row(
        "/api/v2/documents/{document}/content", read()
    ),
    ("api/v2/documents/<uuid:document_id>/text", "GET"): Row("/api/v2/documents/{document}/text", read()),
    ("api/v2/documents/<uuid:document_id>/retry", "POST"): Row(
        "/api/v2/documents/{failed}/retry", write(202)
    ),
    # A preview of a collection's chunking reads the collection: an API key needs `read`.
    ("api/v2/chunking/preview", "POST"): Row(
        "/api/v2/chunking/preview", read(), body={"collection": "{collection}", "text": "Hello there."}
    ),
    # Operations.
    ("api/v2/operations", "GET"): Row("/api/v2/operations", listing(), shows="{operation}"),
    ("api/v2/operations/<uuid:operation_id>", "GET"): Row("/api/v2/operations/{operation}", read()),
    ("api/v2/operations/<uuid:operation_id>/cancel", "POST"): Row(
        "/api/v2/operations/{operation}/cancel", write(202), prepare=_pending
    ),
    ("api/v2/operations/<uuid:operation_id>/retry", "POST"): Row(
        "/api/v2/operations/{operation}/retry", write(202), prepare=_failed_operation
    ),
    # Search: keyword mode needs no model.
    ("api/v2/search", "POST"): Row(
        "/api/v2/search",
        search_scope(),
        shows=TEXT,
        body={"query": "nightingale", "collections": ["{collection}"], "mode": "keyword", "k": 5},
    ),
    ("api/v2/search/evaluate", "POST"): Row(
        "/api/v2/search/evaluate",
        search_scope(),
        body={
            "collections": ["{collection}"],
            "queries": [{"query": "nightingale", "relevant": ["{document}"]}],
            "modes": ["keyword"],
        },
    ),
}


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def _methods(callback: Any) -> list[str]:
    view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view is None:
        return ["GET"]  # the health checks: plain functions behind require_GET
    return [m.upper() for m in view.http_method_names if m not in {"options", "head"} and hasattr(view, m)]


def api_endpoints() -> set[tuple[str, str]]:
    """Every (route, method) of the API: under api/ and /metrics; the admin and the UI are not API."""
    found = set()
    for route, callback in _walk(get_resolver().url_patterns):
        if route == "api/<anypath:rest>" or not (route.startswith("api/") or route == "metrics"):
            continue
        found |= {(route, method) for method in _methods(callback)}
    return found


def test_every_endpoint_has_a_row() -> None:
    endpoints = api_endpoints()
    missing = sorted(endpoints - set(MATRIX))
    assert not missing, f"Endpoints without a row in the access matrix: {missing}"
    stale = sorted(set(MATRIX) - endpoints)
    assert not stale, f"Rows for endpoints that no longer exist: {stale}"


@pytest.fixture
def world(models, documents_root: Path, upload_root: Path, settings) -> World:  # type: ignore[no-untyped-def]
    settings.THROTTLE_RATES = dict.fromkeys(django_settings.THROTTLE_RATES)
    settings.REGISTRATION_OPEN = True
    owner, editor, viewer = (User.objects.create_user(name) for name in ("owner", "editor", "viewer"))
    stranger, newcomer = User.objects.create_user("stranger"), User.objects.create_user("newcomer")
    collection = collection_create(
        owner=owner,
        name=NAME,
        description=DESCRIPTION,
        model=served_model("all-minilm-l6-v2"),
        chunk_size=128,
        chunk_overlap=16,
    )
    CollectionShare.objects.create(collection=collection, user=editor, role="editor")
    CollectionShare.objects.create(collection=collection, user=viewer, role="viewer")
    folder = documents_root / FOLDER
    folder.mkdir()
    (folder / DOCUMENT).write_text(TEXT)
    (folder / FAILED).write_bytes(b"\x00\x01")
    source = Source.objects.create(collection=collection, path=str(folder), last_scanned_at=timezone.now())
    document = Document.objects.create(
        collection=collection,
        source=source,
        relative_path=DOCUMENT,
        path=str(folder / DOCUMENT),
        size=BYTES,
        content_hash=hashlib.sha256(TEXT.encode()).hexdigest(),
        mime_type="text/plain",
        status=Document.Status.INDEXED,
        chunk_count=CHUNKS,
        indexed_at=timezone.now(),
    )
    failed = Document.objects.create(
        collection=collection,
        source=source,
        relative_path=FAILED,
        path=str(folder / FAILED),
        status=Document.Status.FAILED,
        error="binary",
    )
    get_vector_store().upsert(
        collection.vector_collection,
        [
            ChunkPoint(
                id=point_id(collection.pk, document.pk, 0),
                vector=[1.0] + [0.0] * 383,
                payload={
                    "document_id": str(document.pk),
                    "source_id": str(source.pk),
                    "path": DOCUMENT,
                    "chunk_index": 0,
                    "text": TEXT,
                    "start": 0,
                    "end": len(TEXT),
                },
                sparse=document_vector(TEXT),
            )
        ],
    )
    operation = Operation.objects.create(
        collection=collection,
        user=owner,
        type=Operation.Type.INDEX,
        status=Operation.Status.COMPLETED,
        params={"source_id": str(source.pk)},
        current_file="",
        finished_at=timezone.now(),
    )
    created = {
        scope: api_key_create(user=owner, name=f"{scope} key", scopes=[scope])
        for scope in ("read", "search", "write")
    }
    other_key = api_key_create(user=stranger, name="all scopes", scopes=["read", "search", "write"])
    keys = {f"key_{scope}": made.key for scope, made in created.items()}
    keys["key_other"] = other_key.key
    return World(
        owner=owner,
        editor=editor,
        viewer=viewer,
        stranger=stranger,
        newcomer=newcomer,
        collection=collection,
        source=source,
        document=document,
        failed=failed,
        operation=operation,
        keys=keys,
        key_id=str(created["read"].api_key.pk),
    )


def _client(world: World, actor: str) -> APIClient:
    client = APIClient()
    users = {
        "owner": world.owner,
        "editor": world.editor,
        "viewer": world.viewer,
        "public": world.stranger,
        "other": world.stranger,
    }
    if actor in users:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(users[actor])}")
    elif actor.startswith("key_"):
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {world.keys[actor]}")
    return client


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _body_text(response: Any) -> str:
    if getattr(response, "streaming", False):
        # Reading it to the end closes the file (the test client's wrapper sees to it).
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def _request(world: World, row: Row, actor: str, method: str) -> tuple[int, str]:
    """The caller's request against the world as it is, undone afterwards."""
    ids = world.ids()
    body = row.body(world) if callable(row.body) else row.body
    if body == "folder":
        body = {"path": world.source.path}
    with transaction.atomic():
        if actor == "public":
            Collection.objects.filter(pk=world.collection.pk).update(is_public=True)
        client = _client(world, actor)
        call = getattr(client, method.lower())
        path = row.path.format(**ids)
        if body is None:
            response = call(path)
        elif row.multipart:
            response = call(path, body, format="multipart")
        else:
            response = call(path, _fill(body, ids), format="json")
        status, text = response.status_code, _body_text(response)
        transaction.set_rollback(True)
    return status, text


@pytest.mark.parametrize(("route", "method"), sorted(MATRIX), ids=[f"{m} {r}" for r, m in sorted(MATRIX)])
def test_each_caller_gets_exactly_the_expected_status_and_outsiders_learn_nothing(
    world: World, route: str, method: str
) -> None:
    row = MATRIX[(route, method)]
    if row.prepare is not None:
        row.prepare(world)
    got: dict[str, int] = {}
    leaks: dict[str, list[str]] = {}
    shown = row.shows.format(**world.ids())
    for actor in ACTORS:
        status, text = _request(world, row, actor, method)
        got[actor] = status
        if status == 200 and actor not in OUTSIDERS:
            assert shown in text, f"{actor} should see {shown!r}: {text[:300]}"
        if actor in OUTSIDERS and (found := [s for s in (*SECRETS, *COUNTS) if s in text]):
            leaks[actor] = found
    if not row.status:
        assert len(set(got.values())) == 1 and set(got.values()) <= {200, 503}, got
    else:
        assert got == row.status
    assert not leaks, f"{method} {route} showed outsiders {leaks}"

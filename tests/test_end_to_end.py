"""A document's whole journey: folder → Celery → Triton (gRPC) → Qdrant → search, watched live."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets

pytestmark = pytest.mark.django_db(transaction=True)

PASSAGE = "The lighthouse keeper trimmed the wick every evening so ships could find the harbour."


async def events_until_done(ws, operation_id: str, timeout: float = 120) -> list[dict]:  # type: ignore[no-untyped-def]
    seen: list[dict] = []
    async with asyncio.timeout(timeout):
        while True:
            event = json.loads(await ws.recv())
            seen.append(event)
            data = event["data"]
            if event["type"] in {"operation.completed", "operation.failed"} and data["id"] == operation_id:
                return seen


def test_log_in_index_a_folder_watch_it_live_and_find_the_passage(
    live_server_asgi, celery_worker, triton, models, documents_root, user
):  # type: ignore[no-untyped-def]
    folder = documents_root / "journal"
    (folder / "notes").mkdir(parents=True)
    (folder / "lighthouse.md").write_text(f"# Keeper's log\n\n{PASSAGE}\n")
    (folder / "notes" / "garden.txt").write_text("Tomatoes need sun, water and patience in equal measure.")
    (folder / "notes" / "page.html").write_text(
        "<html><title>Trains</title><body><p>The night train to Lisbon leaves at ten.</p></body></html>"
    )

    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=live_server_asgi.url, timeout=30) as http:
            login = await http.post(
                "/api/auth/login", json={"username": "alice", "password": "correct horse battery staple"}
            )
            assert login.status_code == 200
            token = login.json()["access"]
            headers = {"Authorization": f"Bearer {token}"}

            async with websockets.connect(
                f"{live_server_asgi.ws_url}/api/v2/ws", subprotocols=["bearer", token]
            ) as ws:
                assert ws.subprotocol == "bearer"
                snapshot = json.loads(await ws.recv())
                assert snapshot["type"] == "snapshot" and snapshot["data"]["operations"] == []

                created = await http.post("/api/v2/collections", json={"name": "Journal"}, headers=headers)
                assert created.status_code == 201, created.text
                collection_id = created.json()["id"]
                # The socket follows the new collection at once, starting with its state.
                followed = json.loads(await asyncio.wait_for(ws.recv(), 10))
                assert followed["type"] == "snapshot" and followed["data"]["collections"] == [collection_id]
                added = await http.post(
                    f"/api/v2/collections/{collection_id}/sources",
                    json={"path": str(folder)},
                    headers=headers,
                )
                assert added.status_code == 202, added.text
                operation_id = added.json()["operation_id"]

                events = await events_until_done(ws, operation_id)

            types = [e["type"] for e in events]
            assert types[0] == "operation.started" and types[-1] == "operation.completed"
            assert "operation.progress" in types
            assert types.count("document.processed") == 3
            assert all(set(e) == {"type", "ts", "data"} for e in events)
            assert events[-1]["data"]["files_processed"] == 3

            operation = (await http.get(f"/api/v2/operations/{operation_id}", headers=headers)).json()
            assert (
                operation["status"] == "completed"
                and operation["files_total"] == 3
                and operation["error"] == ""
            )

            found = await http.post(
                "/api/v2/search",
                json={"query": "who tends the light for the ships?", "collections": [collection_id], "k": 3},
                headers=headers,
            )
            assert found.status_code == 200
            top = found.json()["results"][0]
            assert top["path"] == "lighthouse.md"
            assert PASSAGE in top["text"]

            detail = (await http.get(f"/api/v2/collections/{collection_id}", headers=headers)).json()
            assert detail["status"] == "ready" and detail["document_count"] == 3

    asyncio.run(scenario())

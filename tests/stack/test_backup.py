"""Backups of the embedded stack: scripts/backup.sh → wipe → scripts/restore.sh gives back the same
users, collections, documents, uploads and search results; and a running stack is never copied."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from semantik.stack import backup
from semantik.stack.ports import find_free_port
from tests.stack.test_runner import ADMIN_PASSWORD, data_dir, login, start, stop, wait_ready  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


def script(name: str, *arguments: str | Path, data: Path, models: Path) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "TRITON_URL", "QDRANT_PATH"}
    }
    env.update(DATA_DIR=str(data), MODEL_REPOSITORY=str(models), DOCUMENT_PATH=str(data / "documents"))
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / name), *map(str, arguments)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def wait_for(url: str, headers: dict[str, str], operation_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while True:
        operation: dict[str, Any] = httpx.get(
            f"{url}/api/v2/operations/{operation_id}", headers=headers
        ).json()
        if operation["status"] in ("completed", "failed", "cancelled"):
            return operation
        assert time.monotonic() < deadline, operation
        time.sleep(0.3)


def state(url: str, user_password: str) -> dict[str, Any]:
    """What a user of the stack sees: accounts, collections, documents, search results."""
    admin = login(url)
    token = httpx.post(f"{url}/api/auth/login", json={"username": "bob", "password": user_password})
    assert token.status_code == 200, token.text
    bob = {"Authorization": f"Bearer {token.json()['access']}"}
    me = httpx.get(f"{url}/api/auth/me", headers=bob).json()
    collections = httpx.get(f"{url}/api/v2/collections", headers=admin).json()["results"]
    documents = {}
    searches = {}
    for collection in collections:
        listed = httpx.get(f"{url}/api/v2/collections/{collection['id']}/documents", headers=admin).json()
        documents[collection["name"]] = sorted(
            (d["id"], d["relative_path"], d["status"], d["chunk_count"]) for d in listed["results"]
        )
        for mode in ("semantic", "keyword", "hybrid"):
            found = httpx.post(
                f"{url}/api/v2/search",
                json={
                    "query": "how do I prune roses in winter",
                    "collections": [collection["id"]],
                    "mode": mode,
                },
                headers=admin,
            )
            assert found.status_code == 200, found.text
            searches[(collection["name"], mode)] = [
                (hit["document_id"], hit["chunk_index"], round(hit["score"], 4))
                for hit in found.json()["results"]
            ]
    for collection in collections:  # volatile fields
        collection.pop("last_indexed_at", None)
    return {
        "me": (me["id"], me["username"], me["is_staff"]),
        "collections": collections,
        "documents": documents,
        "searches": searches,
    }


def test_backup_wipe_restore_gives_back_the_same_stack(
    data_dir: Path,  # noqa: F811
    model_repository: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("REGISTRATION_OPEN", "true")
    port = find_free_port()
    url = f"http://127.0.0.1:{port}"
    garden = data_dir / "documents" / "garden"
    garden.mkdir(parents=True)
    (garden / "roses.md").write_text("# Roses\n\nPrune roses in late winter, just above an outward bud.\n")
    (garden / "tomatoes.md").write_text("# Tomatoes\n\nTomatoes need sun, warmth and regular watering.\n")

    first = start(data_dir, port, model_repository)
    try:
        wait_ready(first, url, data_dir)
        admin = login(url)
        registered = httpx.post(
            f"{url}/api/auth/register", json={"username": "bob", "password": "a long and unusual password 7"}
        )
        assert registered.status_code == 201, registered.text
        collection = httpx.post(f"{url}/api/v2/collections", json={"name": "Garden"}, headers=admin).json()
        added = httpx.post(
            f"{url}/api/v2/collections/{collection['id']}/sources", json={"path": str(garden)}, headers=admin
        )
        assert wait_for(url, admin, added.json()["operation_id"])["status"] == "completed"
        uploaded = httpx.post(
            f"{url}/api/v2/collections/{collection['id']}/uploads",
            files=[("files", ("pruning.txt", b"Winter pruning of roses keeps them healthy.", "text/plain"))],
            headers=admin,
        )
        assert uploaded.status_code == 202, uploaded.text
        assert wait_for(url, admin, uploaded.json()["operation_id"])["status"] == "completed"
        before = state(url, "a long and unusual password 7")
        assert before["searches"][("Garden", "semantic")], "the search should find something"

        # While the stack runs, its stores are open: a backup refuses instead of copying them half-written.
        refused = script(
            "backup.sh",
            "--stack",
            "embedded",
            "--out",
            tmp_path / "refused",
            data=data_dir,
            models=model_repository,
        )
        assert refused.returncode != 0 and "stop `semantik run`" in refused.stderr
        assert not (tmp_path / "refused").exists() or not any((tmp_path / "refused").iterdir())
    finally:
        assert stop(first, signal.SIGINT) == []

    out = tmp_path / "backups"
    made = script("backup.sh", "--stack", "embedded", "--out", out, data=data_dir, models=model_repository)
    assert made.returncode == 0, made.stderr
    (folder,) = out.iterdir()
    assert (
        folder.name.startswith("semantik-") and Path(made.stdout.strip().splitlines()[-1]).resolve() == folder
    )
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format"] == 1 and manifest["stack"] == "embedded"
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (folder / "postgres.dump").stat().st_size > 0
    assert (folder / "models" / "all-minilm-l6-v2" / "config.pbtxt").is_file()
    assert not list((folder / "models").rglob("*.onnx")), "weights are re-exported, not backed up"
    assert [p.name for p in (folder / "uploads").rglob("*") if p.is_file()] == ["pruning.txt"]

    # Wipe everything the stack keeps (the documents folder is the user's own, and stays).
    for entry in data_dir.iterdir():
        if entry.name != "documents":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()

    restored = script("restore.sh", folder, "--yes", data=data_dir, models=model_repository)
    assert restored.returncode == 0, restored.stderr

    second = start(data_dir, port, model_repository)
    try:
        wait_ready(second, url, data_dir)
        after = state(url, "a long and unusual password 7")
        assert after == before
        health = script(
            "health-check.sh", "--stack", "embedded", "--url", url, data=data_dir, models=model_repository
        )
        assert health.returncode == 0, health.stdout + health.stderr
        rows = {line.split()[0]: line.split()[1] for line in health.stdout.splitlines()[1:]}
        assert {rows[name] for name in ("postgres", "redis", "qdrant", "triton")} == {"ok"}
    finally:
        assert stop(second, signal.SIGTERM) == []


def test_restore_refuses_a_folder_that_is_not_a_backup(tmp_path: Path) -> None:
    with pytest.raises(backup.BackupError, match="no manifest.json"):
        backup.restore(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": 99}')
    with pytest.raises(backup.BackupError, match="backup format 99"):
        backup.restore(tmp_path)


def test_a_backup_never_overwrites_a_folder(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(backup.BackupError, match="already exists"):
        backup.backup(tmp_path / "taken")

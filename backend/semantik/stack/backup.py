"""`semantik backup` and `semantik restore`: the embedded stack into one folder, and back.

A backup folder holds:
  manifest.json   what it holds, when and from where (format 1)
  postgres.dump   the database in pg_dump's custom format (users, collections, documents, operations)
  qdrant/         the embedded Qdrant's data directory (one edge shard per collection generation)
  uploads/        files uploaded through the API (UPLOAD_ROOT)
  models/         the model repository's configs (config.pbtxt, semantik.json, tokenizer.json,
                  model.py); the ONNX weights are build outputs, re-exported by `make models`
  secret_key      the generated development key of DATA_DIR, when there is one (tokens stay valid)

The folder is private to its owner (0700): it holds every account's password hash and the data.

Both run while `semantik run` is stopped: the embedded PostgreSQL and Qdrant admit one process, so
what is copied is what the last run left, consistent. The compose stack is backed up live by
scripts/backup.sh (pg_dump in its container, Qdrant's snapshot API) into the same layout.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

FORMAT = 1
MANIFEST = "manifest.json"
DUMP = "postgres.dump"
SECRET_KEY = "secret_key"
# What of an exported model is configuration (kept) rather than weights (re-exported).
MODEL_CONFIG_FILES = ("config.pbtxt", "semantik.json", "tokenizer.json", "model.py")


class BackupError(RuntimeError):
    """A backup or restore could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class Layout:
    """Where the stack keeps each thing, as settings.py reads it from the environment."""

    database_url: str
    database_password: str | None
    qdrant_url: str | None
    qdrant_path: Path
    upload_root: Path
    model_repository: Path
    secret_key: Path


def backup(destination: Path) -> Path:
    """Write a new backup folder at `destination` (which must not exist); returns it.

    The folder appears whole or not at all: it is written under a hidden name and renamed last.
    """
    destination = destination.expanduser().resolve()
    if destination.exists():
        raise BackupError(f"{destination} already exists: a backup goes into a new folder")
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = destination.with_name(f".{destination.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700)
    try:
        with _stack() as layout, _vectors_held(layout):
            _run(_pg(layout, "pg_dump", "--format=custom", "--no-owner", f"--file={staging / DUMP}"))
            _copy_tree(layout.qdrant_path, staging / "qdrant", skip=_qdrant_private)
            _copy_tree(layout.upload_root, staging / "uploads")
            models = _copy_model_configs(layout.model_repository, staging / "models")
            if layout.secret_key.is_file():
                shutil.copy2(layout.secret_key, staging / SECRET_KEY)
            manifest = {
                "format": FORMAT,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "stack": "embedded",
                "postgres": "pg_dump custom format",
                "qdrant": "edge data directory",
                "models": models,
            }
            (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        staging.rename(destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return destination


def restore(source: Path) -> None:
    """Replace the stack's database, vectors and uploads with those of the backup at `source`.

    Model configs are put back only for models the repository lacks; run `make models` after, to
    export their weights again.
    """
    source = source.expanduser().resolve()
    manifest = read_manifest(source)
    if manifest.get("stack") != "embedded":
        raise BackupError(
            f"{source} is a backup of the {manifest.get('stack')} stack; restore it with scripts/restore.sh"
        )
    with _stack() as layout, _vectors_held(layout):
        _recreate_database(layout)
        _run(
            _pg(layout, "pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", str(source / DUMP))
        )
        _replace_contents(layout.qdrant_path, source / "qdrant", keep=_qdrant_private)
        _replace_contents(layout.upload_root, source / "uploads")
        _restore_model_configs(source / "models", layout.model_repository)
        if (source / SECRET_KEY).is_file():
            shutil.copy2(source / SECRET_KEY, layout.secret_key)


def read_manifest(folder: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{folder} is not a Semantik backup: it has no {MANIFEST}") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder / MANIFEST} cannot be read: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"{folder} has backup format {manifest.get('format')!r}; this Semantik reads {FORMAT}"
        )
    if not (folder / DUMP).is_file():
        raise BackupError(f"{folder} has no {DUMP}")
    return manifest


@contextlib.contextmanager
def _stack() -> Iterator[Layout]:
    """The embedded PostgreSQL started when DATABASE_URL is not set (as `semantik run` would), and where
    everything lives."""
    from semantik.env import get_str
    from semantik.stack.ports import DataDirInUse
    from semantik.stack.postgres import EmbeddedPostgres
    from semantik.stack.runner import data_dir

    data = data_dir()
    with contextlib.ExitStack() as stack:
        url = get_str("DATABASE_URL")
        if not url:
            try:
                url = stack.enter_context(EmbeddedPostgres(data / "postgres")).url
            except DataDirInUse as exc:
                raise BackupError(f"stop `semantik run` (make run) first: {exc}") from exc
        qdrant_url = get_str("QDRANT_URL") or None
        if qdrant_url:
            raise BackupError(
                f"QDRANT_URL points at a Qdrant server ({qdrant_url}): take its snapshots with "
                "scripts/backup.sh --stack compose, or Qdrant's snapshot API"
            )
        yield Layout(
            database_url=url,
            database_password=get_str("DATABASE_PASSWORD") or None,
            qdrant_url=qdrant_url,
            qdrant_path=Path(get_str("QDRANT_PATH", str(data / "qdrant"))).expanduser().resolve(),
            upload_root=Path(get_str("UPLOAD_ROOT", str(data / "uploads"))).expanduser().resolve(),
            model_repository=Path(
                get_str("MODEL_REPOSITORY", str(Path(__file__).resolve().parents[3] / "model_repository"))
            ).expanduser(),
            secret_key=data / "secret_key",
        )


@contextlib.contextmanager
def _vectors_held(layout: Layout) -> Iterator[None]:
    """Hold the embedded Qdrant's directory lock, so no other process writes while we copy."""
    from semantik.vectors import VectorStoreUnavailable
    from semantik.vectors.edge import EdgeVectorStore

    store = EdgeVectorStore(layout.qdrant_path)
    try:
        store.ping()
    except VectorStoreUnavailable as exc:
        store.close()
        raise BackupError(f"stop `semantik run` (make run) first: {exc}") from exc
    try:
        yield
    finally:
        store.close()


def _qdrant_private(name: str) -> bool:
    # The lock file belongs to whoever holds the directory; the rest are drops and index builds
    # that did not finish (the store finishes or undoes them when it opens the directory).
    from semantik.vectors.edge import PRIVATE_PREFIXES

    return name.startswith(PRIVATE_PREFIXES)


def _pg(layout: Layout, program: str, *arguments: str) -> tuple[list[str], dict[str, str]]:
    from semantik.stack.postgres import client_env, client_program

    command = [str(client_program(program)), f"--dbname={layout.database_url}", *arguments]
    return command, client_env(layout.database_password)


def _run(call: tuple[list[str], dict[str, str]]) -> None:
    command, env = call
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        name = Path(command[0]).name
        raise BackupError(
            f"{name} failed (exit {result.returncode}): {(result.stderr or result.stdout).strip()}"
        )


def _recreate_database(layout: Layout) -> None:
    """An empty database of the same name: the dump is restored into it as it was, nothing left over."""
    params = psycopg.conninfo.conninfo_to_dict(layout.database_url)
    name = str(params.get("dbname") or "semantik")
    if layout.database_password:
        params["password"] = layout.database_password
    params["dbname"] = "postgres"
    try:
        with psycopg.connect(**params, autocommit=True, connect_timeout=10) as conn:  # type: ignore[arg-type]
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise BackupError(f"could not recreate database {name!r}: {exc}") from exc


def _copy_tree(source: Path, target: Path, skip: Callable[[str], bool] | None = None) -> None:
    """Copy source into target (made empty when source does not exist), leaving out top-level names `skip`
    accepts."""
    if not source.is_dir():
        target.mkdir(parents=True)
        return

    def ignore(folder: str, names: list[str]) -> list[str]:
        # Only at the top: deeper names belong to the engine's own layout.
        if skip is None or Path(folder) != source:
            return []
        return [name for name in names if skip(name)]

    shutil.copytree(source, target, symlinks=True, ignore=ignore)


def _replace_contents(target: Path, source: Path, keep: Callable[[str], bool] | None = None) -> None:
    """Make target hold exactly what source holds (names `keep` accepts are left alone)."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in target.iterdir():
        if keep is not None and keep(entry.name):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    if not source.is_dir():
        return
    for entry in source.iterdir():
        if keep is not None and keep(entry.name):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, target / entry.name, symlinks=True)
        else:
            shutil.copy2(entry, target / entry.name, follow_symlinks=False)


def _copy_model_configs(repository: Path, target: Path) -> list[str]:
    target.mkdir(parents=True)
    names: list[str] = []
    if not repository.is_dir():
        return names
    for model in sorted(p for p in repository.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = [f for f in model.rglob("*") if f.is_file() and f.name in MODEL_CONFIG_FILES]
        for file in files:
            copy = target / file.relative_to(repository)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, copy)
        if files:
            names.append(model.name)
    return names


def _restore_model_configs(source: Path, repository: Path) -> None:
    if not source.is_dir():
        return
    for model in source.iterdir():
        if (repository / model.name).exists():
            continue  # an export is there already: its configs match its weights
        shutil.copytree(model, repository / model.name)

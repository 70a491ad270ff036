"""Pytest fixtures: the exported default model and a real tritonserver serving it for the whole session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from semantik.inference.models import DEFAULT_MODEL, DEFAULT_SOURCE
from semantik.inference.server import TritonBinaryNotFound, TritonServer, triton_install

# Tests never reach the network: models come from folders, the bundled package or the local cache.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def model_repository(pytestconfig: pytest.Config) -> Path:
    """The project's model_repository/ holding a verified export of the default model.

    The export is idempotent: a repository that already holds an intact export is used as is
    (a SHA-256 check), otherwise the model is exported and verified into it (about 15 s).
    """
    from semantik.inference.export import export_model

    repository = pytestconfig.rootpath / "model_repository"
    export_model(DEFAULT_SOURCE, repository, name=DEFAULT_MODEL)
    return repository


@pytest.fixture(scope="session")
def triton_server(model_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    """A tritonserver on free loopback ports serving the default model; skipped where no binary exists."""
    try:
        triton_install()
    except TritonBinaryNotFound as exc:
        pytest.skip(str(exc))
    log_dir = tmp_path_factory.mktemp("triton")
    server = TritonServer(model_repository, log_path=log_dir / "tritonserver.log", models=[DEFAULT_MODEL])
    server.start(deadline_s=60)
    try:
        yield server
    finally:
        server.stop()

"""Pytest fixtures: the exported default model (fp32 and int8) and a real tritonserver serving both."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from semantik.inference.models import DEFAULT_INT8_MODEL, DEFAULT_MODEL, DEFAULT_SOURCE
from semantik.inference.server import TritonBinaryNotFound, TritonServer, triton_install

# Tests never reach the network: models come from folders, the bundled package or the local cache.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def model_repository(pytestconfig: pytest.Config) -> Path:
    """The project's model_repository/ holding verified exports of the default model, fp32 and int8.

    The export is idempotent: a repository that already holds intact exports is used as is
    (a SHA-256 check), otherwise the model is exported and verified into it (about 30 s for both).
    """
    from semantik.inference.export import export_model

    repository = pytestconfig.rootpath / "model_repository"
    export_model(DEFAULT_SOURCE, repository, name=DEFAULT_MODEL)
    export_model(DEFAULT_SOURCE, repository, name=DEFAULT_INT8_MODEL, precision="int8")
    return repository


@pytest.fixture(scope="session")
def triton_server(model_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    """A tritonserver on free loopback ports serving the default model in fp32 and int8 side by side.

    Skipped where no tritonserver binary exists.
    """
    try:
        triton_install()
    except TritonBinaryNotFound as exc:
        pytest.skip(str(exc))
    log_dir = tmp_path_factory.mktemp("triton")
    server = TritonServer(
        model_repository,
        log_path=log_dir / "tritonserver.log",
        models=[DEFAULT_MODEL, DEFAULT_INT8_MODEL],
    )
    server.start(deadline_s=60)
    try:
        yield server
    finally:
        server.stop()

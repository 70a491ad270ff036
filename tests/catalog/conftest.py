"""A model repository like a real installation's: the default model in two precisions, an e5-style
embedder with prefixes, and a reranker."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from semantik.inference.models import DEFAULT_INT8_MODEL, DEFAULT_MODEL
from tests.inference.tiny_models import TINY_E5, TINY_RERANKER, export_tiny_e5, save_cross_encoder


@pytest.fixture(scope="session")
def tiny_exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny e5-style embedder and the tiny reranker, exported (and verified) once per session."""
    from semantik.inference.export import export_model

    repository = tmp_path_factory.mktemp("tiny-exports")
    sources = tmp_path_factory.mktemp("tiny-sources")
    export_tiny_e5(sources, repository)
    export_model(save_cross_encoder(sources / TINY_RERANKER), repository, name=TINY_RERANKER)
    return repository


@pytest.fixture
def catalog_repository(tmp_path: Path, model_repository: Path, tiny_exports: Path, settings) -> Path:  # type: ignore[no-untyped-def]
    """Where Semantik looks for models in these tests; tests may add or break models in it."""
    repository = tmp_path / "model_repository"
    repository.mkdir()
    for name in (DEFAULT_MODEL, DEFAULT_INT8_MODEL):
        (repository / name).symlink_to(model_repository / name)
    for name in (TINY_E5, TINY_RERANKER):
        shutil.copytree(tiny_exports / name, repository / name)
    settings.MODEL_REPOSITORY = repository
    settings.INFERENCE_BACKEND = "onnx"
    return repository

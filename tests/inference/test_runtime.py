"""The process-wide clients: embedders and rerankers from the model repository, by the configured backend."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from semantik.inference.base import ModelNotFound
from semantik.inference.models import DEFAULT_INT8_MODEL, DEFAULT_MODEL
from semantik.inference.onnx import OnnxEmbedder, OnnxReranker
from semantik.inference.runtime import (
    available_models,
    available_rerankers,
    get_embedder,
    get_reranker,
    model_info,
)
from semantik.inference.triton import TritonReranker
from tests.inference.tiny_models import TINY_RERANKER


@pytest.fixture
def mixed_repository(tmp_path: Path, model_repository: Path, reranker_repository: Path, settings) -> Path:
    """Embedders and a reranker in one repository, as `make models` plus a reranker export leave it."""
    repository = tmp_path / "model_repository"
    repository.mkdir()
    for name in (DEFAULT_MODEL, DEFAULT_INT8_MODEL):
        (repository / name).symlink_to(model_repository / name)
    shutil.copytree(reranker_repository / TINY_RERANKER, repository / TINY_RERANKER)
    settings.MODEL_REPOSITORY = repository
    return repository


def test_embedding_models_are_listed_without_the_rerankers(mixed_repository: Path):
    assert sorted(available_models()) == [DEFAULT_MODEL, DEFAULT_INT8_MODEL]
    assert list(available_rerankers()) == [TINY_RERANKER]
    with pytest.raises(ModelNotFound, match="available: all-minilm-l6-v2, all-minilm-l6-v2-int8"):
        model_info(TINY_RERANKER)


def test_the_onnx_backend_gives_in_process_clients(mixed_repository: Path, settings):
    settings.INFERENCE_BACKEND = "onnx"
    assert isinstance(get_embedder(DEFAULT_INT8_MODEL), OnnxEmbedder)
    reranker = get_reranker(TINY_RERANKER)
    assert isinstance(reranker, OnnxReranker)
    assert get_reranker(TINY_RERANKER) is reranker
    assert len(reranker.rerank("a query", ["one passage", "another passage"])) == 2


def test_the_triton_backend_gives_grpc_clients(mixed_repository: Path, settings):
    settings.INFERENCE_BACKEND = "triton"
    assert isinstance(get_reranker(TINY_RERANKER), TritonReranker)


def test_an_unknown_reranker_names_the_ones_there_are(mixed_repository: Path):
    with pytest.raises(ModelNotFound, match=f"available: {TINY_RERANKER}"):
        get_reranker(DEFAULT_MODEL)

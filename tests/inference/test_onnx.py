"""OnnxEmbedder: the in-process fallback gives sentence-transformers' vectors from the exported folder."""

from __future__ import annotations

import numpy as np
import pytest

from semantik.inference.base import Embedder, ModelNotFound
from semantik.inference.onnx import OnnxEmbedder
from tests.inference.parity import LONG_TEXT, MIXED_BATCH, PARITY, SHORT_TEXTS, cosines


@pytest.fixture(scope="module")
def embedder(model_dir) -> OnnxEmbedder:
    return OnnxEmbedder(model_dir)


def test_it_is_an_embedder_for_the_default_model(embedder):
    assert isinstance(embedder, Embedder)
    assert (embedder.name, embedder.dimension, embedder.max_length) == ("all-minilm-l6-v2", 384, 256)
    embedder.ping()


@pytest.mark.parametrize(
    "texts", [SHORT_TEXTS, [LONG_TEXT], MIXED_BATCH], ids=["short", "longer-than-256-tokens", "mixed-batch"]
)
def test_vectors_match_sentence_transformers(embedder, reference, texts):
    vectors = embedder.embed(texts)
    assert vectors.dtype == np.float32 and vectors.shape == (len(texts), 384)
    assert cosines(vectors, reference(texts)).min() >= PARITY


def test_rows_come_back_in_input_order_whatever_the_buckets(model_dir, embedder):
    tiny_buckets = OnnxEmbedder(model_dir, max_batch=2, max_tokens=64)
    texts = MIXED_BATCH + SHORT_TEXTS
    np.testing.assert_allclose(tiny_buckets.embed(texts), embedder.embed(texts), atol=1e-5)


def test_vectors_are_unit_length(embedder):
    np.testing.assert_allclose(np.linalg.norm(embedder.embed(MIXED_BATCH), axis=1), 1.0, atol=1e-5)


def test_no_texts_give_an_empty_matrix(embedder):
    assert embedder.embed([]).shape == (0, 384)


def test_a_folder_without_an_export_is_reported_with_the_fix(tmp_path):
    with pytest.raises(ModelNotFound, match="export_model.py"):
        OnnxEmbedder(tmp_path)

"""What every client shares: the model's prefixes on documents and queries, the asyncio twins, the metrics."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import REGISTRY

from semantik.inference.base import AsyncEmbedder, AsyncReranker, Embedder, InferenceError, Reranker
from semantik.inference.onnx import AsyncOnnxEmbedder, AsyncOnnxReranker, OnnxEmbedder, OnnxReranker
from tests.inference.parity import MIXED_BATCH, PARITY, SHORT_TEXTS, cosines
from tests.inference.tiny_models import TINY_E5, TINY_RERANKER

TEXTS = ["how do i open a file", "the password reset form", "a", ""]


@pytest.fixture(scope="module")
def e5(e5_repository: Path) -> OnnxEmbedder:
    return OnnxEmbedder(e5_repository / TINY_E5)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_export_records_the_models_prompts_as_prefixes(e5: OnnxEmbedder):
    assert (e5.info.query_prefix, e5.info.document_prefix) == ("query: ", "passage: ")


def test_queries_and_documents_are_embedded_with_their_prefixes(e5: OnnxEmbedder):
    np.testing.assert_allclose(e5.embed_queries(TEXTS), e5.embed([f"query: {t}" for t in TEXTS]), atol=1e-6)
    np.testing.assert_allclose(
        e5.embed_documents(TEXTS), e5.embed([f"passage: {t}" for t in TEXTS]), atol=1e-6
    )
    # The prefix changes the vector: a query and the same text as a document are not the same point.
    assert cosines(e5.embed_queries(TEXTS), e5.embed_documents(TEXTS)).max() < 0.9999


def test_prefixed_vectors_are_what_sentence_transformers_gives_with_the_prompts(e5: OnnxEmbedder, e5_source):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(e5_source), device="cpu")
    queries = model.encode(TEXTS, prompt_name="query", normalize_embeddings=True)
    documents = model.encode(TEXTS, prompt_name="document", normalize_embeddings=True)
    assert cosines(e5.embed_queries(TEXTS), queries).min() >= PARITY
    assert cosines(e5.embed_documents(TEXTS), documents).min() >= PARITY


def test_a_model_without_prefixes_embeds_queries_and_documents_as_given(model_dir: Path):
    embedder = OnnxEmbedder(model_dir)
    plain = embedder.embed(SHORT_TEXTS)
    np.testing.assert_array_equal(embedder.embed_queries(SHORT_TEXTS), plain)
    np.testing.assert_array_equal(embedder.embed_documents(SHORT_TEXTS), plain)


def test_every_client_is_its_protocol(e5_repository: Path, reranker_repository: Path):
    assert isinstance(OnnxEmbedder(e5_repository / TINY_E5), Embedder)
    assert isinstance(AsyncOnnxEmbedder(e5_repository / TINY_E5), AsyncEmbedder)
    assert isinstance(OnnxReranker(reranker_repository / TINY_RERANKER), Reranker)
    assert isinstance(AsyncOnnxReranker(reranker_repository / TINY_RERANKER), AsyncReranker)


def test_the_asyncio_onnx_clients_give_the_same_vectors_and_scores(
    e5: OnnxEmbedder, e5_repository: Path, reranker_repository: Path
):
    texts = MIXED_BATCH + TEXTS
    reranker = OnnxReranker(reranker_repository / TINY_RERANKER)

    async def run() -> tuple[np.ndarray, np.ndarray, list[float]]:
        embedder = AsyncOnnxEmbedder(e5_repository / TINY_E5, max_batch=2, max_in_flight=3)
        await embedder.ping()
        queries, documents = await asyncio.gather(
            embedder.embed_queries(texts), embedder.embed_documents(texts)
        )
        scores = await AsyncOnnxReranker(reranker_repository / TINY_RERANKER).rerank("open a file", texts)
        return queries, documents, scores

    queries, documents, scores = asyncio.run(run())
    np.testing.assert_allclose(queries, e5.embed_queries(texts), atol=1e-5)
    np.testing.assert_allclose(documents, e5.embed_documents(texts), atol=1e-5)
    np.testing.assert_allclose(scores, reranker.rerank("open a file", texts), atol=1e-6)


def test_each_request_is_measured_by_model_and_kind(e5_repository: Path, reranker_repository: Path):
    embedder = OnnxEmbedder(e5_repository / TINY_E5, max_batch=2)
    labels = {"model": TINY_E5, "kind": "embedding", "backend": "onnx"}
    requests = sample("semantik_inference_request_seconds_count", **labels)
    inputs = sample("semantik_inference_batch_size_sum", **labels)
    at_most_two = sample("semantik_inference_batch_size_bucket", **labels, le="2.0")

    embedder.embed_documents(TEXTS + ["one more"])  # 5 texts in buckets of at most 2: 3 requests

    assert sample("semantik_inference_request_seconds_count", **labels) - requests == 3
    assert sample("semantik_inference_batch_size_sum", **labels) - inputs == 5
    assert sample("semantik_inference_batch_size_bucket", **labels, le="2.0") - at_most_two == 3

    reranker = OnnxReranker(reranker_repository / TINY_RERANKER)
    reranker_labels = {"model": TINY_RERANKER, "kind": "reranker", "backend": "onnx"}
    before = sample("semantik_inference_batch_size_sum", **reranker_labels)
    reranker.rerank("query", ["a", "b", "c"])
    assert sample("semantik_inference_batch_size_sum", **reranker_labels) - before == 3


def test_a_failed_request_is_counted_as_an_error(e5_repository: Path, tmp_path: Path):
    # semantik.json names an input the graph does not have: ONNX Runtime refuses every request.
    broken = tmp_path / TINY_E5
    shutil.copytree(e5_repository / TINY_E5, broken)
    metadata = json.loads((broken / "semantik.json").read_text())
    metadata["inputs"] = ["input_ids", "no_such_input"]
    (broken / "semantik.json").write_text(json.dumps(metadata))
    embedder = OnnxEmbedder(broken)
    labels = {"model": TINY_E5, "kind": "embedding", "backend": "onnx", "reason": "error"}
    before = sample("semantik_inference_errors_total", **labels)
    with pytest.raises(InferenceError, match="ONNX Runtime failed"):
        embedder.embed(["hello"])
    assert sample("semantik_inference_errors_total", **labels) - before == 1

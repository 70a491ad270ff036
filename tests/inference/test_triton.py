"""TritonEmbedder: the real tritonserver over gRPC gives sentence-transformers' vectors, or a clear error."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import tritonclient.grpc as grpcclient

from semantik.inference.base import Embedder, InferenceUnavailable, ModelNotFound
from semantik.inference.models import DEFAULT_INT8_MODEL, DEFAULT_MODEL
from semantik.inference.triton import AsyncTritonEmbedder, TritonEmbedder
from semantik.stack.ports import find_free_port
from tests.inference.parity import LONG_TEXT, MIXED_BATCH, PARITY, SHORT_TEXTS, cosines

pytestmark = pytest.mark.triton


@pytest.fixture(scope="module")
def embedder(triton_server, model_dir):
    with TritonEmbedder(triton_server.grpc_url, DEFAULT_MODEL, model_dir) as embedder:
        yield embedder


def test_it_is_an_embedder_and_the_model_is_ready(embedder):
    assert isinstance(embedder, Embedder)
    embedder.ping()


@pytest.mark.parametrize(
    "texts", [SHORT_TEXTS, [LONG_TEXT], MIXED_BATCH], ids=["short", "longer-than-256-tokens", "mixed-batch"]
)
def test_vectors_match_sentence_transformers(embedder, reference, texts):
    vectors = embedder.embed(texts)
    assert vectors.dtype == np.float32 and vectors.shape == (len(texts), 384)
    assert cosines(vectors, reference(texts)).min() >= PARITY


def test_many_small_buckets_come_back_in_input_order(triton_server, model_dir, reference):
    texts = MIXED_BATCH * 3 + SHORT_TEXTS
    url = triton_server.grpc_url
    with TritonEmbedder(url, DEFAULT_MODEL, model_dir, max_batch=2, max_tokens=64) as small:
        assert cosines(small.embed(texts), reference(texts)).min() >= PARITY


def test_threads_share_one_embedder(embedder, reference):
    jobs = [SHORT_TEXTS, MIXED_BATCH, [LONG_TEXT], SHORT_TEXTS[::-1]] * 2
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(embedder.embed, jobs))
    for texts, vectors in zip(jobs, results, strict=True):
        assert cosines(vectors, reference(texts)).min() >= PARITY


def test_concurrent_requests_of_different_lengths_share_executions(triton_server, embedder):
    """The dynamic batcher merges ragged requests: fewer ONNX runs than requests."""
    client = grpcclient.InferenceServerClient(triton_server.grpc_url)

    def counts() -> tuple[int, int]:
        (stats,) = client.get_inference_statistics(DEFAULT_MODEL, as_json=True)["model_stats"]
        return int(stats["inference_stats"]["success"].get("count", 0)), int(stats.get("execution_count", 0))

    requests_before, executions_before = counts()
    texts = [("word " * length).strip() for length in range(1, 49)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda text: embedder.embed([text]), texts))
    # The python backend reports statistics just after it answers: wait until all are counted.
    deadline = time.monotonic() + 5
    while (requests_after := counts()[0]) - requests_before < len(texts) and time.monotonic() < deadline:
        time.sleep(0.05)
    executions_after = counts()[1]
    client.close()

    assert requests_after - requests_before == len(texts)
    assert executions_after - executions_before < len(texts), (requests_after, executions_after)


def test_a_model_triton_does_not_serve_is_model_not_found(triton_server, model_dir):
    with TritonEmbedder(triton_server.grpc_url, "no-such-model", model_dir) as embedder:
        with pytest.raises(ModelNotFound, match="does not serve model 'no-such-model'"):
            embedder.embed(["hello"])
        with pytest.raises(InferenceUnavailable, match="'no-such-model' is not ready"):
            embedder.ping()


def test_nothing_listening_is_inference_unavailable_quickly(model_dir):
    url = f"127.0.0.1:{find_free_port()}"
    with TritonEmbedder(url, DEFAULT_MODEL, model_dir, retries=3, backoff_s=0.05) as embedder:
        started = time.monotonic()
        with pytest.raises(InferenceUnavailable, match=f"Triton at {url} is not reachable"):
            embedder.embed(["hello"])
        with pytest.raises(InferenceUnavailable, match=f"Triton at {url} is not reachable"):
            embedder.ping()
        assert time.monotonic() - started < 5


def test_int8_is_served_beside_fp32_and_embeds_close_to_it(
    triton_server, int8_model_dir, embedder, reference
):
    texts = MIXED_BATCH + SHORT_TEXTS
    with TritonEmbedder(triton_server.grpc_url, DEFAULT_INT8_MODEL, int8_model_dir) as int8:
        int8.ping()
        embedder.ping()
        vectors = int8.embed(texts)
    assert vectors.shape == (len(texts), 384)
    # Quantisation costs about 0.01 of cosine: retrieval-grade, not bit-exact.
    similarity = cosines(vectors, reference(texts))
    assert similarity.mean() >= 0.98 and similarity.min() >= 0.95
    assert cosines(vectors, embedder.embed(texts)).mean() >= 0.98


def test_async_client_gives_the_same_vectors_with_buckets_in_flight(triton_server, model_dir, reference):
    texts = MIXED_BATCH * 3 + SHORT_TEXTS

    async def embed() -> tuple[np.ndarray, np.ndarray]:
        async with AsyncTritonEmbedder(
            triton_server.grpc_url, DEFAULT_MODEL, model_dir, max_batch=2, max_tokens=256, max_in_flight=4
        ) as embedder:
            await embedder.ping()
            together = await asyncio.gather(embedder.embed(texts), embedder.embed(SHORT_TEXTS))
            return together[0], together[1]

    vectors, short = asyncio.run(embed())
    assert vectors.dtype == np.float32 and vectors.shape == (len(texts), 384)
    assert cosines(vectors, reference(texts)).min() >= PARITY
    assert cosines(short, reference(SHORT_TEXTS)).min() >= PARITY


def test_async_client_reports_a_missing_model_and_an_unreachable_server(triton_server, model_dir):
    async def missing() -> None:
        async with AsyncTritonEmbedder(triton_server.grpc_url, "no-such-model", model_dir) as embedder:
            await embedder.embed(["hello"])

    with pytest.raises(ModelNotFound, match="does not serve model 'no-such-model'"):
        asyncio.run(missing())

    url = f"127.0.0.1:{find_free_port()}"

    async def unreachable() -> None:
        async with AsyncTritonEmbedder(url, DEFAULT_MODEL, model_dir, retries=2, backoff_s=0.05) as embedder:
            await embedder.embed(["hello"] * 100)

    started = time.monotonic()
    with pytest.raises(InferenceUnavailable, match=f"Triton at {url} is not reachable"):
        asyncio.run(unreachable())
    assert time.monotonic() - started < 5

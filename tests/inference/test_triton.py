"""TritonEmbedder: the real tritonserver over gRPC gives sentence-transformers' vectors, or a clear error."""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
from prometheus_client import REGISTRY
from tritonclient.utils import InferenceServerException

from semantik.inference.base import Embedder, InferenceError, InferenceUnavailable, ModelNotFound
from semantik.inference.models import DEFAULT_INT8_MODEL, DEFAULT_MODEL
from semantik.inference.onnx import OnnxEmbedder
from semantik.inference.server import TritonBinaryNotFound, TritonServer, triton_install
from semantik.inference.tokenization import ModelTokenizer
from semantik.inference.triton import CHANNEL_ARGS, MAX_MESSAGE_BYTES, AsyncTritonEmbedder, TritonEmbedder
from semantik.stack.ports import LOOPBACK, find_free_port
from tests.inference.parity import LONG_TEXT, MIXED_BATCH, PARITY, SHORT_TEXTS, cosines
from tests.inference.tiny_models import TINY_E5, save_sentence_transformer

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


WIDE = "tiny-wide"
# 64 rows of 20,000 float32 are 5.1 MB: more than gRPC's default 4 MB receive limit.
WIDTH = 20_000


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture(scope="module")
def tiny_triton(e5_repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    """A tritonserver serving the tiny e5-style embedder and a tiny embedder 20,000 wide."""
    from semantik.inference.export import export_model

    try:
        triton_install()
    except TritonBinaryNotFound as exc:
        pytest.skip(str(exc))
    repository = tmp_path_factory.mktemp("tiny-models")
    shutil.copytree(e5_repository / TINY_E5, repository / TINY_E5)
    export_model(
        save_sentence_transformer(tmp_path_factory.mktemp("source") / WIDE, dense=WIDTH),
        repository,
        name=WIDE,
    )
    server = TritonServer(
        repository, log_path=tmp_path_factory.mktemp("triton") / "triton.log", models=[TINY_E5, WIDE]
    )
    server.start(deadline_s=60)
    try:
        yield server
    finally:
        server.stop()


def test_triton_reads_queries_and_documents_with_the_models_prefixes(tiny_triton, e5_repository):
    model_dir = tiny_triton.repository / TINY_E5
    local = OnnxEmbedder(e5_repository / TINY_E5)
    texts = ["how do i open a file", "the password reset form", ""]
    with TritonEmbedder(tiny_triton.grpc_url, TINY_E5, model_dir) as embedder:
        assert cosines(embedder.embed_queries(texts), local.embed_queries(texts)).min() >= PARITY
        assert cosines(embedder.embed_documents(texts), local.embed_documents(texts)).min() >= PARITY

    async def documents() -> np.ndarray:
        async with AsyncTritonEmbedder(tiny_triton.grpc_url, TINY_E5, model_dir) as embedder:
            return await embedder.embed_documents(texts)

    assert cosines(asyncio.run(documents()), local.embed_documents(texts)).min() >= PARITY


def test_answers_larger_than_grpcs_default_limit_arrive(tiny_triton):
    texts = [f"text number {i}" for i in range(64)]
    with TritonEmbedder(tiny_triton.grpc_url, WIDE, tiny_triton.repository / WIDE, max_batch=64) as embedder:
        vectors = embedder.embed(texts)
        assert vectors.shape == (64, WIDTH) and vectors.nbytes > 4 * 1024 * 1024
        assert vectors.nbytes < MAX_MESSAGE_BYTES

        (batch,) = embedder.tokenizer.batches(texts, max_batch=64, max_tokens=1 << 20)
        inputs, outputs = embedder._request(batch)
    # Channel arguments replace tritonclient's own: without the limits in them, gRPC's 4 MB default
    # refuses the same answer. The raised limits are what let it in.
    without_limits = [arg for arg in CHANNEL_ARGS if "message_length" not in arg[0]]
    plain = grpcclient.InferenceServerClient(tiny_triton.grpc_url, channel_args=without_limits)
    try:
        with pytest.raises(InferenceServerException, match="RESOURCE_EXHAUSTED|larger than max"):
            plain.infer(WIDE, inputs, outputs=outputs, client_timeout=30)
    finally:
        plain.close()


def test_requests_are_bounded_by_rows_and_padded_tokens(triton_server, model_dir):
    texts = MIXED_BATCH * 2 + SHORT_TEXTS
    max_batch, max_tokens = 4, 300
    expected = list(ModelTokenizer(model_dir).batches(texts, max_batch, max_tokens))
    assert all(len(b.indices) <= max_batch for b in expected)
    assert all(b.input_ids.size <= max_tokens for b in expected if len(b.indices) > 1)
    stats = grpcclient.InferenceServerClient(triton_server.grpc_url)

    def requests() -> int:
        (model,) = stats.get_inference_statistics(DEFAULT_MODEL, as_json=True)["model_stats"]
        return int(model["inference_stats"]["success"].get("count", 0))

    before = requests()
    with TritonEmbedder(
        triton_server.grpc_url, DEFAULT_MODEL, model_dir, max_batch=max_batch, max_tokens=max_tokens
    ) as embedder:
        embedder.embed(texts)
    deadline = time.monotonic() + 5
    while requests() - before < len(expected) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    assert requests() - before == len(expected)
    stats.close()


def test_ping_checks_triton_serves_the_model_semantik_json_describes(triton_server, model_dir, e5_repository):
    with TritonEmbedder(triton_server.grpc_url, DEFAULT_MODEL, model_dir) as embedder:
        metadata = embedder.metadata()
    assert {tensor["name"] for tensor in metadata["inputs"]} == {"input_ids", "attention_mask"}
    assert [tensor["shape"][-1] for tensor in metadata["outputs"]] == ["384"]

    # Semantik's copy of the repository says 32 wide; Triton serves the 384-wide model by that name.
    with (
        TritonEmbedder(triton_server.grpc_url, DEFAULT_MODEL, e5_repository / TINY_E5) as mismatched,
        pytest.raises(InferenceError, match="'embedding' 384 wide, but .* says 32"),
    ):
        mismatched.ping()


def test_a_server_that_never_answers_times_out_as_unavailable(model_dir):
    # A socket that accepts connections and never speaks: gRPC waits for it until the deadline.
    silent = socket.socket()
    silent.bind((LOOPBACK, 0))
    silent.listen(16)
    url = f"{LOOPBACK}:{silent.getsockname()[1]}"
    try:
        with TritonEmbedder(
            url, DEFAULT_MODEL, model_dir, timeout_s=0.5, retries=1, backoff_s=0.05
        ) as embedder:
            started = time.monotonic()
            with pytest.raises(
                InferenceUnavailable, match=r"did not answer within 0.5 s: .*after 2 attempts"
            ):
                embedder.embed(["hello"])
            assert 1.0 <= time.monotonic() - started < 5
    finally:
        silent.close()


def test_unreachable_triton_is_retried_with_exponential_backoff(model_dir, caplog):
    url = f"127.0.0.1:{find_free_port()}"
    labels = {"model": DEFAULT_MODEL, "kind": "embedding", "backend": "triton"}
    retries = sample("semantik_inference_retries_total", **labels)
    errors = sample("semantik_inference_errors_total", **labels, reason="unavailable")
    with (
        caplog.at_level(logging.WARNING, logger="semantik.inference.triton"),
        TritonEmbedder(url, DEFAULT_MODEL, model_dir, retries=3, backoff_s=0.05) as embedder,
        pytest.raises(InferenceUnavailable, match="after 4 attempts"),
    ):
        embedder.embed(["hello"])
    delays = [
        r.getMessage().rsplit("retrying in ", 1)[1] for r in caplog.records if "retrying in" in r.getMessage()
    ]
    assert delays == ["0.05 s", "0.10 s", "0.20 s"]
    assert sample("semantik_inference_retries_total", **labels) - retries == 3
    assert sample("semantik_inference_errors_total", **labels, reason="unavailable") - errors == 1


def test_a_triton_that_comes_up_while_the_client_retries_is_used(
    model_repository, model_dir, tmp_path, reference
):
    port = find_free_port()
    server = TritonServer(
        model_repository, grpc_port=port, log_path=tmp_path / "triton.log", models=[DEFAULT_MODEL]
    )
    with (
        TritonEmbedder(f"{LOOPBACK}:{port}", DEFAULT_MODEL, model_dir, retries=8, backoff_s=0.1) as embedder,
        ThreadPoolExecutor(max_workers=1) as pool,
    ):
        pending = pool.submit(embedder.embed, SHORT_TEXTS)
        time.sleep(0.3)
        assert not pending.done()
        try:
            server.start(deadline_s=60)
            vectors = pending.result(timeout=60)
        finally:
            server.stop()
    assert cosines(vectors, reference(SHORT_TEXTS)).min() >= PARITY

"""Rerankers: a cross-encoder exported, served by real Triton and in-process, scoring like the original."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from semantik.inference.base import ModelNotFound, Reranker
from semantik.inference.export import ExportError, read_source
from semantik.inference.models import load_model_info
from semantik.inference.onnx import OnnxEmbedder, OnnxReranker
from semantik.inference.server import TritonServer
from semantik.inference.triton import AsyncTritonReranker, TritonEmbedder, TritonReranker
from tests.inference.tiny_models import TINY_RERANKER, WORDS, save_cross_encoder

NAME = TINY_RERANKER
QUERY = "how do i open a file in python"
# Every length: empty, a word, sentences, and one far over the model's 128 tokens (truncated longest-first).
PASSAGES = [
    "",
    "open",
    "open the file with the open function and read it",
    "the password reset form is on the search page",
    " ".join(WORDS * 6),
] + [" ".join(random.Random(seed).choices(WORDS, k=random.Random(seed).randint(3, 60))) for seed in range(35)]
LOGITS_ATOL = 1e-4
MIN_CORRELATION = 0.9999


@pytest.fixture(scope="module")
def repository(reranker_repository: Path) -> Path:
    return reranker_repository


@pytest.fixture(scope="module")
def reranker_dir(repository: Path) -> Path:
    return repository / NAME


@pytest.fixture(scope="module")
def original(cross_encoder: Path) -> Callable[[str, list[str]], tuple[np.ndarray, np.ndarray]]:
    """(scores, logits) from sentence-transformers' CrossEncoder running the torch model."""
    import torch
    from sentence_transformers import CrossEncoder

    model = CrossEncoder(str(cross_encoder), device="cpu")

    def score(query: str, passages: list[str]) -> tuple[np.ndarray, np.ndarray]:
        pairs = [(query, passage) for passage in passages]
        scores = model.predict(pairs, show_progress_bar=False)
        logits = model.predict(pairs, activation_fn=torch.nn.Identity(), show_progress_bar=False)
        return np.asarray(scores, dtype=np.float64), np.asarray(logits, dtype=np.float64)

    return score


@pytest.fixture(scope="module")
def triton_rerankers(repository: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    """A tritonserver serving the exported cross-encoder (the session's server serves the embedders)."""
    from semantik.inference.server import TritonBinaryNotFound, triton_install

    try:
        triton_install()
    except TritonBinaryNotFound as exc:
        pytest.skip(str(exc))
    server = TritonServer(
        repository, log_path=tmp_path_factory.mktemp("triton") / "triton.log", models=[NAME]
    )
    server.start(deadline_s=60)
    try:
        yield server
    finally:
        server.stop()


def assert_same_scores(actual: list[float] | np.ndarray, expected: np.ndarray) -> None:
    actual = np.asarray(actual, dtype=np.float64)
    assert actual.shape == expected.shape
    assert np.abs(actual - expected).max() < LOGITS_ATOL
    assert np.corrcoef(actual, expected)[0, 1] >= MIN_CORRELATION


def test_a_cross_encoder_exports_as_a_reranker_returning_its_logit(reranker_dir: Path):
    info = load_model_info(reranker_dir)
    assert (info.kind, info.dimension, info.output, info.pooling, info.normalize) == (
        "reranker",
        1,
        "logits",
        "none",
        False,
    )
    # BERT reads segments: the passage's tokens are segment 1.
    assert info.inputs == ("input_ids", "attention_mask", "token_type_ids")
    assert info.activation == "sigmoid"
    assert info.max_length == 128
    config = (reranker_dir / "config.pbtxt").read_text()
    for line in ('name: "token_type_ids"', 'name: "logits"', "dims: [ 1 ]", 'backend: "python"'):
        assert line in config
    assert json.loads((reranker_dir / "semantik.json").read_text())["kind"] == "reranker"


def test_the_activation_is_read_where_sentence_transformers_keeps_it(tmp_path: Path, cross_encoder: Path):
    identity = save_cross_encoder(tmp_path / "identity", activation="torch.nn.modules.linear.Identity")
    assert read_source(str(identity), identity).activation == "identity"

    # A CrossEncoder saved by sentence-transformers 4+ keeps it in config_sentence_transformers.json.
    from sentence_transformers import CrossEncoder

    saved = tmp_path / "saved"
    CrossEncoder(
        str(cross_encoder), device="cpu", activation_fn=__import__("torch").nn.Tanh()
    ).save_pretrained(str(saved))
    source = read_source(str(saved), saved)
    assert (source.kind, source.activation) == ("reranker", "tanh")


def test_a_classifier_with_several_labels_is_not_a_reranker(tmp_path: Path):
    classifier = save_cross_encoder(tmp_path / "nli", labels=3)
    with pytest.raises(ExportError, match="3 labels"):
        read_source(str(classifier), classifier)


def test_an_embedder_client_refuses_a_reranker_folder(reranker_dir: Path):
    with pytest.raises(ModelNotFound, match="holds a reranker, not an embedding model"):
        OnnxEmbedder(reranker_dir)


def test_onnx_reranker_scores_like_the_cross_encoder(reranker_dir: Path, original):
    reranker = OnnxReranker(reranker_dir, max_batch=4)
    assert isinstance(reranker, Reranker)
    scores, logits = original(QUERY, PASSAGES)
    assert_same_scores(reranker.logits([(QUERY, p) for p in PASSAGES])[:, 0], logits)
    assert_same_scores(reranker.rerank(QUERY, PASSAGES), scores)
    assert reranker.rerank(QUERY, []) == []


@pytest.mark.triton
def test_triton_reranker_scores_like_the_cross_encoder(
    triton_rerankers: TritonServer, reranker_dir: Path, original
):
    scores, logits = original(QUERY, PASSAGES)
    with TritonReranker(triton_rerankers.grpc_url, NAME, reranker_dir, max_batch=8) as reranker:
        assert isinstance(reranker, Reranker)
        reranker.ping()
        assert_same_scores(reranker.logits([(QUERY, p) for p in PASSAGES])[:, 0], logits)
        assert_same_scores(reranker.rerank(QUERY, PASSAGES), scores)
        # Another query, scored in one request.
        other_scores, _ = original("semantic search for a document", PASSAGES[:10])
        assert_same_scores(reranker.rerank("semantic search for a document", PASSAGES[:10]), other_scores)


@pytest.mark.triton
def test_async_triton_reranker_gives_the_same_scores(
    triton_rerankers: TritonServer, reranker_dir: Path, original
):
    scores, _ = original(QUERY, PASSAGES)

    async def rerank() -> list[float]:
        async with AsyncTritonReranker(
            triton_rerankers.grpc_url, NAME, reranker_dir, max_batch=4, max_in_flight=4
        ) as reranker:
            await reranker.ping()
            return await reranker.rerank(QUERY, PASSAGES)

    assert_same_scores(asyncio.run(rerank()), scores)


@pytest.mark.triton
def test_an_embedder_client_refuses_to_call_a_reranker(triton_rerankers: TritonServer, reranker_dir: Path):
    with pytest.raises(ModelNotFound, match="not an embedding model"):
        TritonEmbedder(triton_rerankers.grpc_url, NAME, reranker_dir)

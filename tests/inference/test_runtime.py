"""The process-wide clients: embedders and rerankers from the model repository, by the configured backend."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from semantik.inference.base import InferenceUnavailable, ModelNotFound
from semantik.inference.models import DEFAULT_INT8_MODEL, DEFAULT_MODEL, list_models
from semantik.inference.onnx import OnnxEmbedder, OnnxReranker
from semantik.inference.runtime import (
    RoundRobin,
    available_models,
    available_rerankers,
    get_embedder,
    get_reranker,
    model_info,
    models_readiness,
    reset_embedders,
    triton_urls,
)
from semantik.inference.triton import TritonReranker
from semantik.stack.ports import find_free_port
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


def test_one_client_per_model_whatever_its_kind(mixed_repository: Path, settings):
    settings.INFERENCE_BACKEND = "onnx"
    assert get_embedder(DEFAULT_MODEL) is get_embedder(DEFAULT_MODEL)
    assert get_reranker(TINY_RERANKER) is get_reranker(TINY_RERANKER)
    with pytest.raises(ModelNotFound, match="Embedding model 'tiny-reranker'"):
        get_embedder(TINY_RERANKER)


def test_in_process_a_model_is_ready_when_its_onnx_file_loads(mixed_repository: Path, settings):
    settings.INFERENCE_BACKEND = "onnx"
    broken = mixed_repository / "broken-reranker"
    shutil.copytree(mixed_repository / TINY_RERANKER, broken)
    metadata = json.loads((broken / "semantik.json").read_text())
    (broken / "semantik.json").write_text(json.dumps({**metadata, "name": "broken-reranker"}))
    (broken / "1" / "model.onnx").unlink()

    readiness = models_readiness(list_models(mixed_repository), timeout_s=60)
    assert readiness[DEFAULT_MODEL] == readiness[DEFAULT_INT8_MODEL] == readiness[TINY_RERANKER] == ""
    assert readiness["broken-reranker"].startswith("ModelNotFound: ")
    assert "model.onnx is missing" in readiness["broken-reranker"]


@pytest.mark.triton
def test_with_triton_a_model_is_ready_when_triton_says_so(mixed_repository: Path, triton):
    readiness = models_readiness(list_models(mixed_repository))
    assert readiness[DEFAULT_MODEL] == readiness[DEFAULT_INT8_MODEL] == ""
    # In the repository, but not loaded by this Triton.
    assert readiness[TINY_RERANKER] == f"Triton at {triton.grpc_url} does not serve it"


def test_a_triton_that_does_not_answer_makes_every_model_unready_quickly(mixed_repository: Path, settings):
    settings.INFERENCE_BACKEND = "triton"
    settings.TRITON_URL = f"127.0.0.1:{find_free_port()}"
    started = time.monotonic()
    readiness = models_readiness(list_models(mixed_repository), timeout_s=1.0)
    assert time.monotonic() - started < 3
    assert set(readiness) == {DEFAULT_MODEL, DEFAULT_INT8_MODEL, TINY_RERANKER}
    assert all(f"Triton at {settings.TRITON_URL} did not list its models" in r for r in readiness.values())


class Server:
    """Stands for one Triton server's client in the round-robin tests: records calls, or is down."""

    def __init__(self, label: str, down: bool = False) -> None:
        self.label, self.down, self.calls = label, down, 0
        self.name, self.dimension = "model", 3

    def embed_queries(self, texts: list[str]) -> str:
        self.calls += 1
        if self.down:
            raise InferenceUnavailable(f"{self.label} is down")
        return self.label

    def ping(self) -> None:
        self.embed_queries([])


def test_round_robin_sends_each_call_to_the_next_server() -> None:
    servers = [Server("a"), Server("b"), Server("c")]
    rotating = RoundRobin(servers)
    assert [rotating.embed_queries(["q"]) for _ in range(6)] == ["a", "b", "c", "a", "b", "c"]
    assert (rotating.name, rotating.dimension) == ("model", 3)


def test_round_robin_skips_a_server_that_is_down_and_fails_only_when_all_are() -> None:
    servers = [Server("a"), Server("b", down=True)]
    rotating = RoundRobin(servers)
    assert [rotating.embed_queries(["q"]) for _ in range(4)] == ["a", "a", "a", "a"]
    servers[0].down = True
    with pytest.raises(InferenceUnavailable, match="is down"):
        rotating.ping()


def test_one_triton_url_gives_a_plain_client_and_several_a_round_robin(models, settings) -> None:  # type: ignore[no-untyped-def]
    settings.INFERENCE_BACKEND = "triton"
    settings.TRITON_URL = "127.0.0.1:18001"
    reset_embedders()
    assert not isinstance(get_embedder(DEFAULT_MODEL), RoundRobin)
    settings.TRITON_URL = "gpu1:8001, gpu2:8001,"
    reset_embedders()
    embedder = get_embedder(DEFAULT_MODEL)
    assert isinstance(embedder, RoundRobin)
    assert [client.url for client in embedder.clients] == ["gpu1:8001", "gpu2:8001"]
    assert triton_urls() == ["gpu1:8001", "gpu2:8001"]


@pytest.mark.triton
def test_several_triton_servers_keep_embedding_when_one_is_down(models, triton, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TRITON_URL = f"127.0.0.1:{find_free_port()},{triton.grpc_url}"
    settings.TRITON_TIMEOUT_S = 2
    reset_embedders()
    embedder = get_embedder(DEFAULT_MODEL)
    vectors = [embedder.embed_queries(["where is the passage?"]) for _ in range(3)]
    assert all(v.shape == (1, 384) for v in vectors)
    assert all(abs(float((v @ vectors[0].T)[0, 0]) - 1) < 1e-5 for v in vectors)
    embedder.ping()
    assert models_readiness([model_info(DEFAULT_MODEL)]) == {DEFAULT_MODEL: ""}

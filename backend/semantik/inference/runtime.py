"""The embedders and rerankers this process uses, one per model, chosen by settings and kept for reuse."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, cast

from django.conf import settings

from semantik.inference.base import Embedder, InferenceError, InferenceUnavailable, ModelNotFound, Reranker
from semantik.inference.models import CPU_TARGET, EMBEDDING, RERANKER, ModelInfo, list_models

# How long a readiness question (GET /api/v2/models) may wait for Triton or for a model to load.
READINESS_TIMEOUT_S = 2.0

_lock = threading.Lock()
_clients: dict[tuple[str, str], Any] = {}


def available_models() -> dict[str, ModelInfo]:
    """The embedding models in the model repository, by name (rerankers are not embedders)."""
    return {info.name: info for info in list_models(settings.MODEL_REPOSITORY, kind=EMBEDDING)}


def available_rerankers() -> dict[str, ModelInfo]:
    """The cross-encoder rerankers in the model repository, by name."""
    return {info.name: info for info in list_models(settings.MODEL_REPOSITORY, kind=RERANKER)}


def model_info(name: str, kind: str = EMBEDDING) -> ModelInfo:
    """The exported model of that kind named `name`, or ModelNotFound naming the ones there are."""
    models = {info.name: info for info in list_models(settings.MODEL_REPOSITORY, kind=kind)}
    if name not in models:
        what = "Embedding model" if kind == EMBEDDING else "Reranker"
        known = ", ".join(sorted(models)) or ("none (run `make models`)" if kind == EMBEDDING else "none")
        raise ModelNotFound(f"{what} {name!r} is not in the model repository; available: {known}")
    return models[name]


def triton_urls() -> list[str]:
    """The Triton servers TRITON_URL names (comma-separated gRPC addresses), in order."""
    urls = [url.strip() for url in settings.TRITON_URL.split(",") if url.strip()]
    if not urls:
        raise InferenceUnavailable("TRITON_URL names no Triton server")
    return urls


class RoundRobin:
    """One model served by several Triton servers: each call goes to the next server in turn.

    A server that is down (InferenceUnavailable, after the client's own retries) is skipped for
    that call; the call fails only when every server is down. Everything that is not a method
    (name, dimension, info, tokenizer) is the same on all of them and read from the first.
    """

    def __init__(self, clients: Sequence[Any]) -> None:
        if not clients:
            raise ValueError("RoundRobin needs at least one client")
        self.clients = list(clients)
        self._turns = itertools.count()  # next() on a count is atomic under the GIL

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self.clients[0], attribute)
        if not callable(value):
            return value
        return self._rotating(attribute)

    def _rotating(self, method: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            first = next(self._turns)
            failure: InferenceUnavailable | None = None
            for step in range(len(self.clients)):
                client = self.clients[(first + step) % len(self.clients)]
                try:
                    return getattr(client, method)(*args, **kwargs)
                except InferenceUnavailable as exc:
                    failure = exc
            assert failure is not None
            raise failure

        return call

    def close(self) -> None:
        for client in self.clients:
            client.close()


def _build(info: ModelInfo) -> Any:
    """A client for the model on the configured backend: Triton over gRPC, or ONNX Runtime in-process."""
    if settings.INFERENCE_BACKEND == "onnx":
        from semantik.inference.onnx import OnnxEmbedder, OnnxReranker

        onnx_class = OnnxEmbedder if info.kind == EMBEDDING else OnnxReranker
        return onnx_class(info.path)
    from semantik.inference.triton import TritonEmbedder, TritonReranker

    triton_class = TritonEmbedder if info.kind == EMBEDDING else TritonReranker
    clients = [
        triton_class(
            url,
            model_name=info.name,
            model_dir=info.path,
            timeout_s=settings.TRITON_TIMEOUT_S,
            max_batch=settings.EMBED_BATCH_SIZE,
        )
        for url in triton_urls()
    ]
    return clients[0] if len(clients) == 1 else RoundRobin(clients)


def _client(name: str, kind: str) -> Any:
    """The process-wide client for a model of a kind, made on first use."""
    with _lock:
        client = _clients.get((kind, name))
        if client is None:
            client = _clients[(kind, name)] = _build(model_info(name, kind))
        return client


def get_embedder(name: str) -> Embedder:
    """The process-wide embedder for a model: a Triton gRPC client, or ONNX Runtime in-process."""
    return cast(Embedder, _client(name, EMBEDDING))


def get_query_embedder(name: str) -> Embedder:
    """The embedder search uses for queries: per QUERY_INFERENCE_BACKEND, in-process ONNX Runtime
    (same ONNX file, same vectors) or the same client as get_embedder."""
    if settings.QUERY_INFERENCE_BACKEND != "onnx" or settings.INFERENCE_BACKEND == "onnx":
        return get_embedder(name)
    with _lock:
        client = _clients.get(("query", name))
        if client is None:
            from semantik.inference.coalescing import CoalescingQueryEmbedder
            from semantik.inference.onnx import OnnxEmbedder

            # One thread: a query is a few tokens, and concurrent requests' queries share a run.
            embedder = OnnxEmbedder(model_info(name, EMBEDDING).path, threads=1)
            client = _clients[("query", name)] = CoalescingQueryEmbedder(embedder)
        return cast(Embedder, client)


def get_reranker(name: str) -> Reranker:
    """The process-wide reranker for a model, chosen like the embedders (Triton or ONNX Runtime)."""
    return cast(Reranker, _client(name, RERANKER))


def reset_embedders() -> None:
    """Forget every embedder and reranker, so the next call reads settings again (tests use new servers)."""
    with _lock:
        _clients.clear()


def models_readiness(models: Sequence[ModelInfo], timeout_s: float = READINESS_TIMEOUT_S) -> dict[str, str]:
    """Why each model cannot serve right now, by name: "" when it is ready. Answers within about timeout_s.

    With Triton, ready is what Triton's repository index says (one RPC). With the in-process
    backend, ready means its ONNX file loads: the clients are made (and kept) on worker threads,
    and one still loading at the deadline is reported as such.
    """
    if not models:
        return {}
    if settings.INFERENCE_BACKEND == "onnx":
        return _loaded_in_process(models, timeout_s)
    from semantik.inference.triton import served_models

    # With several servers, a model is ready when one of them serves it (calls skip the others).
    states: dict[str, tuple[str, str]] = {}
    failures = []
    for url in triton_urls():
        try:
            served = served_models(url, timeout_s)
        except InferenceError as exc:
            failures.append(str(exc))
            continue
        for name, served_state in served.items():
            if states.get(name, ("",))[0] != "READY":
                states[name] = served_state
    if failures and not states:
        return {info.name: "; ".join(failures) for info in models}
    readiness = {}
    for info in models:
        state, reason = states.get(info.name, ("", ""))
        if state == "READY":
            readiness[info.name] = ""
        elif not state and info.target != CPU_TARGET:
            readiness[info.name] = (
                f"Triton at {settings.TRITON_URL} does not serve it: a {info.target} export, "
                "for NVIDIA's Triton on a GPU"
            )
        elif not state:
            readiness[info.name] = f"Triton at {settings.TRITON_URL} does not serve it"
        else:
            readiness[info.name] = f"Triton reports it {state}" + (f": {reason}" if reason else "")
    return readiness


def _loaded_in_process(models: Sequence[ModelInfo], timeout_s: float) -> dict[str, str]:
    def load(info: ModelInfo) -> str:
        try:
            _client(info.name, info.kind)
        except Exception as exc:  # noqa: BLE001 - any failure to load is the answer, as text
            return f"{exc.__class__.__name__}: {exc}"
        return ""

    pool = ThreadPoolExecutor(max_workers=min(4, len(models)), thread_name_prefix="model-load")
    try:
        futures = {info.name: pool.submit(load, info) for info in models}
        wait(futures.values(), timeout=timeout_s)
        return {
            name: future.result() if future.done() else f"still loading after {timeout_s:g} s"
            for name, future in futures.items()
        }
    finally:
        # A model still loading finishes in the background and is kept for the next call.
        pool.shutdown(wait=False)

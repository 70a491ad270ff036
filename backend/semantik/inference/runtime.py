"""The embedders and rerankers this process uses, one per model, chosen by settings and kept for reuse."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings

from semantik.inference.base import Embedder, ModelNotFound, Reranker
from semantik.inference.models import EMBEDDING, RERANKER, ModelInfo, list_models

_lock = threading.Lock()
_embedders: dict[str, Embedder] = {}
_rerankers: dict[str, Reranker] = {}


def available_models() -> dict[str, ModelInfo]:
    """The embedding models in the model repository, by name (rerankers are not embedders)."""
    return {info.name: info for info in list_models(settings.MODEL_REPOSITORY, kind=EMBEDDING)}


def available_rerankers() -> dict[str, ModelInfo]:
    """The cross-encoder rerankers in the model repository, by name."""
    return {info.name: info for info in list_models(settings.MODEL_REPOSITORY, kind=RERANKER)}


def model_info(name: str) -> ModelInfo:
    models = available_models()
    if name not in models:
        known = ", ".join(sorted(models)) or "none (run `make models`)"
        raise ModelNotFound(f"Embedding model {name!r} is not in the model repository; available: {known}")
    return models[name]


def _triton_options(name: str, info: ModelInfo) -> dict[str, Any]:
    return {
        "model_name": name,
        "model_dir": info.path,
        "timeout_s": settings.TRITON_TIMEOUT_S,
        "max_batch": settings.EMBED_BATCH_SIZE,
    }


def get_embedder(name: str) -> Embedder:
    """The process-wide embedder for a model: a Triton gRPC client, or ONNX Runtime in-process."""
    with _lock:
        embedder = _embedders.get(name)
        if embedder is None:
            info = model_info(name)
            if settings.INFERENCE_BACKEND == "onnx":
                from semantik.inference.onnx import OnnxEmbedder

                embedder = OnnxEmbedder(info.path)
            else:
                from semantik.inference.triton import TritonEmbedder

                embedder = TritonEmbedder(settings.TRITON_URL, **_triton_options(name, info))
            _embedders[name] = embedder
        return embedder


def get_reranker(name: str) -> Reranker:
    """The process-wide reranker for a model, chosen like the embedders (Triton or ONNX Runtime)."""
    with _lock:
        reranker = _rerankers.get(name)
        if reranker is None:
            models = available_rerankers()
            if name not in models:
                known = ", ".join(sorted(models)) or "none"
                raise ModelNotFound(f"Reranker {name!r} is not in the model repository; available: {known}")
            info = models[name]
            if settings.INFERENCE_BACKEND == "onnx":
                from semantik.inference.onnx import OnnxReranker

                reranker = OnnxReranker(info.path)
            else:
                from semantik.inference.triton import TritonReranker

                reranker = TritonReranker(settings.TRITON_URL, **_triton_options(name, info))
            _rerankers[name] = reranker
        return reranker


def reset_embedders() -> None:
    """Forget every embedder and reranker, so the next call reads settings again (tests use new servers)."""
    with _lock:
        _embedders.clear()
        _rerankers.clear()

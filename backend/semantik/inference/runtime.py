"""The embedders this process uses, one per model, chosen by settings and kept for reuse."""

from __future__ import annotations

import threading

from django.conf import settings

from semantik.inference.base import Embedder, ModelNotFound
from semantik.inference.models import ModelInfo, list_models

_lock = threading.Lock()
_embedders: dict[str, Embedder] = {}


def available_models() -> dict[str, ModelInfo]:
    return {info.name: info for info in list_models(settings.MODEL_REPOSITORY)}


def model_info(name: str) -> ModelInfo:
    models = available_models()
    if name not in models:
        known = ", ".join(sorted(models)) or "none (run `make models`)"
        raise ModelNotFound(f"Embedding model {name!r} is not in the model repository; available: {known}")
    return models[name]


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

                embedder = TritonEmbedder(
                    settings.TRITON_URL,
                    model_name=name,
                    model_dir=info.path,
                    timeout_s=settings.TRITON_TIMEOUT_S,
                    max_batch=settings.EMBED_BATCH_SIZE,
                )
            _embedders[name] = embedder
        return embedder


def reset_embedders() -> None:
    """Forget every embedder, so the next call reads settings again (tests point at new servers)."""
    with _lock:
        _embedders.clear()

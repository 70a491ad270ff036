"""In-process ONNX Runtime embedder and reranker: the fallback where no Triton runs, same files as Triton."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np

from semantik.inference.base import InferenceError, ModelNotFound
from semantik.inference.clients import (
    AsyncEmbedding,
    AsyncModel,
    AsyncReranking,
    BlockingModel,
    Embedding,
    ModelClient,
    Reranking,
)
from semantik.inference.tokenization import Batch


def create_session(path: Path, *, threads: int | None = None, spinning: bool = False) -> Any:
    """An ONNX Runtime CPU session with every graph optimisation.

    Spinning is off by default: ORT's idle worker threads otherwise busy-wait for the next run
    and take the cores from the threads that would prepare it (tokenizers, gRPC, Celery).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class _OnnxModel(ModelClient):
    """One exported model folder loaded into an ONNX Runtime session; one instance serves every thread."""

    backend = "onnx"

    def __init__(
        self,
        model_dir: Path,
        *,
        threads: int | None = None,
        max_batch: int = 32,
        max_tokens: int = 8192,
        spinning: bool = False,
        max_in_flight: int = 2,
        onnx_file: Path | None = None,
    ) -> None:
        """`max_in_flight` bounds the buckets of one call running at once (asyncio clients only).

        `onnx_file` runs another graph with the folder's tokenizer and metadata (the exporter
        verifies candidate graphs so).
        """
        self._load(model_dir, max_batch=max_batch, max_tokens=max_tokens, max_in_flight=max_in_flight)
        graph = onnx_file or self.info.onnx_path
        if not graph.is_file():
            raise ModelNotFound(f"{graph} is missing; export the model with `python scripts/export_model.py`")
        self._session = create_session(graph, threads=threads, spinning=spinning)

    def _session_run(self, batch: Batch) -> np.ndarray:
        try:
            (rows,) = self._session.run([self.info.output], batch.feeds(self.info.inputs))
        except Exception as exc:  # onnxruntime raises its own untyped Fail/InvalidArgument classes
            raise InferenceError(f"ONNX Runtime failed to run '{self.name}': {exc}") from exc
        return np.asarray(rows, dtype=np.float32)


class _BlockingOnnx(_OnnxModel, BlockingModel):
    def ping(self) -> None:
        """The session was built in __init__, so an instance that exists can run."""

    def _run(self, batch: Batch) -> np.ndarray:
        return self._session_run(batch)


class _AsyncOnnx(_OnnxModel, AsyncModel):
    async def ping(self) -> None:
        """The session was built in __init__, so an instance that exists can run."""

    async def _run(self, batch: Batch) -> np.ndarray:
        # ONNX Runtime releases the GIL while it runs: buckets in threads really run side by side.
        return await asyncio.to_thread(self._session_run, batch)


class OnnxEmbedder(_BlockingOnnx, Embedding):
    """Embeds with `<model_dir>/1/model.onnx` on the CPU."""


class OnnxReranker(_BlockingOnnx, Reranking):
    """Scores (query, passage) pairs with an exported cross-encoder on the CPU."""


class AsyncOnnxEmbedder(_AsyncOnnx, AsyncEmbedding):
    """`await embed(texts)` with ONNX Runtime in worker threads: the same vectors as OnnxEmbedder."""


class AsyncOnnxReranker(_AsyncOnnx, AsyncReranking):
    """`await rerank(query, passages)` with ONNX Runtime in worker threads."""

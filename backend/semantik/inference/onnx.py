"""In-process ONNX Runtime embedder and reranker: the fallback where no Triton runs, same files as Triton."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from semantik.inference.base import (
    InferenceError,
    ModelNotFound,
    rerank_pairs,
    run_in_batches,
    scores_from_logits,
)
from semantik.inference.models import EMBEDDING, RERANKER, describe_kind, load_model_info
from semantik.inference.tokenization import Batch, ModelTokenizer


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


class _OnnxModel:
    """One exported model folder loaded into an ONNX Runtime session; one instance serves every thread."""

    kind = EMBEDDING

    def __init__(
        self,
        model_dir: Path,
        *,
        threads: int | None = None,
        max_batch: int = 32,
        max_tokens: int = 8192,
        spinning: bool = False,
    ) -> None:
        self.info = load_model_info(model_dir)
        if self.info.kind != self.kind:
            raise ModelNotFound(
                f"{model_dir} holds {describe_kind(self.info.kind)}, not {describe_kind(self.kind)}"
            )
        self.name = self.info.name
        # The width of the graph's output rows: the vector size, or 1 (one logit) for a reranker.
        self.dimension = self.info.dimension
        self.max_length = self.info.max_length
        self.tokenizer = ModelTokenizer(model_dir, self.info)
        self.max_batch = max_batch
        self.max_tokens = max_tokens
        if not self.info.onnx_path.is_file():
            raise ModelNotFound(
                f"{self.info.onnx_path} is missing; export the model with `python scripts/export_model.py`"
            )
        self._session = create_session(self.info.onnx_path, threads=threads, spinning=spinning)

    def ping(self) -> None:
        """The session was built in __init__, so an instance that exists can run."""

    def _run(self, batch: Batch) -> np.ndarray:
        try:
            (rows,) = self._session.run([self.info.output], batch.feeds(self.info.inputs))
        except Exception as exc:  # onnxruntime raises its own untyped Fail/InvalidArgument classes
            raise InferenceError(f"ONNX Runtime failed to run '{self.name}': {exc}") from exc
        return np.asarray(rows, dtype=np.float32)


class OnnxEmbedder(_OnnxModel):
    """Embeds with `<model_dir>/1/model.onnx` on the CPU."""

    kind = EMBEDDING

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return run_in_batches(
            self.tokenizer,
            texts,
            self._run,
            width=self.dimension,
            max_batch=self.max_batch,
            max_tokens=self.max_tokens,
        )


class OnnxReranker(_OnnxModel):
    """Scores (query, passage) pairs with an exported cross-encoder on the CPU."""

    kind = RERANKER

    @property
    def activation(self) -> str:
        return self.info.activation or "identity"

    def rerank(self, query: str, passages: Sequence[str]) -> list[float]:
        return scores_from_logits(self.logits(rerank_pairs(query, passages)), self.activation)

    def logits(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """The graph's raw [n, 1] output for (query, passage) pairs, before the activation."""
        return run_in_batches(
            self.tokenizer,
            pairs,
            self._run,
            width=self.dimension,
            max_batch=self.max_batch,
            max_tokens=self.max_tokens,
        )

"""In-process ONNX Runtime embedder: the fallback where no Triton runs, same file and tokenizer as Triton."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from semantik.inference.base import InferenceError, ModelNotFound, embed_in_batches
from semantik.inference.models import load_model_info
from semantik.inference.tokenization import ModelTokenizer


class OnnxEmbedder:
    """Embeds with `<model_dir>/1/model.onnx` on the CPU; one instance serves every thread."""

    def __init__(
        self,
        model_dir: Path,
        *,
        threads: int | None = None,
        max_batch: int = 32,
        max_tokens: int = 8192,
    ) -> None:
        import onnxruntime as ort

        self.info = load_model_info(model_dir)
        self.name = self.info.name
        self.dimension = self.info.dimension
        self.max_length = self.info.max_length
        self.tokenizer = ModelTokenizer(model_dir, self.info)
        self.max_batch = max_batch
        self.max_tokens = max_tokens

        if not self.info.onnx_path.is_file():
            raise ModelNotFound(
                f"{self.info.onnx_path} is missing; export the model with `python scripts/export_model.py`"
            )
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(self.info.onnx_path), options, providers=["CPUExecutionProvider"]
        )

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return embed_in_batches(
            self.tokenizer,
            texts,
            self._run,
            dimension=self.dimension,
            max_batch=self.max_batch,
            max_tokens=self.max_tokens,
        )

    def ping(self) -> None:
        """The session was built in __init__, so an instance that exists can embed."""

    def _run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        try:
            (rows,) = self._session.run(
                ["embedding"], {"input_ids": input_ids, "attention_mask": attention_mask}
            )
        except Exception as exc:  # onnxruntime raises its own untyped Fail/InvalidArgument classes
            raise InferenceError(f"ONNX Runtime failed to embed with '{self.name}': {exc}") from exc
        return np.asarray(rows, dtype=np.float32)

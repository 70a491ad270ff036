"""What every embedder offers (Triton over gRPC, in-process ONNX Runtime) and the errors they raise."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from semantik.inference.tokenization import ModelTokenizer


class InferenceError(Exception):
    """Embedding failed for a reason the caller cannot fix by waiting (bad input, broken model)."""


class InferenceUnavailable(InferenceError):
    """The inference service cannot be reached or is not ready; retrying later may succeed."""


class ModelNotFound(InferenceError):
    """The model is not exported, not in the repository, or not served."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text, in input order."""

    name: str
    dimension: int
    max_length: int
    tokenizer: ModelTokenizer

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def ping(self) -> None: ...


RunBatch = Callable[[np.ndarray, np.ndarray], np.ndarray]


def embed_in_batches(
    tokenizer: ModelTokenizer,
    texts: Sequence[str],
    run: RunBatch,
    *,
    dimension: int,
    max_batch: int,
    max_tokens: int,
) -> np.ndarray:
    """Tokenize, bucket by length, run each padded bucket and put the rows back in input order."""
    vectors = np.empty((len(texts), dimension), dtype=np.float32)
    for batch in tokenizer.batches(texts, max_batch=max_batch, max_tokens=max_tokens):
        rows = run(batch.input_ids, batch.attention_mask)
        if rows.shape != (len(batch.indices), dimension):
            raise InferenceError(
                f"model returned shape {rows.shape} for a batch of {len(batch.indices)} texts; "
                f"expected ({len(batch.indices)}, {dimension})"
            )
        vectors[batch.indices] = rows
    return vectors

"""What embedders and rerankers offer (Triton over gRPC, in-process ONNX Runtime) and the errors they raise.

The shared implementation (buckets, prefixes, scores, metrics) is in `clients.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from semantik.inference.models import ModelInfo
    from semantik.inference.tokenization import ModelTokenizer


class InferenceError(Exception):
    """Inference failed for a reason the caller cannot fix by waiting (bad input, broken model)."""


class InferenceUnavailable(InferenceError):
    """The inference service cannot be reached or is not ready; retrying later may succeed."""


class ModelNotFound(InferenceError):
    """The model is not exported, not in the repository, or not served."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text, in input order.

    Index passages with `embed_documents` and search with `embed_queries`: models trained with
    prompts (e5: "query: " / "passage: ", recorded in semantik.json) need the right one on each
    side. `embed` takes the texts as they are.
    """

    name: str
    dimension: int
    max_length: int
    info: ModelInfo
    tokenizer: ModelTokenizer

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def ping(self) -> None: ...


@runtime_checkable
class AsyncEmbedder(Protocol):
    """Embedder for asyncio callers: the same vectors, awaited."""

    name: str
    dimension: int
    max_length: int
    info: ModelInfo
    tokenizer: ModelTokenizer

    async def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    async def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    async def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    async def ping(self) -> None: ...


@runtime_checkable
class Reranker(Protocol):
    """Scores how well each passage answers a query with a cross-encoder, one score per passage."""

    name: str
    max_length: int
    info: ModelInfo
    tokenizer: ModelTokenizer

    @property
    def activation(self) -> str:
        """What the model's authors apply to the logit: "sigmoid" (scores in 0..1) or "identity" (logits)."""
        ...

    def rerank(self, query: str, passages: Sequence[str]) -> list[float]: ...

    def ping(self) -> None: ...


@runtime_checkable
class AsyncReranker(Protocol):
    """Reranker for asyncio callers: the same scores, awaited."""

    name: str
    max_length: int
    info: ModelInfo
    tokenizer: ModelTokenizer

    @property
    def activation(self) -> str: ...

    async def rerank(self, query: str, passages: Sequence[str]) -> list[float]: ...

    async def ping(self) -> None: ...

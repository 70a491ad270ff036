"""What embedders and rerankers offer (Triton over gRPC, in-process ONNX Runtime) and the errors they raise.

The batching is shared: each client only says how to run one padded bucket (`RunBatch`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from semantik.inference.tokenization import Batch, ModelInput, ModelTokenizer


class InferenceError(Exception):
    """Inference failed for a reason the caller cannot fix by waiting (bad input, broken model)."""


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


@runtime_checkable
class Reranker(Protocol):
    """Scores how well each passage answers a query with a cross-encoder, one score per passage."""

    name: str
    max_length: int
    tokenizer: ModelTokenizer

    @property
    def activation(self) -> str:
        """What the model's authors apply to the logit: "sigmoid" (scores in 0..1) or "identity" (logits)."""
        ...

    def rerank(self, query: str, passages: Sequence[str]) -> list[float]: ...

    def ping(self) -> None: ...


RunBatch = Callable[["Batch"], np.ndarray]
AsyncRunBatch = Callable[["Batch"], Awaitable[np.ndarray]]

ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "identity": lambda logits: logits,
    "sigmoid": lambda logits: 1.0 / (1.0 + np.exp(-logits)),
    "tanh": np.tanh,
}


def run_in_batches(
    tokenizer: ModelTokenizer,
    inputs: Sequence[ModelInput],
    run: RunBatch,
    *,
    width: int,
    max_batch: int,
    max_tokens: int,
) -> np.ndarray:
    """Tokenize, bucket by length, run each padded bucket and put the rows back in input order."""
    rows = np.empty((len(inputs), width), dtype=np.float32)
    for batch in tokenizer.batches(inputs, max_batch=max_batch, max_tokens=max_tokens):
        rows[batch.indices] = _checked(run(batch), batch, width)
    return rows


async def run_in_batches_async(
    tokenizer: ModelTokenizer,
    inputs: Sequence[ModelInput],
    run: AsyncRunBatch,
    *,
    width: int,
    max_batch: int,
    max_tokens: int,
    max_in_flight: int,
) -> np.ndarray:
    """run_in_batches with up to `max_in_flight` buckets awaiting their answer at once."""
    if len(inputs) > max_batch:
        # Tokenizing thousands of passages takes a noticeable while: not on the event loop.
        batches = await asyncio.to_thread(lambda: list(tokenizer.batches(inputs, max_batch, max_tokens)))
    else:
        batches = list(tokenizer.batches(inputs, max_batch, max_tokens))
    rows = np.empty((len(inputs), width), dtype=np.float32)
    slots = asyncio.Semaphore(max(1, max_in_flight))

    async def one(batch: Batch) -> None:
        async with slots:
            rows[batch.indices] = _checked(await run(batch), batch, width)

    tasks = [asyncio.ensure_future(one(batch)) for batch in batches]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        # The first failure is the answer; the other buckets must not keep running (or leak) behind it.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return rows


def embed_in_batches(
    tokenizer: ModelTokenizer,
    texts: Sequence[str],
    run: RunBatch,
    *,
    dimension: int,
    max_batch: int,
    max_tokens: int,
) -> np.ndarray:
    """Vectors for `texts`, one row each, in input order."""
    return run_in_batches(tokenizer, texts, run, width=dimension, max_batch=max_batch, max_tokens=max_tokens)


def rerank_pairs(query: str, passages: Sequence[str]) -> list[tuple[str, str]]:
    return [(query, passage) for passage in passages]


def scores_from_logits(logits: np.ndarray, activation: str) -> list[float]:
    """One score per row of [n, 1] logits, with the model's own activation applied."""
    try:
        apply = ACTIVATIONS[activation]
    except KeyError:
        raise InferenceError(
            f"unknown reranker activation {activation!r}; expected one of {', '.join(ACTIVATIONS)}"
        ) from None
    return [float(score) for score in apply(logits.astype(np.float64)[:, 0])]


def _checked(rows: np.ndarray, batch: Batch, width: int) -> np.ndarray:
    if rows.shape != (len(batch.indices), width):
        raise InferenceError(
            f"model returned shape {rows.shape} for a batch of {len(batch.indices)} inputs; "
            f"expected ({len(batch.indices)}, {width})"
        )
    return rows

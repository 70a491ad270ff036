"""What every embedder and reranker does alike, whatever runs the graph (Triton or ONNX Runtime,
blocking or asyncio): load the export, bucket inputs by length, add the model's prefixes, turn
logits into scores, and measure each request.

A client class combines one of the API classes here (`Embedding`, `Reranking` and their `Async`
twins) with a transport that only says how to run one padded bucket (`_run`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import numpy as np

from semantik.inference import metrics
from semantik.inference.base import InferenceError, InferenceUnavailable, ModelNotFound
from semantik.inference.models import EMBEDDING, RERANKER, ModelInfo, describe_kind, load_model_info
from semantik.inference.tokenization import Batch, ModelInput, ModelTokenizer

RunBatch = Callable[[Batch], np.ndarray]
AsyncRunBatch = Callable[[Batch], Awaitable[np.ndarray]]

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


def with_prefix(prefix: str | None, texts: Sequence[str]) -> list[str]:
    """The texts as the model was trained to read them, e.g. "query: ..." for e5 models."""
    return [prefix + text for text in texts] if prefix else list(texts)


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


def _error_reason(exc: InferenceError) -> str:
    if isinstance(exc, InferenceUnavailable):
        return "unavailable"
    if isinstance(exc, ModelNotFound):
        return "not_found"
    return "error"


class ModelClient:
    """One exported model as a client sees it: metadata, tokenizer, bucket limits, metric labels."""

    kind = EMBEDDING
    # "triton" or "onnx": which transport runs the graph, for the metrics.
    backend = ""

    info: ModelInfo
    name: str
    dimension: int
    max_length: int
    tokenizer: ModelTokenizer
    max_batch: int
    max_tokens: int
    max_in_flight: int

    def _load(
        self,
        model_dir: Path,
        *,
        name: str | None = None,
        max_batch: int,
        max_tokens: int,
        max_in_flight: int,
    ) -> None:
        """Read `<model_dir>`'s semantik.json and tokenizer; refuse a folder holding the other kind."""
        self.info = load_model_info(model_dir)
        if self.info.kind != self.kind:
            raise ModelNotFound(
                f"{model_dir} holds {describe_kind(self.info.kind)}, not {describe_kind(self.kind)}"
            )
        self.name = name or self.info.name
        # The width of the graph's output rows: the vector size, or 1 (one logit) for a reranker.
        self.dimension = self.info.dimension
        self.max_length = self.info.max_length
        self.tokenizer = ModelTokenizer(model_dir, self.info)
        self.max_batch = max_batch
        self.max_tokens = max_tokens
        self.max_in_flight = max_in_flight

    def _observe(self, batch: Batch, started: float, error: InferenceError | None) -> None:
        labels = (self.name, self.kind, self.backend)
        if error is not None:
            metrics.ERRORS.labels(*labels, _error_reason(error)).inc()
            return
        metrics.REQUEST_SECONDS.labels(*labels).observe(time.perf_counter() - started)
        metrics.BATCH_SIZE.labels(*labels).observe(len(batch.indices))


class BlockingModel(ModelClient):
    """A client whose calls block: one instance is shared by every thread of a worker."""

    def _run(self, batch: Batch) -> np.ndarray:
        raise NotImplementedError

    def _measured(self, batch: Batch) -> np.ndarray:
        started = time.perf_counter()
        try:
            rows = self._run(batch)
        except InferenceError as exc:
            self._observe(batch, started, exc)
            raise
        self._observe(batch, started, None)
        return rows

    def _in_batches(self, inputs: Sequence[ModelInput]) -> np.ndarray:
        return run_in_batches(
            self.tokenizer,
            inputs,
            self._measured,
            width=self.dimension,
            max_batch=self.max_batch,
            max_tokens=self.max_tokens,
        )


class AsyncModel(ModelClient):
    """A client for asyncio callers, with up to `max_in_flight` buckets of one call awaiting at once."""

    async def _run(self, batch: Batch) -> np.ndarray:
        raise NotImplementedError

    async def _measured(self, batch: Batch) -> np.ndarray:
        started = time.perf_counter()
        try:
            rows = await self._run(batch)
        except InferenceError as exc:
            self._observe(batch, started, exc)
            raise
        self._observe(batch, started, None)
        return rows

    async def _in_batches(self, inputs: Sequence[ModelInput]) -> np.ndarray:
        return await run_in_batches_async(
            self.tokenizer,
            inputs,
            self._measured,
            width=self.dimension,
            max_batch=self.max_batch,
            max_tokens=self.max_tokens,
            max_in_flight=self.max_in_flight,
        )


class Embedding(BlockingModel):
    """`embed`, `embed_documents`, `embed_queries`: L2-normalised float32 rows in input order."""

    kind = EMBEDDING

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of the texts exactly as given (no prefix)."""
        return self._in_batches(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of passages to be searched, with the model's document prefix (e5: "passage: ")."""
        return self.embed(with_prefix(self.info.document_prefix, texts))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of search queries, with the model's query prefix (e5: "query: ")."""
        return self.embed(with_prefix(self.info.query_prefix, texts))


class AsyncEmbedding(AsyncModel):
    """The asyncio twin of Embedding: the same vectors."""

    kind = EMBEDDING

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        return await self._in_batches(texts)

    async def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return await self.embed(with_prefix(self.info.document_prefix, texts))

    async def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return await self.embed(with_prefix(self.info.query_prefix, texts))


class Reranking(BlockingModel):
    """`rerank(query, passages)`: one score per passage, as the model's CrossEncoder.predict gives it."""

    kind = RERANKER

    @property
    def activation(self) -> str:
        return self.info.activation or "identity"

    def rerank(self, query: str, passages: Sequence[str]) -> list[float]:
        return scores_from_logits(self.logits(rerank_pairs(query, passages)), self.activation)

    def logits(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """The graph's raw [n, 1] output for (query, passage) pairs, before the activation."""
        return self._in_batches(pairs)


class AsyncReranking(AsyncModel):
    """The asyncio twin of Reranking: the same scores."""

    kind = RERANKER

    @property
    def activation(self) -> str:
        return self.info.activation or "identity"

    async def rerank(self, query: str, passages: Sequence[str]) -> list[float]:
        return scores_from_logits(await self.logits(rerank_pairs(query, passages)), self.activation)

    async def logits(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        return await self._in_batches(pairs)

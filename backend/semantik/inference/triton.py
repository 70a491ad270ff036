"""Embed and rerank through Triton over gRPC: tokenize here, send padded INT64 buckets, retry when it is down.

The blocking clients (`TritonEmbedder`, `TritonReranker`) serve the Celery workers' threads; the
asyncio ones (`AsyncTritonEmbedder`, `AsyncTritonReranker`, tritonclient.grpc.aio) serve async
callers and keep several buckets in flight at once. All four share the tokenizer, the buckets,
the retry policy and the error translation.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.grpc.aio as grpcclient_aio
from tritonclient.utils import InferenceServerException

from semantik.inference.base import (
    InferenceError,
    InferenceUnavailable,
    ModelNotFound,
    rerank_pairs,
    run_in_batches,
    run_in_batches_async,
    scores_from_logits,
)
from semantik.inference.models import EMBEDDING, RERANKER, describe_kind, load_model_info
from semantik.inference.tokenization import Batch, ModelTokenizer

log = logging.getLogger(__name__)

T = TypeVar("T")

# A batch of 64 texts x 512 tokens is 0.5 MB of INT64; embeddings of large models are bigger.
# gRPC's default 4 MB receive limit is what breaks first, so both directions get 256 MB.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
RETRYABLE = {"StatusCode.UNAVAILABLE", "StatusCode.DEADLINE_EXCEEDED"}
CHANNEL_ARGS = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    # gRPC backs off up to 2 minutes between reconnects by default; a restarted
    # Triton should be used again within seconds.
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2_000),
]


class _TritonModel:
    """What the four clients share: the model's metadata and tokenizer, requests, retries, errors."""

    kind = EMBEDDING

    def __init__(
        self,
        url: str,
        model_name: str,
        model_dir: Path,
        timeout_s: float = 30.0,
        retries: int = 3,
        max_batch: int = 32,
        max_tokens: int = 8192,
        backoff_s: float = 0.1,
        max_in_flight: int = 4,
    ) -> None:
        """`url` is Triton's gRPC "host:port"; `model_dir` holds the model's tokenizer.json, semantik.json.

        `max_in_flight` bounds the buckets of one call awaiting Triton at once (asyncio clients only).
        """
        self.url = url
        self.name = model_name
        self.info = load_model_info(model_dir)
        if self.info.kind != self.kind:
            raise ModelNotFound(
                f"{model_dir} holds {describe_kind(self.info.kind)}, not {describe_kind(self.kind)}"
            )
        # The width of the graph's output rows: the vector size, or 1 (one logit) for a reranker.
        self.dimension = self.info.dimension
        self.max_length = self.info.max_length
        self.tokenizer = ModelTokenizer(model_dir, self.info)
        # Triton rejects a request with more rows than the model's max_batch_size.
        self.max_batch = min(max_batch, self.info.max_batch_size)
        self.max_tokens = max_tokens
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.max_in_flight = max_in_flight
        self._connect()

    def _connect(self) -> None:
        """Set up the gRPC client (the blocking and asyncio variants differ here)."""

    def _request(
        self, batch: Batch
    ) -> tuple[list[grpcclient.InferInput], list[grpcclient.InferRequestedOutput]]:
        inputs = []
        for name, array in batch.feeds(self.info.inputs).items():
            tensor = grpcclient.InferInput(name, list(array.shape), "INT64")
            tensor.set_data_from_numpy(array)
            inputs.append(tensor)
        return inputs, [grpcclient.InferRequestedOutput(self.info.output)]

    def _rows(self, result: Any) -> np.ndarray:
        rows = result.as_numpy(self.info.output)
        if rows is None:
            raise InferenceError(
                f"Triton at {self.url} returned no '{self.info.output}' output for '{self.name}'"
            )
        return np.asarray(rows, dtype=np.float32)

    def _retry_delay(self, exc: InferenceServerException, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None when this error is final."""
        if str(exc.status()) in RETRYABLE and attempt < self.retries:
            delay = self.backoff_s * 2**attempt
            log.warning("Triton at %s: %s; retrying in %.2f s", self.url, exc.message(), delay)
            return delay
        return None

    def _translate(self, exc: InferenceServerException) -> InferenceError:
        status = str(exc.status())
        message = exc.message() or str(exc)
        if status == "StatusCode.UNAVAILABLE":
            return InferenceUnavailable(
                f"Triton at {self.url} is not reachable: {message} (after {self.retries + 1} attempts)"
            )
        if status == "StatusCode.DEADLINE_EXCEEDED":
            return InferenceUnavailable(
                f"Triton at {self.url} did not answer within {self.timeout_s:g} s: {message} "
                f"(after {self.retries + 1} attempts)"
            )
        if status == "StatusCode.NOT_FOUND" or "unknown model" in message:
            return ModelNotFound(f"Triton at {self.url} does not serve model '{self.name}': {message}")
        return InferenceError(f"Triton at {self.url} failed to run '{self.name}': {message}")


class _BlockingTriton(_TritonModel):
    """One gRPC channel shared by every thread: the client is thread-safe for unary calls."""

    def _connect(self) -> None:
        self._client = grpcclient.InferenceServerClient(self.url, channel_args=CHANNEL_ARGS)

    def ping(self) -> None:
        """Raise InferenceUnavailable unless the server is live and the model is ready."""
        timeout = min(self.timeout_s, 5.0)
        if not self._call(lambda: self._client.is_server_live(client_timeout=timeout)):
            raise InferenceUnavailable(f"Triton at {self.url} is not live")
        if not self._call(lambda: self._client.is_model_ready(self.name, client_timeout=timeout)):
            raise InferenceUnavailable(f"Triton at {self.url} is up but model '{self.name}' is not ready")

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _infer(self, batch: Batch) -> np.ndarray:
        inputs, outputs = self._request(batch)
        result = self._call(
            lambda: self._client.infer(self.name, inputs, outputs=outputs, client_timeout=self.timeout_s)
        )
        return self._rows(result)

    def _call(self, request: Callable[[], T]) -> T:
        """Run one RPC, retrying with exponential backoff while Triton is unreachable or slow."""
        for attempt in range(self.retries + 1):
            try:
                return request()
            except InferenceServerException as exc:
                delay = self._retry_delay(exc, attempt)
                if delay is None:
                    raise self._translate(exc) from exc
                time.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")


class TritonEmbedder(_BlockingTriton):
    """Embedder backed by a Triton model; one instance is shared by all threads of a worker."""

    kind = EMBEDDING

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return run_in_batches(
            self.tokenizer,
            texts,
            self._infer,
            width=self.dimension,
            max_batch=self.max_batch,
            max_tokens=self.max_tokens,
        )


class TritonReranker(_BlockingTriton):
    """Reranker backed by a Triton cross-encoder; one instance is shared by all threads."""

    kind = RERANKER

    @property
    def activation(self) -> str:
        return self.info.activation or "identity"

    def rerank(self, query: str, passages: Sequence[str]) -> list[float]:
        """One score per passage, in passage order, as the model's CrossEncoder.predict gives it."""
        return scores_from_logits(self.logits(rerank_pairs(query, passages)), self.activation)

    def logits(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """The graph's raw [n, 1] output for (query, passage) pairs, before the activation."""
        return run_in_batches(
            self.tokenizer,
            pairs,
            self._infer,
            width=self.dimension,
            max_batch=self.max_batch,
            max_tokens=self.max_tokens,
        )


class _AsyncTriton(_TritonModel):
    """tritonclient.grpc.aio: one channel per instance, bound to the event loop that first uses it."""

    _client: grpcclient_aio.InferenceServerClient | None
    _loop: asyncio.AbstractEventLoop | None

    def _connect(self) -> None:
        # Made on first use, inside the event loop that will use it.
        self._client = None
        self._loop = None

    @property
    def client(self) -> grpcclient_aio.InferenceServerClient:
        # grpc.aio channels belong to the loop they were made in; an instance cannot hop loops.
        loop = asyncio.get_running_loop()
        if self._client is None:
            self._client = grpcclient_aio.InferenceServerClient(self.url, channel_args=CHANNEL_ARGS)
            self._loop = loop
        elif self._loop is not loop:
            raise RuntimeError(f"{type(self).__name__} is bound to another event loop; make one per loop")
        return self._client

    async def ping(self) -> None:
        """Raise InferenceUnavailable unless the server is live and the model is ready."""
        timeout = min(self.timeout_s, 5.0)
        if not await self._call(lambda: self.client.is_server_live(client_timeout=timeout)):
            raise InferenceUnavailable(f"Triton at {self.url} is not live")
        if not await self._call(lambda: self.client.is_model_ready(self.name, client_timeout=timeout)):
            raise InferenceUnavailable(f"Triton at {self.url} is up but model '{self.name}' is not ready")

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def _infer(self, batch: Batch) -> np.ndarray:
        inputs, outputs = self._request(batch)
        result = await self._call(
            lambda: self.client.infer(self.name, inputs, outputs=outputs, client_timeout=self.timeout_s)
        )
        return self._rows(result)

    async def _call(self, request: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(self.retries + 1):
            try:
                return await request()
            except InferenceServerException as exc:
                delay = self._retry_delay(exc, attempt)
                if delay is None:
                    raise self._translate(exc) from exc
                await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")


class AsyncTritonEmbedder(_AsyncTriton):
    """`await embed(texts)`: the same vectors as TritonEmbedder, with up to max_in_flight buckets at once."""

    kind = EMBEDDING

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        return await run_in_batches_async(
            self.tokenizer,
            texts,
            self._infer,
            width=self.dimension,
            max_batch=self.max_batch,
            max_tokens=self.max_tokens,
            max_in_flight=self.max_in_flight,
        )


class AsyncTritonReranker(_AsyncTriton):
    """`await rerank(query, passages)`: the same scores as TritonReranker."""

    kind = RERANKER

    @property
    def activation(self) -> str:
        return self.info.activation or "identity"

    async def rerank(self, query: str, passages: Sequence[str]) -> list[float]:
        logits = await run_in_batches_async(
            self.tokenizer,
            rerank_pairs(query, passages),
            self._infer,
            width=self.dimension,
            max_batch=self.max_batch,
            max_tokens=self.max_tokens,
            max_in_flight=self.max_in_flight,
        )
        return scores_from_logits(logits, self.activation)

"""Embed and rerank through Triton over gRPC: tokenize here, send padded INT64 buckets, retry when it is down.

The blocking clients (`TritonEmbedder`, `TritonReranker`) serve the Celery workers' threads; the
asyncio ones (`AsyncTritonEmbedder`, `AsyncTritonReranker`, tritonclient.grpc.aio) serve async
callers and keep several buckets in flight at once. All four share the tokenizer, the buckets,
the retry policy, the error translation and the check that Triton serves what semantik.json says.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.grpc.aio as grpcclient_aio
from tritonclient.utils import InferenceServerException

from semantik.inference import metrics
from semantik.inference.base import InferenceError, InferenceUnavailable, ModelNotFound
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


class _TritonModel(ModelClient):
    """What the four clients share: requests, retries, errors, Triton's view of the model."""

    backend = "triton"

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
        self._load(
            model_dir,
            name=model_name,
            max_batch=max_batch,
            max_tokens=max_tokens,
            max_in_flight=max_in_flight,
        )
        # Triton rejects a request with more rows than the model's max_batch_size.
        self.max_batch = min(max_batch, self.info.max_batch_size)
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self._connect()

    def _connect(self) -> None:
        """Set up the gRPC client (the blocking and asyncio variants differ here)."""

    @property
    def _ping_timeout(self) -> float:
        return min(self.timeout_s, 5.0)

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

    def _check_metadata(self, metadata: dict[str, Any]) -> dict[str, Any]:
        """Refuse a model Triton serves with other inputs or another output width than semantik.json says.

        That happens when Triton and Semantik read different copies of the model repository; the
        vectors would then not be the ones the collection was built with.
        """
        inputs = {tensor["name"] for tensor in metadata.get("inputs", [])}
        outputs = {tensor["name"]: tensor.get("shape", []) for tensor in metadata.get("outputs", [])}
        where = f"{self.info.path}/semantik.json"
        missing = [name for name in self.info.inputs if name not in inputs]
        if missing:
            raise InferenceError(
                f"Triton at {self.url} serves '{self.name}' without input {', '.join(missing)} that {where} "
                f"names (Triton's inputs: {', '.join(sorted(inputs)) or 'none'}); Triton and Semantik read "
                "different model repositories"
            )
        shape = outputs.get(self.info.output)
        if shape is None:
            raise InferenceError(
                f"Triton at {self.url} serves '{self.name}' without the '{self.info.output}' output that "
                f"{where} names; Triton and Semantik read different model repositories"
            )
        width = int(shape[-1]) if shape else -1
        if width not in (-1, self.dimension):
            raise InferenceError(
                f"Triton at {self.url} serves '{self.name}' with '{self.info.output}' {width} wide, "
                f"but {where} says {self.dimension}; Triton and Semantik read different model repositories"
            )
        return metadata

    def _retry_delay(self, exc: InferenceServerException, attempt: int) -> float | None:
        """Seconds to wait before the next attempt, or None when this error is final."""
        if str(exc.status()) in RETRYABLE and attempt < self.retries:
            delay = self.backoff_s * 2**attempt
            log.warning("Triton at %s: %s; retrying in %.2f s", self.url, exc.message(), delay)
            metrics.RETRIES.labels(self.name, self.kind, self.backend).inc()
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


class _BlockingTriton(_TritonModel, BlockingModel):
    """One gRPC channel shared by every thread: the client is thread-safe for unary calls."""

    def _connect(self) -> None:
        self._client = grpcclient.InferenceServerClient(self.url, channel_args=CHANNEL_ARGS)

    def ping(self) -> None:
        """Raise unless the server is live, the model ready, and served as semantik.json describes it."""
        timeout = self._ping_timeout
        if not self._call(lambda: self._client.is_server_live(client_timeout=timeout)):
            raise InferenceUnavailable(f"Triton at {self.url} is not live")
        if not self._call(lambda: self._client.is_model_ready(self.name, client_timeout=timeout)):
            raise InferenceUnavailable(f"Triton at {self.url} is up but model '{self.name}' is not ready")
        self.metadata()

    def metadata(self) -> dict[str, Any]:
        """Triton's metadata of the model (versions, inputs, outputs), checked against semantik.json."""
        timeout = self._ping_timeout
        metadata = self._call(
            lambda: self._client.get_model_metadata(self.name, as_json=True, client_timeout=timeout)
        )
        return self._check_metadata(dict(metadata))

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

    def _run(self, batch: Batch) -> np.ndarray:
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


class _AsyncTriton(_TritonModel, AsyncModel):
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
        """Raise unless the server is live, the model ready, and served as semantik.json describes it."""
        timeout = self._ping_timeout
        if not await self._call(lambda: self.client.is_server_live(client_timeout=timeout)):
            raise InferenceUnavailable(f"Triton at {self.url} is not live")
        if not await self._call(lambda: self.client.is_model_ready(self.name, client_timeout=timeout)):
            raise InferenceUnavailable(f"Triton at {self.url} is up but model '{self.name}' is not ready")
        await self.metadata()

    async def metadata(self) -> dict[str, Any]:
        """Triton's metadata of the model, checked against semantik.json."""
        timeout = self._ping_timeout
        metadata = await self._call(
            lambda: self.client.get_model_metadata(self.name, as_json=True, client_timeout=timeout)
        )
        return self._check_metadata(dict(metadata))

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

    async def _run(self, batch: Batch) -> np.ndarray:
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


class TritonEmbedder(_BlockingTriton, Embedding):
    """Embedder backed by a Triton model; one instance is shared by all threads of a worker."""


class TritonReranker(_BlockingTriton, Reranking):
    """Reranker backed by a Triton cross-encoder; one instance is shared by all threads."""


class AsyncTritonEmbedder(_AsyncTriton, AsyncEmbedding):
    """`await embed(texts)`: the same vectors as TritonEmbedder, with up to max_in_flight buckets at once."""


class AsyncTritonReranker(_AsyncTriton, AsyncReranking):
    """`await rerank(query, passages)`: the same scores as TritonReranker."""


def served_models(url: str, timeout_s: float) -> dict[str, tuple[str, str]]:
    """What Triton's repository index says of every model it knows: name -> (state, reason).

    One RPC bounded by `timeout_s`; raises InferenceUnavailable when Triton does not answer.
    """
    client = grpcclient.InferenceServerClient(url, channel_args=CHANNEL_ARGS)
    try:
        index = client.get_model_repository_index(as_json=True, client_timeout=timeout_s)
    except InferenceServerException as exc:
        raise InferenceUnavailable(
            f"Triton at {url} did not list its models: {exc.message() or exc}"
        ) from exc
    finally:
        client.close()
    states: dict[str, tuple[str, str]] = {}
    for entry in index.get("models", []):
        name, state = entry.get("name", ""), entry.get("state", "UNKNOWN")
        # A model with several versions is ready when one of them is.
        if states.get(name, ("",))[0] != "READY":
            states[name] = (state, entry.get("reason", ""))
    return states

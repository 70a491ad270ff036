"""Embed through NVIDIA Triton over gRPC: tokenize here, send padded INT64 buckets, retry when it is down."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import numpy as np
import tritonclient.grpc as grpcclient
from tritonclient.utils import InferenceServerException

from semantik.inference.base import (
    InferenceError,
    InferenceUnavailable,
    ModelNotFound,
    embed_in_batches,
)
from semantik.inference.models import load_model_info
from semantik.inference.tokenization import ModelTokenizer

log = logging.getLogger(__name__)

T = TypeVar("T")

# A batch of 64 texts x 512 tokens is 0.5 MB of INT64; embeddings of large models are bigger.
# gRPC's default 4 MB receive limit is what breaks first, so both directions get 256 MB.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
RETRYABLE = {"StatusCode.UNAVAILABLE", "StatusCode.DEADLINE_EXCEEDED"}


class TritonEmbedder:
    """Embedder backed by a Triton model; one instance is shared by all threads of a worker."""

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
    ) -> None:
        """`url` is Triton's gRPC "host:port"; `model_dir` holds the model's tokenizer.json, semantik.json."""
        self.url = url
        self.name = model_name
        self.info = load_model_info(model_dir)
        self.dimension = self.info.dimension
        self.max_length = self.info.max_length
        self.tokenizer = ModelTokenizer(model_dir, self.info)
        # Triton rejects a request with more rows than the model's max_batch_size.
        self.max_batch = min(max_batch, self.info.max_batch_size)
        self.max_tokens = max_tokens
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        # The gRPC client is thread-safe for unary calls (only streaming is not), so one channel serves all.
        self._client = grpcclient.InferenceServerClient(
            url,
            channel_args=[
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.keepalive_time_ms", 30_000),
                ("grpc.keepalive_timeout_ms", 10_000),
                # gRPC backs off up to 2 minutes between reconnects by default; a restarted
                # Triton should be used again within seconds.
                ("grpc.initial_reconnect_backoff_ms", 200),
                ("grpc.max_reconnect_backoff_ms", 2_000),
            ],
        )

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return embed_in_batches(
            self.tokenizer,
            texts,
            self._infer,
            dimension=self.dimension,
            max_batch=self.max_batch,
            max_tokens=self.max_tokens,
        )

    def ping(self) -> None:
        """Raise InferenceUnavailable unless the server is live and the model is ready."""
        timeout = min(self.timeout_s, 5.0)
        if not self._call(lambda: self._client.is_server_live(client_timeout=timeout)):
            raise InferenceUnavailable(f"Triton at {self.url} is not live")
        if not self._call(lambda: self._client.is_model_ready(self.name, client_timeout=timeout)):
            raise InferenceUnavailable(f"Triton at {self.url} is up but model '{self.name}' is not ready")

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> TritonEmbedder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _infer(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        inputs = [
            grpcclient.InferInput("input_ids", list(input_ids.shape), "INT64"),
            grpcclient.InferInput("attention_mask", list(attention_mask.shape), "INT64"),
        ]
        inputs[0].set_data_from_numpy(input_ids)
        inputs[1].set_data_from_numpy(attention_mask)
        outputs = [grpcclient.InferRequestedOutput("embedding")]
        result = self._call(
            lambda: self._client.infer(self.name, inputs, outputs=outputs, client_timeout=self.timeout_s)
        )
        rows = result.as_numpy("embedding")
        if rows is None:
            raise InferenceError(f"Triton at {self.url} returned no 'embedding' output for '{self.name}'")
        return rows.astype(np.float32, copy=False)

    def _call(self, request: Callable[[], T]) -> T:
        """Run one RPC, retrying with exponential backoff while Triton is unreachable or slow."""
        for attempt in range(self.retries + 1):
            try:
                return request()
            except InferenceServerException as exc:
                status = str(exc.status())
                if status in RETRYABLE and attempt < self.retries:
                    delay = self.backoff_s * 2**attempt
                    log.warning("Triton at %s: %s; retrying in %.2f s", self.url, exc.message(), delay)
                    time.sleep(delay)
                    continue
                raise self._translate(exc, status) from exc
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _translate(self, exc: InferenceServerException, status: str) -> InferenceError:
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
        return InferenceError(f"Triton at {self.url} failed to embed with '{self.name}': {message}")

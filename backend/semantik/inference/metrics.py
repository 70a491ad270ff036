"""What the embedding and reranking clients measure, per model and kind, for Prometheus (`GET /metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

LABELS = ("model", "kind", "backend")

REQUEST_SECONDS = Histogram(
    "semantik_inference_request_seconds",
    "Client-side time of one inference request (one padded bucket), retries included.",
    LABELS,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
BATCH_SIZE = Histogram(
    "semantik_inference_batch_size",
    "Inputs (texts or query-passage pairs) per inference request.",
    LABELS,
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
ERRORS = Counter(
    "semantik_inference_errors",
    "Inference requests that failed: unavailable (down, timed out), not_found (model not served), error.",
    (*LABELS, "reason"),
)
RETRIES = Counter(
    "semantik_inference_retries",
    "Inference requests sent again because Triton was unreachable or slow.",
    LABELS,
)

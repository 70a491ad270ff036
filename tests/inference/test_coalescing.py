"""Concurrent single queries share runs of the in-process embedder, and get their own vectors."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from semantik.inference.base import InferenceError
from semantik.inference.coalescing import CoalescingQueryEmbedder
from semantik.inference.onnx import OnnxEmbedder

QUERIES = [f"how do I {verb} a file in python" for verb in ("open", "read", "write", "close", "copy", "move")]
QUERIES += ["asyncio event loop", "context manager", "decorator", "global interpreter lock"]


class Gate:
    """Wraps an embedder: records each run's queries; the first run waits until `others`
    more queries are queued behind it, so they must all go together in the second run."""

    def __init__(self, embedder: OnnxEmbedder, coalescing: CoalescingQueryEmbedder, others: int) -> None:
        self.embedder, self.coalescing, self.others = embedder, coalescing, others
        self.runs: list[list[str]] = []
        self.fail = False

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.embedder, name)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.runs.append(list(texts))
        if len(self.runs) == 1:
            while len(self.coalescing._waiting) < self.others:
                threading.Event().wait(0.005)
        if self.fail and len(self.runs) > 1:
            raise InferenceError("Triton is down")
        return self.embedder.embed_queries(texts)


@pytest.fixture(scope="module")
def embedder(model_dir) -> OnnxEmbedder:  # type: ignore[no-untyped-def]
    return OnnxEmbedder(model_dir, threads=1)


def run_together(coalescing: CoalescingQueryEmbedder, queries: list[str]) -> dict[str, object]:
    answers: dict[str, object] = {}

    def ask(query: str) -> None:
        try:
            answers[query] = coalescing.embed_queries([query])
        except InferenceError as exc:
            answers[query] = exc

    first = threading.Thread(target=ask, args=(queries[0],))
    first.start()
    while not coalescing._running:
        threading.Event().wait(0.001)
    rest = [threading.Thread(target=ask, args=(q,)) for q in queries[1:]]
    for thread in rest:
        thread.start()
    for thread in [first, *rest]:
        thread.join(timeout=60)
    return answers


def test_queries_waiting_together_are_embedded_in_one_run_each_with_its_own_vector(embedder) -> None:  # type: ignore[no-untyped-def]
    coalescing = CoalescingQueryEmbedder(embedder)
    gate = Gate(embedder, coalescing, others=len(QUERIES) - 1)
    coalescing._embedder = gate  # type: ignore[assignment]

    answers = run_together(coalescing, QUERIES)

    assert [len(run) for run in gate.runs] == [1, len(QUERIES) - 1]
    alone = embedder.embed_queries(QUERIES)
    for row, query in enumerate(QUERIES):
        vector = answers[query]
        assert isinstance(vector, np.ndarray) and vector.shape == (1, 384)
        assert float(vector[0] @ alone[row]) > 0.99999  # padding in a shared run changes nothing


def test_a_failed_run_fails_every_query_in_it_and_the_next_caller_runs_again(embedder) -> None:  # type: ignore[no-untyped-def]
    coalescing = CoalescingQueryEmbedder(embedder)
    gate = Gate(embedder, coalescing, others=3)
    gate.fail = True
    coalescing._embedder = gate  # type: ignore[assignment]

    answers = run_together(coalescing, QUERIES[:4])

    assert isinstance(answers[QUERIES[0]], np.ndarray)
    assert all(isinstance(answers[q], InferenceError) for q in QUERIES[1:4])
    gate.fail = False
    assert coalescing.embed_queries(["after the failure"]).shape == (1, 384)


def test_anything_but_one_query_goes_straight_through(embedder) -> None:  # type: ignore[no-untyped-def]
    coalescing = CoalescingQueryEmbedder(embedder)
    together = coalescing.embed_queries(QUERIES[:3])
    np.testing.assert_allclose(together, embedder.embed_queries(QUERIES[:3]), atol=1e-6)
    assert coalescing.dimension == 384 and coalescing.name == embedder.name

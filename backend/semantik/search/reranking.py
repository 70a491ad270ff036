"""Reranking: which cross-encoder a search uses, and its scores within a time limit, or why not."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypedDict

from django.conf import settings
from rest_framework.exceptions import ValidationError

from semantik.collections.models import Collection
from semantik.inference.base import InferenceError
from semantik.inference.runtime import get_reranker

log = logging.getLogger(__name__)

# Reranking runs here so that a slow one can be abandoned at RERANK_TIMEOUT_S; a call that
# overruns finishes in the background (bounded by the inference client's own timeout).
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rerank")


class RerankerUse(TypedDict):
    name: str
    applied: bool
    reason: str  # why it was not applied ("" when it was)


def reranker_for(collections: Sequence[Collection], rerank: bool | None, name: str | None) -> str | None:
    """The reranker a search uses: the one named, else the first collection's default.

    `rerank` False means none; True demands one (400 when there is none to use); None uses one
    when a name or a default gives it.
    """
    if rerank is False:
        return None
    chosen = name or next((c.default_reranker for c in collections if c.default_reranker), None)
    if rerank and not chosen:
        raise ValidationError(
            {
                "rerank": [
                    "No reranker to use: name one with `reranker`, or give a collection a default_reranker."
                ]
            }
        )
    return chosen


def rerank_scores(name: str, query: str, passages: Sequence[str]) -> tuple[list[float] | None, RerankerUse]:
    """The cross-encoder's score of each passage for `query`, or None and the reason it has none.

    A reranker that fails, is missing or overruns RERANK_TIMEOUT_S is reported, never raised:
    the search then keeps its own order.
    """
    if not passages:
        return [], {"name": name, "applied": True, "reason": ""}
    timeout = settings.RERANK_TIMEOUT_S
    try:
        scores = _pool.submit(lambda: get_reranker(name).rerank(query, list(passages))).result(
            timeout=timeout
        )
        if len(scores) != len(passages):
            raise InferenceError(f"it returned {len(scores)} scores for {len(passages)} passages")
    except FutureTimeout:
        log.warning("Reranker %s took longer than %s s; results are not reranked", name, timeout)
        return None, {"name": name, "applied": False, "reason": f"timed out after {timeout:g} s"}
    except Exception as exc:  # noqa: BLE001 - any failure falls back to the unreranked order
        log.warning("Reranker %s failed; results are not reranked", name, exc_info=True)
        return None, {"name": name, "applied": False, "reason": f"failed: {exc}"}
    return [float(score) for score in scores], {"name": name, "applied": True, "reason": ""}

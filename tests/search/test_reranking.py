"""Reranking: a real cross-encoder (tiny, random weights, exported by the real code) reorders the top
candidates; a timeout or a failure keeps the search's own order and says so."""

from __future__ import annotations

import pytest

from semantik.collections.models import Collection
from semantik.inference.onnx import OnnxReranker
from tests.search.test_views import PASSAGES, index_folder, search

pytestmark = pytest.mark.django_db(transaction=True)

QUERY = "what is the biggest creature in the sea?"


@pytest.fixture
def indexed(api, user, reranker, reranker_models, documents_root):  # type: ignore[no-untyped-def]
    for name, text in PASSAGES.items():
        (documents_root / name).write_text(text)
    return index_folder(api, user, documents_root)


def keys(body):  # type: ignore[no-untyped-def]
    return [(r["document_id"], r["chunk_index"]) for r in body["results"]]


def cross_encoder_scores(reranker_models, name, texts):  # type: ignore[no-untyped-def]
    """What the cross-encoder itself says of each passage, run apart from the search."""
    return OnnxReranker(reranker_models / name).rerank(QUERY, texts)


def test_rerank_orders_the_candidates_by_the_cross_encoders_scores(api, indexed, reranker, reranker_models):  # type: ignore[no-untyped-def]
    plain = search(api, [indexed], QUERY, limit=len(PASSAGES), rerank=False)
    assert plain["reranker"] is None

    body = search(api, [indexed], QUERY, limit=3, rerank=True, reranker=reranker)

    assert body["reranker"] == {"name": reranker, "applied": True, "reason": ""}
    # 4 × limit = 12 candidates: the whole corpus of 5 is reranked.
    texts = [r["text"] for r in plain["results"]]
    scores = cross_encoder_scores(reranker_models, reranker, texts)
    expected = sorted(range(len(texts)), key=lambda i: (-scores[i], i))[:3]
    assert expected != [0, 1, 2], "the cross-encoder must disagree with the search for this test to mean much"
    assert [r["text"] for r in body["results"]] == [texts[i] for i in expected]
    for result, i in zip(body["results"], expected, strict=True):
        assert result["scores"]["rerank"] == pytest.approx(scores[i], abs=1e-5)
        assert result["score"] == result["scores"]["rerank"]
        assert result["scores"]["semantic"] == pytest.approx(plain["results"][i]["scores"]["semantic"])


def test_rerank_candidates_bounds_what_is_reranked_and_the_rest_follows_unchanged(  # type: ignore[no-untyped-def]
    api, indexed, reranker, reranker_models
):
    plain = search(api, [indexed], QUERY, limit=5, rerank=False)
    body = search(api, [indexed], QUERY, limit=5, rerank=True, reranker=reranker, rerank_candidates=2)

    head = plain["results"][:2]
    scores = cross_encoder_scores(reranker_models, reranker, [r["text"] for r in head])
    order = sorted(range(2), key=lambda i: (-scores[i], i))
    assert [r["text"] for r in body["results"][:2]] == [head[i]["text"] for i in order]
    assert keys(body)[2:] == keys(plain)[2:]
    assert all(r["scores"]["rerank"] is None for r in body["results"][2:])


def test_a_collections_default_reranker_applies_unless_the_request_says_no(api, indexed, reranker):  # type: ignore[no-untyped-def]
    response = api.patch(f"/api/v2/collections/{indexed.pk}", {"default_reranker": reranker}, format="json")
    assert response.status_code == 200 and response.json()["default_reranker"] == reranker

    by_default = search(api, [indexed], QUERY, limit=3)
    refused = search(api, [indexed], QUERY, limit=3, rerank=False)

    assert by_default["reranker"] == {"name": reranker, "applied": True, "reason": ""}
    assert all(r["scores"]["rerank"] is not None for r in by_default["results"])
    assert refused["reranker"] is None
    assert all(r["scores"]["rerank"] is None for r in refused["results"])


def test_a_reranker_that_times_out_leaves_the_order_unchanged_and_says_so(api, indexed, reranker, settings):  # type: ignore[no-untyped-def]
    plain = search(api, [indexed], QUERY, limit=3, rerank=False)
    settings.RERANK_TIMEOUT_S = 0.0

    body = search(api, [indexed], QUERY, limit=3, reranker=reranker)

    assert body["reranker"] == {"name": reranker, "applied": False, "reason": "timed out after 0 s"}
    assert keys(body) == keys(plain)
    assert [r["score"] for r in body["results"]] == [r["score"] for r in plain["results"]]
    assert all(r["scores"]["rerank"] is None for r in body["results"])


def test_a_reranker_that_fails_leaves_the_order_unchanged_and_says_why(api, indexed):  # type: ignore[no-untyped-def]
    plain = search(api, [indexed], QUERY, limit=3, rerank=False)
    # The collection's default was removed from the model repository since it was chosen.
    Collection.objects.filter(pk=indexed.pk).update(default_reranker="retired-reranker")

    body = search(api, [indexed], QUERY, limit=3)

    used = body["reranker"]
    assert used["name"] == "retired-reranker" and used["applied"] is False
    assert used["reason"].startswith("failed:") and "retired-reranker" in used["reason"]
    assert keys(body) == keys(plain)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"reranker": "no-such-reranker"}, "reranker"),
        ({"reranker": "all-minilm-l6-v2"}, "reranker"),  # an embedding model is no reranker
        ({"rerank": True}, "rerank"),  # nothing named and no default
        ({"rerank": False, "reranker": "tiny-reranker"}, "reranker"),
        ({"rerank_candidates": 201}, "rerank_candidates"),
    ],
)
def test_invalid_reranking_is_400_naming_the_field(api, indexed, options, field):  # type: ignore[no-untyped-def]
    body = {"query": QUERY, "collections": [str(indexed.pk)], **options}
    response = api.post("/api/v2/search", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["details"]

"""Query vectors: a repeated query is answered from Redis, and a collection's model is resolved once."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from django.core.cache import cache
from redis.exceptions import ConnectionError as RedisConnectionError

from semantik.inference.runtime import get_embedder, get_query_embedder, model_info, reset_embedders
from semantik.search import embedding
from semantik.search.embedding import collection_model, embed_query
from semantik.stack.ports import find_free_port
from tests.search.test_services import spy_embeddings
from tests.search.test_views import PASSAGES, index_folder, search

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def indexed(api, user, models, documents_root, triton):  # type: ignore[no-untyped-def]
    for name, text in PASSAGES.items():
        (documents_root / name).write_text(text)
    return index_folder(api, user, documents_root)


def test_a_repeated_query_does_not_call_the_embedder_again(api, indexed, monkeypatch):  # type: ignore[no-untyped-def]
    calls = spy_embeddings(monkeypatch, "all-minilm-l6-v2")
    query = f"the largest animal in the ocean {uuid.uuid4().hex[:6]}"  # never asked before

    first = search(api, [indexed], query, limit=3)
    again = search(api, [indexed], query, limit=3)
    other = search(api, [indexed], query + "?", limit=3)

    assert calls == [[query], [query + "?"]]
    assert again["results"] == first["results"]  # the cached vector is the same vector
    assert other["results"][0]["path"] == first["results"][0]["path"] == "ocean.txt"


def test_the_cached_vector_is_the_embedders_vector_and_is_keyed_by_model(models, triton, monkeypatch):  # type: ignore[no-untyped-def]
    fp32 = model_info("all-minilm-l6-v2")
    int8 = model_info("all-minilm-l6-v2-int8")
    query = f"bread dough rising {uuid.uuid4().hex[:6]}"

    direct = get_embedder(fp32.name).embed_queries([query])[0]
    cached = [embed_query(fp32, query), embed_query(fp32, query)]
    quantized = embed_query(int8, query)

    assert all(np.allclose(v, direct, atol=1e-6) for v in cached)
    assert not np.allclose(quantized, direct, atol=1e-6)  # another model: another entry


def test_without_redis_the_query_is_embedded_and_the_search_still_answers(api, indexed, monkeypatch):  # type: ignore[no-untyped-def]
    def down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RedisConnectionError("Redis is down")  # what Django's Redis cache raises

    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "set", down)
    calls = spy_embeddings(monkeypatch, "all-minilm-l6-v2")

    body = search(api, [indexed], "huge sea mammal", limit=1)

    assert body["results"][0]["path"] == "ocean.txt" and len(calls) == 1


def test_query_caching_can_be_turned_off(api, indexed, monkeypatch, settings):  # type: ignore[no-untyped-def]
    settings.QUERY_CACHE_SECONDS = 0
    calls = spy_embeddings(monkeypatch, "all-minilm-l6-v2")
    for _ in range(2):
        search(api, [indexed], "huge sea mammal", limit=1)
    assert len(calls) == 2


def test_a_collections_model_is_resolved_from_the_repository_once(api, indexed, monkeypatch):  # type: ignore[no-untyped-def]
    reads: list[str] = []
    real = embedding.resolve_collection_model

    def resolve(collection):  # type: ignore[no-untyped-def]
        reads.append(collection.embedding_model)
        return real(collection)

    monkeypatch.setattr(embedding, "resolve_collection_model", resolve)
    for query in ("whale", "bread", "jupiter"):
        search(api, [indexed], query, limit=1)
    assert reads == ["all-minilm-l6-v2"]
    assert collection_model(indexed).name == "all-minilm-l6-v2" and reads == ["all-minilm-l6-v2"]

    # Past the time limit it is read again, so a re-exported or removed model is noticed.
    monkeypatch.setattr(embedding, "MODEL_RESOLUTION_TTL_S", 0.0)
    collection_model(indexed)
    assert reads == ["all-minilm-l6-v2"] * 2


def test_queries_embedded_in_process_are_tritons_vectors_and_need_no_triton(api, indexed, settings):  # type: ignore[no-untyped-def]
    query = "what is the biggest creature in the sea?"
    served = get_embedder("all-minilm-l6-v2").embed_queries([query])[0]
    settings.QUERY_CACHE_SECONDS = 0
    settings.QUERY_INFERENCE_BACKEND = "onnx"
    settings.TRITON_URL = f"127.0.0.1:{find_free_port()}"  # nothing listens: only ONNX Runtime can answer
    reset_embedders()

    in_process = get_query_embedder("all-minilm-l6-v2").embed_queries([query])[0]
    body = search(api, [indexed], query, limit=1)

    assert float(np.dot(in_process, served)) >= 0.9999  # the same ONNX file as Triton serves
    assert body["results"][0]["path"] == "ocean.txt" and body["errors"] == []

"""The catalog: variants grouped into models, and the one answer to "which variant serves this collection"."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from semantik.catalog.selectors import (
    PrecisionNotServed,
    catalog_models,
    collection_model,
    document_max_length,
    model_variant,
    served_model,
)
from semantik.collections.models import Collection
from semantik.documents.services import source_add, source_index
from semantik.inference.base import ModelNotFound
from semantik.inference.models import DEFAULT_INT8_MODEL, DEFAULT_MODEL
from semantik.inference.onnx import OnnxEmbedder
from semantik.inference.tokenization import ModelTokenizer
from tests.inference.tiny_models import TINY_E5, TINY_RERANKER


def add_variant(repository: Path, of: str, name: str, **changes: object) -> None:
    """Another export of `of` under `name`, with semantik.json changed as given."""
    shutil.copytree(repository / of, repository / name, symlinks=False)
    metadata = json.loads((repository / name / "semantik.json").read_text())
    (repository / name / "semantik.json").write_text(json.dumps({**metadata, "name": name, **changes}))


def test_variants_of_one_model_are_grouped_best_precision_first(catalog_repository: Path):
    models = {m.name: m for m in catalog_models()}
    assert list(models) == [DEFAULT_MODEL, TINY_E5, TINY_RERANKER]
    assert models[DEFAULT_MODEL].precisions == ["float32", "int8"]
    assert [v.name for v in models[DEFAULT_MODEL].variants] == [DEFAULT_MODEL, DEFAULT_INT8_MODEL]
    assert (models[TINY_RERANKER].kind, models[TINY_E5].kind) == ("reranker", "embedding")
    assert [m.name for m in catalog_models("reranker")] == [TINY_RERANKER]


def test_a_variant_joins_its_model_only_when_it_comes_from_the_same_source(catalog_repository: Path):
    add_variant(catalog_repository, TINY_E5, "tiny-e5-int8", precision="int8")
    add_variant(catalog_repository, TINY_E5, "tiny-e5-fp16", precision="fp16", source="someone/else")
    models = {m.name: m for m in catalog_models()}
    assert models[TINY_E5].precisions == ["float32", "int8"]
    assert models["tiny-e5-fp16"].precisions == ["float16"]


def test_a_model_and_precision_resolve_to_the_variant_that_serves_them(catalog_repository: Path, settings):
    assert served_model(DEFAULT_MODEL).name == DEFAULT_MODEL
    int8 = served_model(DEFAULT_MODEL, "int8")
    assert (int8.model, int8.precision, int8.name) == (DEFAULT_MODEL, "int8", DEFAULT_INT8_MODEL)
    settings.DEFAULT_QUANTIZATION = "int8"
    assert served_model(DEFAULT_MODEL).name == DEFAULT_INT8_MODEL


def test_a_variants_own_name_fixes_its_precision(catalog_repository: Path):
    served = served_model(DEFAULT_INT8_MODEL)
    assert (served.model, served.precision, served.name) == (DEFAULT_MODEL, "int8", DEFAULT_INT8_MODEL)
    with pytest.raises(PrecisionNotServed, match="is the int8 variant of 'all-minilm-l6-v2'"):
        served_model(DEFAULT_INT8_MODEL, "float32")


def test_what_is_not_served_is_refused_naming_what_is(catalog_repository: Path):
    with pytest.raises(PrecisionNotServed, match="not exported in float16; its precisions: float32, int8"):
        served_model(DEFAULT_MODEL, "float16")
    with pytest.raises(
        ModelNotFound, match=r"available: all-minilm-l6-v2 \(float32, int8\), tiny-e5 \(float32\)"
    ):
        served_model("no-such-model")
    # A reranker does not embed.
    with pytest.raises(ModelNotFound, match="'tiny-reranker' is not in the model repository"):
        served_model(TINY_RERANKER)


def test_a_collection_is_served_by_the_variant_of_its_model_and_precision(catalog_repository: Path):
    assert (
        collection_model(Collection(embedding_model=DEFAULT_MODEL, precision="int8")).name
        == DEFAULT_INT8_MODEL
    )
    assert (
        collection_model(Collection(embedding_model=DEFAULT_MODEL, precision="float32")).name == DEFAULT_MODEL
    )
    # Made before precisions existed: it names the int8 variant itself and keeps the default precision.
    legacy = Collection(embedding_model=DEFAULT_INT8_MODEL, precision="float32")
    assert collection_model(legacy).name == DEFAULT_INT8_MODEL
    with pytest.raises(PrecisionNotServed):
        collection_model(Collection(embedding_model=TINY_E5, precision="int8"))


def test_any_precision_does_for_what_they_share(catalog_repository: Path, settings):
    settings.DEFAULT_QUANTIZATION = "int8"
    assert model_variant(DEFAULT_MODEL).name == DEFAULT_INT8_MODEL
    # The e5 model has no int8 variant: its float32 one has the same tokenizer.
    assert model_variant(TINY_E5).name == TINY_E5


def test_the_document_prefix_takes_its_tokens_from_the_chunks_window(catalog_repository: Path):
    e5 = served_model(TINY_E5).info
    prefix_tokens = ModelTokenizer(e5.path).count_tokens("passage: ")
    assert prefix_tokens > 0
    assert document_max_length(e5) == e5.max_length - prefix_tokens
    assert document_max_length(served_model(DEFAULT_MODEL).info) == 256


def batches(model: str) -> float:
    labels = {"model": model, "kind": "embedding", "backend": "onnx"}
    return REGISTRY.get_sample_value("semantik_inference_batch_size_sum", labels) or 0.0


@pytest.mark.django_db(transaction=True)
def test_indexing_and_search_embed_with_the_collections_variant(  # type: ignore[no-untyped-def]
    api, user, catalog_repository, documents_root
):
    (documents_root / "roses.txt").write_text("Prune roses in late winter, just above an outward-facing bud.")
    created = api.post(
        "/api/v2/collections",
        {"name": "Garden", "embedding_model": DEFAULT_MODEL, "precision": "int8"},
        format="json",
    ).json()
    fp32, int8 = batches(DEFAULT_MODEL), batches(DEFAULT_INT8_MODEL)

    source_index(
        str(
            source_add(
                collection=Collection.objects.get(pk=created["id"]), path=str(documents_root), user=user
            ).id
        )
    )
    indexed = batches(DEFAULT_INT8_MODEL) - int8
    assert indexed == 1
    response = api.post(
        "/api/v2/search", {"query": "when to prune roses", "collections": [created["id"]]}, format="json"
    )
    assert response.json()["results"][0]["path"] == "roses.txt"
    assert batches(DEFAULT_INT8_MODEL) - int8 == indexed + 1
    assert batches(DEFAULT_MODEL) == fp32


@pytest.mark.django_db(transaction=True)
def test_indexing_embeds_documents_and_search_embeds_queries_with_the_models_prefixes(  # type: ignore[no-untyped-def]
    api, user, catalog_repository, documents_root
):
    text = "the password reset form is on the search page"
    query = "how do i reset my password"
    (documents_root / "help.txt").write_text(text)
    created = api.post(
        "/api/v2/collections", {"name": "Help", "embedding_model": TINY_E5}, format="json"
    ).json()
    collection = Collection.objects.get(pk=created["id"])
    source_index(str(source_add(collection=collection, path=str(documents_root), user=user).id))

    hit = api.post("/api/v2/search", {"query": query, "collections": [created["id"]]}, format="json").json()[
        "results"
    ][0]
    assert hit["text"] == text
    e5 = OnnxEmbedder(catalog_repository / TINY_E5)
    # Qdrant scores by cosine: the score says which vectors met.
    assert hit["score"] == pytest.approx(
        float(e5.embed_queries([query])[0] @ e5.embed_documents([text])[0]), abs=1e-5
    )
    for other in (
        e5.embed([query])[0] @ e5.embed([text])[0],
        e5.embed_documents([query])[0] @ e5.embed_queries([text])[0],
        e5.embed([query])[0] @ e5.embed_documents([text])[0],
    ):
        assert abs(hit["score"] - float(other)) > 1e-4

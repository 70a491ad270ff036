"""GET /api/v2/models: every model, its precisions, and whether each variant can serve now."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from semantik.inference.models import DEFAULT_INT8_MODEL, DEFAULT_MODEL
from semantik.stack.ports import find_free_port
from tests.inference.tiny_models import TINY_E5, TINY_RERANKER

pytestmark = pytest.mark.django_db


def listing(api, **query: str) -> dict:  # type: ignore[no-untyped-def]
    response = api.get("/api/v2/models", query)
    assert response.status_code == 200, response.json()
    return response.json()


def test_every_model_is_listed_with_what_a_client_needs_to_use_it(api, catalog_repository: Path):  # type: ignore[no-untyped-def]
    page = listing(api)
    assert page["count"] == 3 and page["next"] is None
    minilm, e5, reranker = page["results"]
    assert minilm == {
        "name": DEFAULT_MODEL,
        "kind": "embedding",
        "source": "sentence-transformers/all-MiniLM-L6-v2",
        "dimension": 384,
        "max_length": 256,
        "pooling": "mean",
        "query_prefix": None,
        "document_prefix": None,
        "activation": None,
        "precisions": ["float32", "int8"],
        "ready": True,
        "variants": [
            {"name": DEFAULT_MODEL, "precision": "float32", "target": "cpu", "ready": True, "reason": ""},
            {"name": DEFAULT_INT8_MODEL, "precision": "int8", "target": "cpu", "ready": True, "reason": ""},
        ],
    }
    assert (e5["name"], e5["query_prefix"], e5["document_prefix"], e5["dimension"]) == (
        TINY_E5,
        "query: ",
        "passage: ",
        32,
    )
    assert (reranker["name"], reranker["kind"], reranker["dimension"], reranker["activation"]) == (
        TINY_RERANKER,
        "reranker",
        None,
        "sigmoid",
    )


def test_models_can_be_listed_by_kind(api, catalog_repository: Path):  # type: ignore[no-untyped-def]
    assert [m["name"] for m in listing(api, kind="reranker")["results"]] == [TINY_RERANKER]
    assert [m["name"] for m in listing(api, kind="embedding")["results"]] == [DEFAULT_MODEL, TINY_E5]
    response = api.get("/api/v2/models", {"kind": "classifier"})
    assert response.status_code == 400
    assert "kind" in response.json()["error"]["details"]


def test_a_variant_whose_onnx_file_does_not_load_is_not_ready_with_the_reason(api, catalog_repository: Path):  # type: ignore[no-untyped-def]
    broken = catalog_repository / "tiny-e5-int8"
    shutil.copytree(catalog_repository / TINY_E5, broken)
    metadata = json.loads((broken / "semantik.json").read_text())
    (broken / "semantik.json").write_text(json.dumps({**metadata, "name": broken.name, "precision": "int8"}))
    (broken / "1" / "model.onnx").write_bytes(b"not a graph")

    e5 = next(m for m in listing(api)["results"] if m["name"] == TINY_E5)
    assert e5["precisions"] == ["float32", "int8"] and e5["ready"] is True
    float32, int8 = e5["variants"]
    assert (float32["ready"], int8["ready"]) == (True, False)
    assert int8["name"] == "tiny-e5-int8" and int8["reason"]


@pytest.mark.triton
def test_with_triton_ready_is_what_triton_reports(api, catalog_repository: Path, triton, settings):  # type: ignore[no-untyped-def]
    settings.INFERENCE_BACKEND = "triton"
    minilm, e5, reranker = listing(api)["results"]
    assert [v["ready"] for v in minilm["variants"]] == [True, True]
    # Exported, but this Triton does not load them.
    assert e5["ready"] is False and reranker["ready"] is False
    assert e5["variants"][0]["reason"] == f"Triton at {triton.grpc_url} does not serve it"


def test_a_triton_that_is_down_makes_every_model_unready_without_hanging(
    api, catalog_repository: Path, settings
):  # type: ignore[no-untyped-def]
    settings.INFERENCE_BACKEND = "triton"
    settings.TRITON_URL = f"127.0.0.1:{find_free_port()}"
    started = time.monotonic()
    models = listing(api)["results"]
    assert time.monotonic() - started < 5
    assert [m["ready"] for m in models] == [False, False, False]
    assert "did not list its models" in models[0]["variants"][0]["reason"]


def test_the_catalog_is_for_signed_in_users(client, catalog_repository: Path):  # type: ignore[no-untyped-def]
    response = client.get("/api/v2/models")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_an_fp16_gpu_export_is_its_models_float16_variant_and_collections_may_choose_it(  # type: ignore[no-untyped-def]
    api, catalog_repository: Path
):
    from semantik.catalog.selectors import collection_model
    from semantik.collections.models import Collection
    from semantik.inference.export import export_model
    from semantik.inference.models import load_model_info

    source = load_model_info(catalog_repository / TINY_E5).source
    export_model(source, catalog_repository, name=f"{TINY_E5}-fp16", precision="fp16", target="gpu")

    e5 = next(model for model in listing(api)["results"] if model["name"] == TINY_E5)
    assert e5["precisions"] == ["float32", "float16"]
    # In-process (INFERENCE_BACKEND=onnx here) ready means ONNX Runtime loads the fp16 graph on the CPU.
    assert e5["variants"][1] == {
        "name": f"{TINY_E5}-fp16",
        "precision": "float16",
        "target": "gpu",
        "ready": True,
        "reason": "",
    }
    response = api.post(
        "/api/v2/collections",
        {"name": "Half", "embedding_model": TINY_E5, "precision": "float16"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["precision"] == "float16"
    assert collection_model(Collection.objects.get(pk=response.json()["id"])).name == f"{TINY_E5}-fp16"

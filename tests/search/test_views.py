"""Search over indexed collections."""

from __future__ import annotations

import uuid

import pytest

from semantik.collections.models import Collection
from semantik.documents.services import source_add, source_index

pytestmark = pytest.mark.django_db(transaction=True)

PASSAGES = {
    "ocean.txt": "The blue whale is the largest animal ever known to have lived on Earth.",
    "kitchen.txt": "Knead the bread dough for ten minutes, then let it rise in a warm place.",
    "space.txt": "Jupiter is a gas giant with a great red spot, a storm larger than Earth.",
}


@pytest.fixture
def indexed(api, user, models, documents_root, triton):  # type: ignore[no-untyped-def]
    for name, text in PASSAGES.items():
        (documents_root / name).write_text(text)
    body = api.post("/api/v2/collections", {"name": "Facts"}, format="json").json()
    collection = Collection.objects.get(pk=body["id"])
    source_index(str(source_add(collection=collection, path=str(documents_root), user=user).id))
    return collection


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("what is the biggest creature in the sea?", "ocean.txt"),
        ("how do I make bread?", "kitchen.txt"),
        ("planets of the solar system", "space.txt"),
    ],
)
def test_search_ranks_the_passage_that_means_the_query_first(api, indexed, query, expected):  # type: ignore[no-untyped-def]
    response = api.post(
        "/api/v2/search", {"query": query, "collections": [str(indexed.pk)], "k": 3}, format="json"
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert results[0]["path"] == expected
    assert results[0]["text"] == PASSAGES[expected]
    assert results[0]["collection_id"] == str(indexed.pk)
    assert [r["score"] for r in results] == sorted((r["score"] for r in results), reverse=True)
    assert set(results[0]) >= {"text", "path", "score", "document_id", "chunk_index", "collection_id"}


def test_k_limits_the_results(api, indexed):  # type: ignore[no-untyped-def]
    response = api.post(
        "/api/v2/search", {"query": "earth", "collections": [str(indexed.pk)], "k": 2}, format="json"
    )
    assert len(response.json()["results"]) == 2


def test_searching_a_collection_you_cannot_see_is_404(api, client_for, make_user, indexed):  # type: ignore[no-untyped-def]
    stranger = client_for(make_user("mallory"))
    for collection_id in (str(indexed.pk), str(uuid.uuid4())):
        response = stranger.post(
            "/api/v2/search", {"query": "whale", "collections": [collection_id]}, format="json"
        )
        assert response.status_code == 404


@pytest.mark.parametrize(
    "body", [{}, {"query": "x"}, {"query": "", "collections": []}, {"query": "x", "collections": ["nope"]}]
)
def test_malformed_search_is_400(api, body):  # type: ignore[no-untyped-def]
    assert api.post("/api/v2/search", body, format="json").status_code == 400


def test_a_pdf_hit_names_its_page(api, user, models, documents_root, triton):  # type: ignore[no-untyped-def]
    from fpdf import FPDF

    pdf = FPDF()
    sailing = "Sailing boats catch the wind in their sails. " * 5
    volcanoes = "Volcanoes erupt when magma and lava rise through the crust. " * 5
    for text in [sailing, volcanoes]:
        pdf.add_page()
        pdf.set_font("Helvetica", size=12)
        pdf.multi_cell(0, 10, text)
    (documents_root / "book.pdf").write_bytes(bytes(pdf.output()))
    body = api.post(
        "/api/v2/collections", {"name": "Books", "chunk_size": 16, "chunk_overlap": 0}, format="json"
    ).json()
    collection = Collection.objects.get(pk=body["id"])
    source_index(str(source_add(collection=collection, path=str(documents_root), user=user).id))
    top = api.post(
        "/api/v2/search", {"query": "lava and eruptions", "collections": [body["id"]], "k": 1}, format="json"
    ).json()["results"][0]
    assert "Sailing" not in top["text"] and top["page"] == 2


def test_a_hit_names_the_headings_it_sits_under(api, user, models, documents_root, triton):  # type: ignore[no-untyped-def]
    (documents_root / "boats.md").write_text(
        "# Boats\n\n## Sails\n\nA jib and a mainsail catch the wind.\n\n"
        "## Engines\n\nA diesel engine burns fuel to turn the propeller.\n"
    )
    (documents_root / "plain.txt").write_text("Bread rises in a warm kitchen.")
    body = api.post("/api/v2/collections", {"name": "Boats"}, format="json").json()
    collection = Collection.objects.get(pk=body["id"])
    source_index(str(source_add(collection=collection, path=str(documents_root), user=user).id))
    results = api.post(
        "/api/v2/search", {"query": "motor and fuel", "collections": [body["id"]], "k": 3}, format="json"
    ).json()["results"]
    assert results[0]["heading_path"] == ["Boats", "Engines"]
    assert results[0]["text"] == "## Engines\n\nA diesel engine burns fuel to turn the propeller."
    paths = {r["path"]: r["heading_path"] for r in results if r["path"] != "boats.md"}
    assert paths == {"plain.txt": []}

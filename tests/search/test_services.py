"""Search across collections, filtered, paged and dressed for people, through the API."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from semantik.collections.models import Collection
from semantik.documents.models import Document
from semantik.inference.runtime import get_embedder
from semantik.vectors import get_vector_store
from semantik.vectors.base import ChunkPoint
from tests.search.test_views import PASSAGES, index_folder, paths, search

pytestmark = pytest.mark.django_db(transaction=True)

# Every file speaks of roses, so an unfiltered search finds them all; the paths, types and dates
# differ so that each filter keeps a known subset.
LIBRARY = {
    "docs/guide/intro.md": (
        "# Getting started\nWater the roses every morning before the sun is high.",
        "2024-01-10",
    ),
    "docs/guide/pruning.md": (
        "# Pruning\nPrune the roses in early spring, above an outward bud.",
        "2024-03-01",
    ),
    "docs/readme.md": (
        "# Readme\nRoses, roses, roses: the whole garden is roses and more roses.",
        "2024-04-01",
    ),
    "docs/api.txt": ("The roses API lists every rose bed and when it was last watered.", "2024-05-01"),
    "notes/2024/june.txt": ("June: the climbing roses bloomed along the fence at last.", "2024-06-15"),
    "src/garden.py": (
        'def water_roses(bed):\n    """Water the roses of one bed."""\n    bed.water()',
        "2024-07-01",
    ),
}


def epoch(day: str) -> float:
    return datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()


@pytest.fixture
def library(api, user, models, documents_root, triton):  # type: ignore[no-untyped-def]
    for relative, (text, day) in LIBRARY.items():
        path = documents_root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        os.utime(path, (epoch(day), epoch(day)))
    return index_folder(api, user, documents_root)


def everything(api, collection, query, **options):  # type: ignore[no-untyped-def]
    return paths(search(api, [collection], query, limit=len(LIBRARY), **options))


MODES = ["semantic", "keyword", "hybrid"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (
            {"path_prefix": "docs/"},
            {"docs/guide/intro.md", "docs/guide/pruning.md", "docs/readme.md", "docs/api.txt"},
        ),
        ({"path_prefix": "docs/guide/"}, {"docs/guide/intro.md", "docs/guide/pruning.md"}),
        # `*` crosses folders, as in a source's include globs.
        ({"path_glob": "*.txt"}, {"docs/api.txt", "notes/2024/june.txt"}),
        ({"path_glob": "docs/*/*.md"}, {"docs/guide/intro.md", "docs/guide/pruning.md"}),
        ({"path_glob": "src/garden.py"}, {"src/garden.py"}),
        ({"path_prefix": "notes/", "path_glob": "docs/*"}, set()),
        (
            {"mime_types": ["text/markdown"]},
            {"docs/guide/intro.md", "docs/guide/pruning.md", "docs/readme.md"},
        ),
        (
            {"mime_types": ["text/x-python", "text/plain"]},
            {"src/garden.py", "docs/api.txt", "notes/2024/june.txt"},
        ),
        ({"mime_types": ["text/*"]}, set(LIBRARY)),
        (
            {"modified_after": "2024-03-01T00:00:00Z", "modified_before": "2024-06-15T00:00:00Z"},
            {"docs/guide/pruning.md", "docs/readme.md", "docs/api.txt"},
        ),
        ({"modified_after": "2024-06-01T00:00:00Z"}, {"notes/2024/june.txt", "src/garden.py"}),
        ({"path_prefix": "docs/", "mime_types": ["text/plain"]}, {"docs/api.txt"}),
    ],
)
def test_filters_keep_exactly_the_matching_files_in_every_mode(api, library, mode, filters, expected):  # type: ignore[no-untyped-def]
    found = everything(api, library, "watering roses", mode=mode, filters=filters)
    assert set(found) == expected
    assert len(found) == len(expected)


def test_filters_apply_before_ranking_so_a_page_of_one_still_finds_the_match(api, library):  # type: ignore[no-untyped-def]
    # Without a filter, readme.md ("roses" five times) is the best keyword hit by far.
    assert paths(search(api, [library], "roses", mode="keyword", limit=1)) == ["docs/readme.md"]
    notes = search(api, [library], "roses", mode="keyword", limit=1, filters={"path_prefix": "notes/"})
    assert paths(notes) == ["notes/2024/june.txt"]
    # Qdrant lets readme.md through (prefix docs/, contains .md); the glob then refuses it, and
    # the search asks for more instead of returning an empty page.
    guide = search(api, [library], "roses", mode="keyword", limit=1, filters={"path_glob": "docs/*/*.md"})
    assert paths(guide) in (["docs/guide/pruning.md"], ["docs/guide/intro.md"])


def test_filter_by_document_ids(api, library):  # type: ignore[no-untyped-def]
    wanted = Document.objects.filter(relative_path__in=["docs/api.txt", "src/garden.py"])
    ids = [str(d.pk) for d in wanted]
    assert set(everything(api, library, "roses", filters={"document_ids": ids})) == {
        "docs/api.txt",
        "src/garden.py",
    }


@pytest.mark.parametrize(
    "filters",
    [
        {"mime_types": ["markdown"]},
        {"mime_types": []},
        {"document_ids": ["nope"]},
        {"modified_after": "2024-05-01T00:00:00Z", "modified_before": "2024-01-01T00:00:00Z"},
        {"modified_after": "yesterday"},
        {"path_prefix": ""},
    ],
)
def test_invalid_filters_are_400_naming_the_field(api, user, filters):  # type: ignore[no-untyped-def]
    body = {"query": "roses", "collections": ["7d1c2f4e-0a9b-4c3d-8e5f-6a7b8c9d0e1f"], "filters": filters}
    response = api.post("/api/v2/search", body, format="json")
    assert response.status_code == 400
    assert "filters" in response.json()["error"]["details"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("filters", [None, {"path_glob": "docs/*/*.md"}])
def test_pages_of_offset_and_limit_put_together_are_the_whole_list(api, library, mode, filters):  # type: ignore[no-untyped-def]
    options = {"mode": mode} | ({"filters": filters} if filters else {})
    whole = search(api, [library], "watering roses", limit=len(LIBRARY), **options)["results"]
    assert whole, "the filter must leave something to page through"
    for size in (1, 2):
        pages = []
        for offset in range(0, len(whole) + size, size):
            body = search(api, [library], "watering roses", offset=offset, limit=size, **options)
            assert body["offset"] == offset and body["limit"] == size
            assert len(body["results"]) == min(size, max(0, len(whole) - offset))
            pages += body["results"]
        key = lambda r: (r["document_id"], r["chunk_index"])  # noqa: E731
        assert [key(r) for r in pages] == [key(r) for r in whole]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"limit": 101}, "limit"),
        ({"offset": -1}, "offset"),
        ({"offset": 950, "limit": 100}, "offset"),
        ({"limit": 5, "k": 6}, "k"),
        ({"context": 4}, "context"),
    ],
)
def test_invalid_paging_is_400_naming_the_field(api, user, options, field):  # type: ignore[no-untyped-def]
    body = {"query": "roses", "collections": ["7d1c2f4e-0a9b-4c3d-8e5f-6a7b8c9d0e1f"], **options}
    response = api.post("/api/v2/search", body, format="json")
    assert response.status_code == 400 and field in response.json()["error"]["details"]


def test_results_name_title_path_and_preview_and_highlight_the_query_terms(api, library):  # type: ignore[no-untyped-def]
    (top,) = search(api, [library], "pruning rose", mode="keyword", limit=1)["results"]

    text = LIBRARY["docs/guide/pruning.md"][0]
    assert top["path"] == "docs/guide/pruning.md" and top["text"] == text
    assert top["title"] == "Pruning"  # the document's own title, from its row
    assert [top["text"][start:end] for start, end in top["highlights"]] == ["Pruning", "Prune", "roses"]
    document = Document.objects.get(relative_path="docs/guide/pruning.md")
    assert top["document_id"] == str(document.pk)
    assert top["preview_url"] == f"/documents/{document.pk}?chunk=0"
    assert (top["start"], top["end"]) == (0, len(text))
    assert top["page"] is None and top["heading_path"] == ["Pruning"] and top["context"] is None


def test_titles_come_with_the_chunks_and_from_the_rows_for_chunks_indexed_without_them(api, library):  # type: ignore[no-untyped-def]
    store = get_vector_store()
    document = Document.objects.get(relative_path="docs/guide/pruning.md")
    (chunk,) = store.document_chunks(library.vector_collection, str(document.pk), 0, 10)
    assert chunk["title"] == "Pruning"  # written with the chunk at indexing

    # A chunk indexed before chunks carried titles: its document's row gives it.
    older = {key: value for key, value in chunk.items() if key != "title"}
    point = store.point_ids(library.vector_collection, str(document.pk)).pop()
    vector = get_embedder(library.embedding_model).embed_documents([chunk["text"]])[0]
    store.upsert(library.vector_collection, [ChunkPoint(point, vector, older)])
    Document.objects.filter(pk=document.pk).update(title="Pruning, from the row")

    (top,) = search(api, [library], "pruning rose", mode="semantic", limit=1)["results"]
    assert top["document_id"] == str(document.pk)
    assert top["title"] == "Pruning, from the row"


def test_context_gives_the_neighbouring_text_each_character_once(api, user, models, documents_root, triton):  # type: ignore[no-untyped-def]
    sentences = [
        "Bees visit the lavender at dawn.",
        "The old lighthouse keeper trims the wick every evening.",
        "Apples ripen slowly in the orchard.",
        "Snow covers the northern slopes in winter.",
    ]
    text = " ".join(sentences * 3)
    (documents_root / "long.txt").write_text(text)
    collection = index_folder(api, user, documents_root, chunk_size=16, chunk_overlap=4)
    assert Document.objects.get().chunk_count > 5

    body = search(api, [collection], "lighthouse keeper wick", mode="keyword", limit=3, context=1)

    last = Document.objects.get().chunk_count - 1
    for result in body["results"]:
        before, after = result["context"]["before"], result["context"]["after"]
        start, end = result["start"], result["end"]
        assert result["text"] == text[start:end]
        # The text right before and after the chunk: no overlap repeated, nothing skipped.
        assert text[start - len(before) : start] == before
        assert text[end : end + len(after)] == after
        assert bool(before) == (result["chunk_index"] > 0)
        assert bool(after) == (result["chunk_index"] < last)
    wider = search(api, [collection], "lighthouse keeper wick", mode="keyword", limit=3, context=2)["results"]
    by_chunk = {r["chunk_index"]: r["context"] for r in wider}
    for narrow in body["results"]:
        context = by_chunk[narrow["chunk_index"]]
        assert context["before"].endswith(narrow["context"]["before"])
        assert context["after"].startswith(narrow["context"]["after"])
        if narrow["chunk_index"] >= 2:
            assert len(context["before"]) > len(narrow["context"]["before"])


def spy_embeddings(monkeypatch, model_name: str) -> list[list[str]]:  # type: ignore[no-untyped-def]
    """The queries each call of the model's (real) embedder is given, in order."""
    embedder = get_embedder(model_name)
    calls: list[list[str]] = []
    real = embedder.embed_queries

    def embed_queries(texts):  # type: ignore[no-untyped-def]
        calls.append(list(texts))
        return real(texts)

    monkeypatch.setattr(embedder, "embed_queries", embed_queries)
    return calls


@pytest.fixture
def facts(api, user, models, documents_root, triton):  # type: ignore[no-untyped-def]
    for name, text in PASSAGES.items():
        (documents_root / name).write_text(text)
    return documents_root


def test_collections_of_two_models_are_merged_by_rank_with_one_embedding_per_model(  # type: ignore[no-untyped-def]
    api, user, facts, monkeypatch
):
    fp32 = index_folder(api, user, facts, name="fp32")
    int8 = index_folder(api, user, facts, name="int8", embedding_model="all-minilm-l6-v2-int8")
    same_model = index_folder(api, user, facts, name="fp32 again")
    calls = {m: spy_embeddings(monkeypatch, m) for m in ("all-minilm-l6-v2", "all-minilm-l6-v2-int8")}

    body = search(api, [fp32, int8, same_model], "the biggest creature of the oceans, merged", limit=6)

    assert body["merge"] == "rrf" and body["errors"] == []
    # Each collection's best is its whale; rank 0 everywhere gives the same fused score, 1/60,
    # whatever the cosine in each model, and ties keep the request's order.
    top = body["results"][:3]
    assert [r["path"] for r in top] == ["ocean.txt"] * 3
    assert [r["collection_id"] for r in top] == [str(fp32.pk), str(int8.pk), str(same_model.pk)]
    assert all(r["score"] == pytest.approx(1 / 60) for r in top)
    assert top[0]["scores"]["semantic"] != pytest.approx(top[1]["scores"]["semantic"], abs=1e-7)
    assert all(r["score"] == pytest.approx(1 / 61) for r in body["results"][3:])
    assert [len(c) for c in calls.values()] == [1, 1]  # fp32 embedded once for its two collections


def test_one_collection_is_not_merged(api, user, facts):  # type: ignore[no-untyped-def]
    collection = index_folder(api, user, facts)
    body = search(api, [collection], "whale", limit=2)
    assert body["merge"] is None and body["results"][0]["score"] == body["results"][0]["scores"]["semantic"]


def test_a_collection_that_cannot_be_searched_is_reported_beside_the_others_results(api, user, facts):  # type: ignore[no-untyped-def]
    healthy = index_folder(api, user, facts, name="healthy")
    no_vectors = index_folder(api, user, facts, name="no vectors")
    get_vector_store().drop_collection(no_vectors.vector_collection)
    no_model = index_folder(api, user, facts, name="no model")
    Collection.objects.filter(pk=no_model.pk).update(embedding_model="retired-model")

    body = search(api, [healthy, no_vectors, no_model], "whale", limit=3)

    assert {r["collection_id"] for r in body["results"]} == {str(healthy.pk)}
    assert paths(body)[0] == "ocean.txt"
    errors = {e["collection_id"]: e["message"] for e in body["errors"]}
    assert set(errors) == {str(no_vectors.pk), str(no_model.pk)}
    assert no_vectors.vector_collection in errors[str(no_vectors.pk)]
    assert "retired-model" in errors[str(no_model.pk)]

    # Keyword search needs no model: only the missing vectors fail it.
    keyword = search(api, [healthy, no_vectors, no_model], "whale", mode="keyword")
    assert [e["collection_id"] for e in keyword["errors"]] == [str(no_vectors.pk)]


def test_when_no_collection_can_be_searched_it_is_503_with_every_reason(api, user, facts):  # type: ignore[no-untyped-def]
    no_vectors = index_folder(api, user, facts, name="no vectors")
    get_vector_store().drop_collection(no_vectors.vector_collection)
    no_model = index_folder(api, user, facts, name="no model")
    Collection.objects.filter(pk=no_model.pk).update(embedding_model="retired-model")

    response = api.post(
        "/api/v2/search",
        {"query": "whale", "collections": [str(no_vectors.pk), str(no_model.pk)]},
        format="json",
    )

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "service_unavailable"
    assert str(no_vectors.pk) in error["message"] and "retired-model" in error["message"]
    assert [e["collection_id"] for e in error["details"]["errors"]] == [str(no_vectors.pk), str(no_model.pk)]


def test_triton_down_is_503_for_semantic_search_and_keyword_search_still_works(  # type: ignore[no-untyped-def]
    api, user, facts, settings
):
    from semantik.inference.runtime import reset_embedders

    collection = index_folder(api, user, facts)
    settings.TRITON_URL = "127.0.0.1:9"
    reset_embedders()

    response = api.post(
        "/api/v2/search",
        {"query": "an uncached whale question", "collections": [str(collection.pk)]},
        format="json",
    )
    assert response.status_code == 503
    assert "embedding service is unavailable" in response.json()["error"]["message"]
    assert paths(search(api, [collection], "whale", mode="keyword")) == ["ocean.txt"]

"""Search over indexed collections."""

from __future__ import annotations

import math
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from semantik.collections.models import Collection
from semantik.documents.services import source_add, source_index
from semantik.inference.runtime import reset_embedders
from semantik.search import views
from tests.conftest import access_token_for

pytestmark = pytest.mark.django_db(transaction=True)

PASSAGES = {
    "ocean.txt": "The blue whale is the largest animal ever known to have lived on Earth.",
    "kitchen.txt": "Knead the bread dough for ten minutes, then let it rise in a warm place.",
    "space.txt": "Jupiter is a gas giant with a great red spot, a storm larger than Earth.",
    # Close in meaning to the identifier below, yet without it.
    "models.txt": "To embed a query, look up the collection's embedding model and load its embedder once.",
    # Holds the rare identifier, among words about something else entirely.
    "changelog.txt": (
        "Release notes for 2.4: the billing export is twice as fast, invoices render as PDF with the "
        "company logo, dark mode arrives in the settings page, and a socket leak in get_embedder is fixed."
    ),
}
IDENTIFIER = "get_embedder"
PARAPHRASE = "huge sea mammal"  # the blue whale, in words that no passage uses
BOTH = f"{IDENTIFIER} {PARAPHRASE}"


def index_folder(api, user, folder, **collection):  # type: ignore[no-untyped-def]
    body = api.post("/api/v2/collections", {"name": "Facts", **collection}, format="json").json()
    found = Collection.objects.get(pk=body["id"])
    source_index(str(source_add(collection=found, path=str(folder), user=user).id))
    return found


@pytest.fixture
def indexed(api, user, models, documents_root, triton):  # type: ignore[no-untyped-def]
    for name, text in PASSAGES.items():
        (documents_root / name).write_text(text)
    return index_folder(api, user, documents_root)


def search(api, collections, query, **options):  # type: ignore[no-untyped-def]
    """The response body of a search that must succeed."""
    ids = [str(c.pk) for c in collections]
    response = api.post("/api/v2/search", {"query": query, "collections": ids, **options}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def paths(body) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["path"] for r in body["results"]]


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
    assert results[0]["scores"] == {
        "semantic": results[0]["score"],
        "keyword": None,
        "fused": None,
        "rerank": None,
    }
    assert response.json()["mode"] == "semantic" and response.json()["fusion"] is None


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


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"mode": "fuzzy"}, "mode"),
        ({"mode": "hybrid", "fusion": "sum"}, "fusion"),
        ({"fusion": "rrf"}, "fusion"),  # fusion means nothing outside hybrid mode
        ({"mode": "keyword", "weights": {"keyword": 2}}, "weights"),
        ({"mode": "hybrid", "weights": {"dense": 2}}, "weights"),
        ({"mode": "hybrid", "weights": {"keyword": 0}}, "weights"),
        ({"mode": "hybrid", "weights": {"keyword": -1}}, "weights"),
        ({"mode": "hybrid", "weights": [1, 2]}, "weights"),
        ({"score_threshold": 1.5}, "score_threshold"),
        ({"mode": "keyword", "score_threshold": 0.2}, "score_threshold"),  # BM25 has no cosine
    ],
)
def test_invalid_search_options_are_400_naming_the_field(api, user, options, field):  # type: ignore[no-untyped-def]
    body = {"query": "whale", "collections": [str(uuid.uuid4())], **options}
    response = api.post("/api/v2/search", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["details"], error
    assert error["message"].startswith(f"{field}:")


def test_keyword_search_finds_a_rare_identifier_that_semantic_search_misses(api, indexed):  # type: ignore[no-untyped-def]
    keyword = search(api, [indexed], IDENTIFIER, mode="keyword", k=5)
    semantic = search(api, [indexed], IDENTIFIER, k=1)

    assert keyword["mode"] == "keyword" and keyword["fusion"] is None
    # The whole identifier is rare; models.txt matches only its common part (embedder).
    assert paths(keyword) == ["changelog.txt", "models.txt"]
    top = keyword["results"][0]
    assert top["scores"]["semantic"] is None and top["scores"]["fused"] is None
    assert top["score"] == top["scores"]["keyword"] > keyword["results"][1]["score"] > 0
    assert paths(semantic) == ["models.txt"]


def test_semantic_search_finds_a_paraphrase_that_keyword_search_misses(api, indexed):  # type: ignore[no-untyped-def]
    assert paths(search(api, [indexed], PARAPHRASE, k=1)) == ["ocean.txt"]
    assert search(api, [indexed], PARAPHRASE, mode="keyword")["results"] == []


@pytest.mark.parametrize("fusion", ["rrf", "dbsf"])
def test_hybrid_search_finds_both_the_identifier_and_the_paraphrase(api, indexed, fusion):  # type: ignore[no-untyped-def]
    body = search(api, [indexed], BOTH, mode="hybrid", fusion=fusion, k=3)

    assert body["mode"] == "hybrid" and body["fusion"] == fusion
    by_path = {r["path"]: r for r in body["results"]}
    assert {"ocean.txt", "changelog.txt"} <= set(by_path)
    assert by_path["ocean.txt"]["scores"]["keyword"] is None  # found by meaning alone
    assert by_path["ocean.txt"]["scores"]["semantic"] > 0.3
    assert by_path["changelog.txt"]["scores"]["keyword"] > 0
    for result in body["results"]:
        assert result["score"] == result["scores"]["fused"]
    assert [r["score"] for r in body["results"]] == sorted(
        (r["score"] for r in body["results"]), reverse=True
    )


def expected_fusion(semantic, keyword, fusion, weights):  # type: ignore[no-untyped-def]
    """Fused scores by (collection, document, chunk), computed from the two single-mode searches."""

    def key(result):  # type: ignore[no-untyped-def]
        return result["collection_id"], result["document_id"], result["chunk_index"]

    fused: dict[tuple[str, str, int], float] = {}
    for results, weight in ((semantic, weights["semantic"]), (keyword, weights["keyword"])):
        scores = [r["score"] for r in results]
        mean = sum(scores) / len(scores)
        std = math.sqrt(sum((s - mean) ** 2 for s in scores) / (len(scores) - 1))
        for rank, result in enumerate(results, start=1):
            if fusion == "rrf":
                value = weight / (59 + rank)  # ranks from 0, as Qdrant counts them
            else:
                value = weight * (result["score"] - (mean - 3 * std)) / (6 * std)
            fused[key(result)] = fused.get(key(result), 0.0) + value
    return fused, key


@pytest.mark.parametrize("fusion", ["rrf", "dbsf"])
@pytest.mark.parametrize("weights", [{"semantic": 1.0, "keyword": 1.0}, {"semantic": 0.5, "keyword": 2.0}])
def test_hybrid_scores_are_each_retrievers_own_scores_fused(api, indexed, fusion, weights):  # type: ignore[no-untyped-def]
    # k=5 gives 20 candidates per retriever: more than the corpus, so the lists are complete.
    semantic = search(api, [indexed], BOTH, k=20)["results"]
    keyword = search(api, [indexed], BOTH, mode="keyword", k=20)["results"]
    hybrid = search(api, [indexed], BOTH, mode="hybrid", fusion=fusion, weights=weights, k=5)["results"]

    fused, key = expected_fusion(semantic, keyword, fusion, weights)
    assert [key(r) for r in hybrid] == sorted(fused, key=lambda k: fused[k], reverse=True)[:5]
    own = {
        "semantic": {key(r): r["score"] for r in semantic},
        "keyword": {key(r): r["score"] for r in keyword},
    }
    for result in hybrid:
        assert result["scores"]["fused"] == pytest.approx(fused[key(result)])
        for retriever in ("semantic", "keyword"):
            assert result["scores"][retriever] == pytest.approx(own[retriever].get(key(result)))


def test_hybrid_weights_move_the_ranking_toward_a_retriever(api, indexed):  # type: ignore[no-untyped-def]
    def top(weights):  # type: ignore[no-untyped-def]
        return paths(search(api, [indexed], BOTH, mode="hybrid", fusion="dbsf", weights=weights, k=1))

    assert top({"semantic": 4}) == ["ocean.txt"]
    assert top({"keyword": 4}) == ["changelog.txt"]


def test_score_threshold_drops_semantic_hits_below_the_cosine(api, indexed):  # type: ignore[no-untyped-def]
    body = search(api, [indexed], PARAPHRASE, k=5, score_threshold=0.5)
    assert paths(body) == ["ocean.txt"]
    assert body["results"][0]["scores"]["semantic"] >= 0.5


@pytest.mark.parametrize("fusion", ["rrf", "dbsf"])
def test_score_threshold_applies_to_the_cosine_before_fusion_never_to_fused_scores(api, indexed, fusion):  # type: ignore[no-untyped-def]
    body = search(api, [indexed], BOTH, mode="hybrid", fusion=fusion, k=5, score_threshold=0.4)

    by_path = {r["path"]: r for r in body["results"]}
    # Only ocean.txt has a cosine of 0.4 or more; the keyword hits stay, with no semantic score.
    assert set(by_path) == {"ocean.txt", "changelog.txt", "models.txt"}
    assert by_path["ocean.txt"]["scores"]["semantic"] >= 0.4
    assert by_path["changelog.txt"]["scores"]["semantic"] is None
    assert by_path["models.txt"]["scores"]["semantic"] is None
    if fusion == "rrf":
        assert all(r["score"] < 0.4 for r in body["results"])  # fused scores below it, yet kept


def test_hybrid_search_of_only_stop_words_runs_as_semantic_and_says_so(api, indexed):  # type: ignore[no-untyped-def]
    body = search(api, [indexed], "what is it?", mode="hybrid", k=2)
    assert body["mode"] == "semantic" and body["fusion"] is None
    assert all(
        r["scores"]["keyword"] is None and r["score"] == r["scores"]["semantic"] for r in body["results"]
    )


def test_keyword_search_spans_collections_of_different_models_without_the_model(  # type: ignore[no-untyped-def]
    api, user, indexed, documents_root, settings
):
    int8 = index_folder(api, user, documents_root, name="Facts int8", embedding_model="all-minilm-l6-v2-int8")
    # Keyword search embeds nothing: it works with the inference service gone.
    settings.TRITON_URL = "127.0.0.1:9"
    reset_embedders()

    body = search(api, [indexed, int8], IDENTIFIER, mode="keyword", k=10)

    changelog = [r for r in body["results"] if r["path"] == "changelog.txt"]
    assert {r["collection_id"] for r in changelog} == {str(indexed.pk), str(int8.pk)}
    assert changelog[0]["score"] == pytest.approx(changelog[1]["score"])


def test_keyword_search_never_returns_another_users_chunks(  # type: ignore[no-untyped-def]
    api, user, client_for, make_user, models, documents_root, triton
):
    mine, theirs = documents_root / "alice", documents_root / "bob"
    mine.mkdir()
    theirs.mkdir()
    (mine / "notes.txt").write_text("The blue whale is the largest animal ever known.")
    (theirs / "secret.txt").write_text("The vault code is bob_vault_token_91, under the whale poster.")
    bob = make_user("bob")
    alice_collection = index_folder(api, user, mine)
    bob_collection = index_folder(client_for(bob), bob, theirs)

    for mode in ("keyword", "hybrid"):
        body = search(api, [alice_collection], "bob_vault_token_91 whale", mode=mode, k=10)
        assert paths(body) == ["notes.txt"]
        assert {r["collection_id"] for r in body["results"]} == {str(alice_collection.pk)}
        response = api.post(
            "/api/v2/search",
            {"query": "bob_vault_token_91", "collections": [str(bob_collection.pk)], "mode": mode},
            format="json",
        )
        assert response.status_code == 404
    # Bob's own search does find it: the vectors are there, only the owner reaches them.
    assert paths(search(client_for(bob), [bob_collection], "bob_vault_token_91", mode="keyword")) == [
        "secret.txt"
    ]


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


def test_a_search_waiting_on_its_engines_does_not_hold_up_the_next_one(live_server_asgi, user, monkeypatch):  # type: ignore[no-untyped-def]
    # The service is replaced (the one stand-in here): the first search waits until a second one
    # has run, as a search waits for Qdrant or ONNX Runtime. Were searches answered one at a
    # time, the second could not start before the first gave up waiting.
    first_waiting, second_ran = threading.Event(), threading.Event()

    def service(*, user, collection_ids, request):  # type: ignore[no-untyped-def]
        if request.query == "second":
            second_ran.set()
            return {"results": []}
        first_waiting.set()
        return {"results": [], "second_ran_meanwhile": second_ran.wait(timeout=20)}

    monkeypatch.setattr(views, "search", service)
    headers = {"Authorization": f"Bearer {access_token_for(user)}"}

    def post(query: str) -> dict:  # type: ignore[type-arg]
        response = httpx.post(
            f"{live_server_asgi.url}/api/v2/search",
            json={"query": query, "collections": [str(uuid.uuid4())]},
            headers=headers,
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return response.json()

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(post, "first")
        assert first_waiting.wait(timeout=20)
        post("second")
        assert first.result()["second_ran_meanwhile"] is True

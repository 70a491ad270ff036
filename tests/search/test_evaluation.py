"""Quality evaluation: the metric math on hand-computed cases, and reports that match the searches."""

from __future__ import annotations

import io
import json
import math

import pytest
from django.core.management import call_command

from semantik.documents.models import Document
from semantik.search.evaluation import dcg, ndcg, recall, reciprocal_rank
from tests.search.test_views import PASSAGES, index_folder, search

LOG2_3, LOG2_5 = math.log2(3), math.log2(5)


def test_dcg_discounts_each_relevant_position_by_log2_of_position_plus_one() -> None:
    assert dcg([True, False, True], 10) == pytest.approx(
        1 + 1 / 2
    )  # positions 1 and 3: 1/log2(2) + 1/log2(4)
    assert dcg([False, True, False, True], 10) == pytest.approx(1 / LOG2_3 + 1 / LOG2_5)
    assert dcg([False, True, False, True], 3) == pytest.approx(1 / LOG2_3)  # the cut-off counts


def test_ndcg_is_dcg_over_the_ideal_rankings_dcg() -> None:
    # Two relevant documents found at 2 and 4; ideally at 1 and 2.
    assert ndcg([False, True, False, True], 2) == pytest.approx((1 / LOG2_3 + 1 / LOG2_5) / (1 + 1 / LOG2_3))
    assert ndcg([False, True, False, True], 2) == pytest.approx(0.6509, abs=1e-4)
    # Three relevant, one found, first: 1 / (1 + 1/log2(3) + 1/log2(4)).
    assert ndcg([True, False], 3) == pytest.approx(0.4693, abs=1e-4)
    assert ndcg([True, True], 2) == 1.0
    assert ndcg([False] * 10, 2) == 0.0
    assert ndcg([], 0) == 0.0
    # More relevant documents than the cut-off: the ideal is ten relevant in a row.
    assert ndcg([True] * 10, 25) == pytest.approx(1.0)
    assert ndcg([False] * 10 + [True], 1) == 0.0  # found only at 11, beyond nDCG@10


def test_recall_counts_the_relevant_documents_found_within_k() -> None:
    assert recall([False, True, False, True], 2, 3) == pytest.approx(0.5)
    assert recall([False, True, False, True], 2, 4) == pytest.approx(1.0)
    assert recall([True], 4, 10) == pytest.approx(0.25)
    assert recall([], 0, 10) == 0.0


def test_reciprocal_rank_is_one_over_the_first_relevant_position() -> None:
    assert reciprocal_rank([False, False, True, True]) == pytest.approx(1 / 3)
    assert reciprocal_rank([True]) == 1.0
    assert reciprocal_rank([False, False]) == 0.0


LABELLED = [
    {"query": "what is the biggest creature in the sea?", "relevant": ["ocean.txt"]},
    {"query": "get_embedder", "relevant": ["changelog.txt", "models.txt"]},
    {"query": "storms on gas giants", "relevant": ["space.txt", "missing.txt"]},
    {"query": "nothing of ours", "relevant": ["missing.txt"]},
]


@pytest.fixture
def indexed(api, user, models, documents_root, triton):  # type: ignore[no-untyped-def]
    for name, text in PASSAGES.items():
        (documents_root / name).write_text(text)
    return index_folder(api, user, documents_root)


def expected_run(api, collection, mode, k):  # type: ignore[no-untyped-def]
    """The run's figures computed by hand from plain searches: documents at their first chunk."""
    totals = [0.0, 0.0, 0.0]
    scored = LABELLED[:3]
    for labelled in scored:
        results = search(api, [collection], labelled["query"], mode=mode, limit=50)["results"]
        ranking: list[str] = []
        for result in results:
            if result["path"] not in ranking:
                ranking.append(result["path"])
        relevant = [r for r in labelled["relevant"] if r != "missing.txt"]  # not in the collection
        found = [path in relevant for path in ranking]
        totals[0] += ndcg(found, len(relevant))
        totals[1] += recall(found, len(relevant), k)
        totals[2] += reciprocal_rank(found)
    return [round(t / len(scored), 4) for t in totals]


@pytest.mark.django_db(transaction=True)
def test_the_evaluation_api_scores_each_mode_as_the_searches_rank(api, indexed):  # type: ignore[no-untyped-def]
    body = {
        "collections": [str(indexed.pk)],
        "queries": LABELLED,
        "modes": ["semantic", "keyword", "hybrid"],
        "k": 3,
    }
    response = api.post("/api/v2/search/evaluate", body, format="json")
    assert response.status_code == 200, response.json()
    report = response.json()

    assert report["k"] == 3 and report["queries"] == 3
    assert report["skipped"] == ["nothing of ours"] and report["unmatched"] == ["missing.txt"]
    assert [(r["mode"], r["rerank"], r["reranker"]) for r in report["runs"]] == [
        ("semantic", False, None),
        ("keyword", False, None),
        ("hybrid", False, None),
    ]
    for run in report["runs"]:
        assert [run["ndcg_at_10"], run["recall_at_k"], run["mrr"]] == pytest.approx(
            expected_run(api, indexed, run["mode"], 3), abs=1e-4
        )
        assert run["queries"] == 3 and run["failed"] == 0 and run["mean_ms"] > 0
    keyword = report["runs"][1]
    assert keyword["mrr"] < 1  # "storms on gas giants" shares no word with space.txt


@pytest.mark.django_db(transaction=True)
def test_a_document_in_two_collections_counts_once(api, user, indexed, documents_root):  # type: ignore[no-untyped-def]
    again = index_folder(api, user, documents_root, name="again")
    body = {
        "collections": [str(indexed.pk), str(again.pk)],
        "queries": [{"query": "what is the biggest creature in the sea?", "relevant": ["ocean.txt"]}],
        "modes": ["semantic"],
    }
    (run,) = api.post("/api/v2/search/evaluate", body, format="json").json()["runs"]
    # ocean.txt is first in both collections: found once, at rank 1, and nothing is missing.
    assert (run["ndcg_at_10"], run["recall_at_k"], run["mrr"]) == (1.0, 1.0, 1.0)


@pytest.mark.django_db(transaction=True)
def test_relevant_documents_may_be_named_by_id_or_absolute_path(api, indexed):  # type: ignore[no-untyped-def]
    ocean = Document.objects.get(relative_path="ocean.txt")
    for entry in (str(ocean.pk), ocean.path):
        body = {
            "collections": [str(indexed.pk)],
            "queries": [{"query": "what is the biggest creature in the sea?", "relevant": [entry]}],
            "modes": ["semantic"],
        }
        report = api.post("/api/v2/search/evaluate", body, format="json").json()
        assert report["queries"] == 1 and report["runs"][0]["mrr"] == 1.0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"modes": ["fuzzy"]}, "modes"),
        ({"rerank": ["no-such-reranker"]}, "rerank"),
        ({"rerank": [1]}, "rerank"),
        ({"queries": [{"query": "x", "relevant": []}]}, "queries"),
        ({"k": 0}, "k"),
    ],
)
def test_invalid_evaluations_are_400_naming_the_field(api, indexed, options, field):  # type: ignore[no-untyped-def]
    body = {"collections": [str(indexed.pk)], "queries": LABELLED, **options}
    response = api.post("/api/v2/search/evaluate", body, format="json")
    assert response.status_code == 400 and field in response.json()["error"]["details"]


@pytest.mark.django_db(transaction=True)
def test_reranking_with_the_default_needs_a_collection_default(api, indexed):  # type: ignore[no-untyped-def]
    body = {"collections": [str(indexed.pk)], "queries": LABELLED, "rerank": [False, True]}
    response = api.post("/api/v2/search/evaluate", body, format="json")
    assert response.status_code == 400 and "rerank" in response.json()["error"]["details"]


@pytest.mark.django_db(transaction=True)
def test_someone_elses_collection_cannot_be_evaluated(api, client_for, make_user, indexed):  # type: ignore[no-untyped-def]
    body = {"collections": [str(indexed.pk)], "queries": LABELLED}
    assert (
        client_for(make_user("mallory")).post("/api/v2/search/evaluate", body, format="json").status_code
        == 404
    )


@pytest.mark.django_db(transaction=True)
def test_the_evaluate_command_reports_what_the_api_does(api, indexed, tmp_path):  # type: ignore[no-untyped-def]
    labelled = tmp_path / "labelled.json"
    labelled.write_text(json.dumps({"queries": LABELLED, "modes": ["keyword", "hybrid"], "k": 3}))
    out = io.StringIO()

    call_command("evaluate", str(labelled), "--collection", str(indexed.pk), "--json", stdout=out)

    report = json.loads(out.getvalue())
    body = {"collections": [str(indexed.pk)], "queries": LABELLED, "modes": ["keyword", "hybrid"], "k": 3}
    expected = api.post("/api/v2/search/evaluate", body, format="json").json()
    for run in (*report["runs"], *expected["runs"]):
        run.pop("mean_ms")
    assert report == expected

    table = io.StringIO()
    call_command("evaluate", str(labelled), "--collection", str(indexed.pk), stdout=table)
    lines = table.getvalue().splitlines()
    assert lines[0].startswith("3 queries (1 skipped") and "nDCG@10" in lines[1]
    assert [line.split()[0] for line in lines[2:]] == ["keyword", "hybrid"]


@pytest.mark.django_db(transaction=True)
def test_reranker_settings_run_side_by_side_and_say_how_often_the_reranker_ran(  # type: ignore[no-untyped-def]
    api, user, reranker, documents_root
):
    for name, text in PASSAGES.items():
        (documents_root / name).write_text(text)
    collection = index_folder(api, user, documents_root)
    api.patch(f"/api/v2/collections/{collection.pk}", {"default_reranker": reranker}, format="json")
    body = {
        "collections": [str(collection.pk)],
        "queries": LABELLED,
        "modes": ["hybrid"],
        "rerank": [False, True],
    }

    runs = api.post("/api/v2/search/evaluate", body, format="json").json()["runs"]

    assert [(r["rerank"], r["reranker"], r["reranked"]) for r in runs] == [
        (False, None, 0),
        (True, reranker, 3),
    ]
    # The tiny cross-encoder has random weights: it reorders, so its figures differ from the plain run's.
    assert (runs[0]["ndcg_at_10"], runs[0]["mrr"]) != (runs[1]["ndcg_at_10"], runs[1]["mrr"])

"""Rank fusion on examples computed by hand."""

from __future__ import annotations

import pytest

from semantik.search.fusion import RRF_K, dbsf, rrf


def ordered(fused: dict[str, float]) -> list[str]:
    return sorted(fused, key=lambda item: fused[item], reverse=True)


def test_rrf_sums_one_over_k_plus_rank_from_zero_over_the_lists_holding_an_item() -> None:
    semantic = ["a", "b", "c"]
    keyword = ["c", "d", "a"]

    fused = rrf([semantic, keyword], [1.0, 1.0])

    assert RRF_K == 60
    assert fused == pytest.approx(
        {
            "a": 1 / 60 + 1 / 62,  # 0.032796
            "b": 1 / 61,  # 0.016393
            "c": 1 / 62 + 1 / 60,  # 0.032796, a tie with a
            "d": 1 / 61,
        }
    )
    # Found by both retrievers beats found by one, whatever the rank there.
    assert set(ordered(fused)[:2]) == {"a", "c"}


def test_rrf_weights_scale_each_lists_contribution() -> None:
    semantic = ["a", "b"]
    keyword = ["b", "a"]

    even = rrf([semantic, keyword], [1.0, 1.0])
    keyword_heavy = rrf([semantic, keyword], [1.0, 3.0])

    assert even["a"] == pytest.approx(even["b"])
    assert keyword_heavy == pytest.approx({"a": 1 / 60 + 3 / 61, "b": 1 / 61 + 3 / 60})
    assert ordered(keyword_heavy) == ["b", "a"]
    assert ordered(rrf([semantic, keyword], [3.0, 1.0])) == ["a", "b"]


def test_rrf_with_a_smaller_k_favours_top_ranks_more() -> None:
    fused = rrf([["a", "b", "c"], ["c"]], [1.0, 1.0], k=1)
    assert fused == pytest.approx({"a": 1 / 1, "b": 1 / 2, "c": 1 / 3 + 1 / 1})
    assert ordered(fused) == ["c", "a", "b"]


def test_dbsf_maps_mean_plus_minus_three_std_to_zero_and_one_then_sums() -> None:
    # Cosines: mean 0.6, sample std 0.2, so [0.0, 1.2] maps to [0, 1].
    semantic = [("a", 0.8), ("b", 0.6), ("c", 0.4)]
    # BM25: mean 6, sample std √32 = 5.657, so [-10.97, 22.97] maps to [0, 1].
    keyword = [("c", 10.0), ("d", 2.0)]

    fused = dbsf([semantic, keyword], [1.0, 1.0])

    low, high = 6 - 3 * 32**0.5, 6 + 3 * 32**0.5
    assert fused == pytest.approx(
        {
            "a": 0.8 / 1.2,  # 0.6667
            "b": 0.6 / 1.2,  # 0.5
            "c": 0.4 / 1.2 + (10 - low) / (high - low),  # 0.3333 + 0.6179 = 0.9512
            "d": (2 - low) / (high - low),  # 0.3821
        }
    )
    assert ordered(fused) == ["c", "a", "b", "d"]


def test_dbsf_weights_multiply_the_normalised_scores() -> None:
    # With two scores the sample std is |x1 − x2| / √2, so the higher maps to 0.5 + √2/12 and
    # the lower to 0.5 − √2/12 in either list, whatever its scale.
    semantic = [("a", 0.9), ("b", 0.5)]
    keyword = [("b", 12.0), ("a", 4.0)]
    high, low = 0.5 + 2**0.5 / 12, 0.5 - 2**0.5 / 12

    even = dbsf([semantic, keyword], [1.0, 1.0])
    semantic_heavy = dbsf([semantic, keyword], [2.0, 1.0])

    assert even == pytest.approx({"a": high + low, "b": low + high})
    assert semantic_heavy == pytest.approx({"a": 2 * high + low, "b": 2 * low + high})
    assert ordered(semantic_heavy) == ["a", "b"]
    assert ordered(dbsf([semantic, keyword], [1.0, 2.0])) == ["b", "a"]


def test_dbsf_gives_a_lone_or_flat_list_one_half() -> None:
    assert dbsf([[("a", 0.3)], [("b", 7.0), ("c", 7.0)]], [1.0, 1.0]) == {"a": 0.5, "b": 0.5, "c": 0.5}
    assert dbsf([[], [("b", 1.0)]], [1.0, 1.0]) == {"b": 0.5}


@pytest.mark.parametrize("fuse", [rrf, dbsf])
def test_fusion_refuses_mismatched_or_non_positive_weights(fuse) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        fuse([[], []], [1.0])
    with pytest.raises(ValueError):
        fuse([[], []], [1.0, 0.0])

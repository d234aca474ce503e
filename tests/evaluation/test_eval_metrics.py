"""Retrieval metrics: hand-computed values, P_all@N vs P@k, ties, zero-relevant queries, exclusions."""

from __future__ import annotations

import numpy as np
import pytest

from mri_search.evaluation import (
    average_precision, evaluate, evaluate_lists, evaluate_ranked, interpolated_precision, metric_names, ndcg_at_k,
    p_all_at_n, precision_at_k, rank, recall_at_k,
)


def test_average_precision_by_hand():
    ranked = np.array([[1, 0, 1, 0, 0],   # relevant at ranks 1 and 3 of 2 -> (1 + 2/3) / 2
                       [0, 1, 0, 0, 1]])  # ranks 2 and 5 -> (1/2 + 2/5) / 2
    ap = average_precision(ranked, [2, 2])
    np.testing.assert_allclose(ap, [(1 + 2 / 3) / 2, (1 / 2 + 2 / 5) / 2])
    # a third relevant item the (truncated) ranking never reaches adds precision 0, as in trec_eval
    np.testing.assert_allclose(average_precision(ranked[:1], [3]), [(1 + 2 / 3) / 3])


def test_p_all_differs_from_usual_precision():
    ranked = np.array([[1, 1, 1, 0, 1],    # top 3 all relevant
                       [1, 0, 1, 1, 1]])   # 2 of the top 3 relevant
    np.testing.assert_allclose(precision_at_k(ranked, 3), [1.0, 2 / 3])
    np.testing.assert_allclose(p_all_at_n(ranked, 3), [1.0, 0.0])
    np.testing.assert_allclose(p_all_at_n(ranked, 1), [1.0, 1.0])
    assert p_all_at_n(ranked, 10).tolist() == [0.0, 0.0]  # a ranking shorter than N cannot have N relevant on top
    ev = evaluate_ranked(ranked, [4, 4], ks=(3,))
    assert ev.summary()["P@3"] == pytest.approx(5 / 6)
    assert ev.summary()["P_all@3"] == pytest.approx(0.5)


def test_p_all_with_fewer_relevant_than_n_is_zero_and_counted():
    ranked = np.array([[1, 1, 0, 0], [1, 1, 1, 0]])
    ev = evaluate_ranked(ranked, [2, 3], ks=(1, 3))
    assert ev.per_query["P_all@3"].tolist() == [0.0, 1.0]
    assert ev.per_query["P_all@1"].tolist() == [1.0, 1.0]
    assert ev.fewer_relevant_than == {1: 0, 3: 1}


def test_recall_at_k_by_hand():
    ranked = np.array([[1, 0, 1, 1, 0]])
    assert [recall_at_k(ranked, [4], k)[0] for k in (1, 3, 5)] == [0.25, 0.5, 0.75]


def test_ndcg_by_hand():
    ranked = np.array([[0.0, 2.0, 1.0, 0.0]])
    ideal = np.array([[1.0, 2.0]])  # any order: the ideal ranking puts gain 2 first
    dcg = 2 / np.log2(3) + 1 / np.log2(4)
    idcg = 2 / np.log2(2) + 1 / np.log2(3)
    np.testing.assert_allclose(ndcg_at_k(ranked, ideal, 10), [dcg / idcg])
    np.testing.assert_allclose(ndcg_at_k(ranked, ideal, 1), [0.0])
    np.testing.assert_allclose(ndcg_at_k(np.array([[1, 1, 0]]), np.array([[1, 1]]), 10), [1.0])


def test_interpolated_precision_by_hand():
    curve = interpolated_precision(np.array([[1, 0, 1, 0, 0]]), [2], n_points=11)[0]
    np.testing.assert_allclose(curve, [1.0] * 6 + [2 / 3] * 5)  # recall <= 0.5 reached at rank 1; 1.0 at rank 3
    # precision rises after a miss: the interpolated value at low recall is the later, higher precision
    curve = interpolated_precision(np.array([[0, 1, 1, 1]]), [3], n_points=3)[0]
    np.testing.assert_allclose(curve, [0.75, 0.75, 0.75])
    assert interpolated_precision(np.array([[1, 0]]), [2], n_points=2)[0].tolist() == [1.0, 0.0]  # never reaches 1


def test_rank_breaks_ties_by_gallery_index():
    scores = np.array([[0.5, 0.9, 0.5, 0.9, 0.1], [0.0, 0.0, 0.0, 0.0, 0.0]])
    assert rank(scores).tolist() == [[1, 3, 0, 2, 4], [0, 1, 2, 3, 4]]
    assert rank(scores, k=3).tolist() == [[1, 3, 0], [0, 1, 2]]  # ties at the cut keep the lower index
    rel = np.array([[0, 0, 1, 0, 0], [0, 0, 0, 1, 0]], bool)  # ranks 4 and 4
    ev = evaluate(scores, rel)
    np.testing.assert_allclose(ev.per_query["mAP"], [0.25, 0.25])


def test_rank_top_k_is_a_prefix_of_the_stable_full_ranking():
    rng = np.random.default_rng(2)
    scores = rng.integers(0, 3, (15, 25)).astype(np.float64)  # many ties, also at every cut
    exclude = rng.random((15, 25)) < 0.5
    full = rank(scores, exclude=exclude)
    for i in range(15):
        kept = np.flatnonzero(~exclude[i])
        expected = kept[np.argsort(-scores[i, kept], kind="stable")]
        assert full[i].tolist() == expected.tolist() + [-1] * (25 - len(kept))
    for k in (1, 4, 12, 25, 99):
        assert (rank(scores, k=k, exclude=exclude) == full[:, :k]).all()


def test_evaluate_agrees_with_a_stable_argsort_on_ties_and_exclusions():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 4, (20, 60)).astype(np.float32)  # many ties
    rel = rng.random((20, 60)) < 0.3
    exclude = rng.random((20, 60)) < 0.2
    order = np.argsort(-scores, axis=1, kind="stable")
    ranked = np.take_along_axis(rel & ~exclude, order, 1)
    kept = ~np.take_along_axis(exclude, order, 1)
    dense = np.zeros((20, 60), bool)  # rankings with the excluded items dropped, order kept
    for i in range(20):
        dense[i, : kept[i].sum()] = ranked[i][kept[i]]
    expected = evaluate_ranked(dense, (rel & ~exclude).sum(1)).summary()
    got = evaluate(scores, rel, exclude=exclude).summary()
    assert got.keys() == expected.keys()
    for name in got:
        assert got[name] == pytest.approx(expected[name], abs=1e-12), name


def test_queries_without_relevant_items_are_excluded_and_counted():
    scores = np.array([[0.9, 0.1, 0.5], [0.9, 0.1, 0.5], [0.1, 0.2, 0.3]])
    rel = np.array([[1, 0, 0], [0, 0, 0], [1, 0, 0]], bool)
    ev = evaluate(scores, rel)
    assert (ev.n_queries, ev.n_scored, ev.n_without_relevant) == (3, 2, 1)
    assert ev.scored.tolist() == [True, False, True]
    assert all(len(v) == 2 for v in ev.per_query.values())
    assert ev.summary()["mAP"] == pytest.approx((1.0 + 1 / 3) / 2)
    assert list(ev.summary()) == metric_names()


def test_exclude_drops_items_from_ranking_and_relevant_set():
    # image-to-image: each query is also gallery item i and scores itself highest
    scores = np.array([[1.0, 0.2, 0.8, 0.5], [0.3, 1.0, 0.1, 0.9]])
    rel = np.array([[1, 0, 0, 1], [0, 1, 0, 0]], bool)  # query 1's only relevant item is itself
    own = np.eye(2, 4, dtype=bool)
    ev = evaluate(scores, rel, exclude=own)
    assert ev.n_without_relevant == 1
    np.testing.assert_allclose(ev.per_query["mAP"], [1 / 2])  # item 3 ranks 2nd behind item 2 once 0 is dropped
    assert rank(scores, exclude=own).tolist() == [[2, 3, 1, -1], [3, 0, 2, -1]]
    assert rank(scores, k=2, exclude=own).tolist() == [[2, 3], [3, 0]]


def test_graded_relevance_weights_ndcg_only():
    scores = np.array([[0.9, 0.8, 0.7, 0.6]])
    rel = np.array([[0, 1, 2, 0]])
    ev = evaluate(scores, rel, ks=(1, 3))
    s = ev.summary()
    assert s["mAP"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert s["nDCG@10"] == pytest.approx((1 / np.log2(3) + 2 / np.log2(4)) / (2 + 1 / np.log2(3)))


def test_evaluate_lists_matches_matrix_form():
    scores = np.array([[0.9, 0.8, 0.7], [0.1, 0.2, 0.3]])
    rel = np.array([[0, 1, 1], [1, 0, 0]], bool)
    ids = ["a", "b", "c"]
    lists = {"q0": ["a", "b", "c"], "q1": ["c", "b", "a"]}
    qrels = {"q0": {"b": 1, "c": 1}, "q1": {"a": 1, "b": 0}}
    got = evaluate_lists(lists, qrels).summary()
    expected = evaluate(scores, rel).summary()
    assert got == pytest.approx(expected)
    with pytest.raises(ValueError, match="twice"):
        evaluate_lists({"q0": ids + ["a"]}, qrels)


@pytest.mark.parametrize("call, match", [
    (lambda: evaluate(np.array([[np.nan, 1.0]]), np.array([[1, 0]])), "NaN"),
    (lambda: evaluate(np.ones((2, 3)), np.ones((3, 2))), "match"),
    (lambda: evaluate(np.ones((2, 3)), np.ones((2, 3)), exclude=np.ones((2, 3))), "bool"),
    (lambda: evaluate(np.ones((2, 3)), np.ones((2, 3)), ks=(0,)), "positive"),
    (lambda: evaluate_ranked(np.array([[2, 0]]), [1]), "ideal_gain"),
    (lambda: average_precision(np.array([[1, 1]]), [1]), "n_relevant"),
    (lambda: rank(np.ones((2, 3)), k=0), "k must"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()

"""TREC run and qrels files: round trip, independent re-scoring, id validation."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from mri_search.evaluation import evaluate
from mri_search.evaluation.trec import (
    qrels_from_relevance, read_qrels, read_run, run_from_scores, score_run, write_qrels, write_run,
)

QIDS = [f"q{i}" for i in range(12)]
GIDS = [f"scan-{j:03d}" for j in range(40)]


@pytest.fixture()
def case():
    rng = np.random.default_rng(5)
    scores = rng.standard_normal((12, 40))  # continuous: no ties, so every tool orders the run the same way
    rel = rng.random((12, 40)) < 0.15
    rel[0] = False  # one query without relevant items
    exclude = np.zeros((12, 40), bool)
    exclude[np.arange(12), np.arange(12)] = True  # queries are the first 12 gallery scans
    return scores, rel, exclude


@pytest.fixture()
def files(case, tmp_path):
    scores, rel, exclude = case
    run = write_run(tmp_path / "run.txt", run_from_scores(scores, QIDS, GIDS, exclude=exclude), tag="test")
    qrels = write_qrels(tmp_path / "qrels.txt", qrels_from_relevance(rel, QIDS, GIDS, exclude=exclude))
    return run, qrels


def test_round_trip_gives_the_same_scores(case, files):
    scores, rel, exclude = case
    run, qrels = read_run(files[0]), read_qrels(files[1])
    assert run == run_from_scores(scores, QIDS, GIDS, exclude=exclude)  # ids, order and exact scores
    assert qrels == {q: d for q, d in qrels_from_relevance(rel, QIDS, GIDS, exclude=exclude).items() if d}
    assert all(list(docs.values()) == sorted(docs.values(), reverse=True) for docs in run.values())
    expected = evaluate(scores, rel, exclude=exclude)
    got = score_run(*files)
    assert got.summary() == pytest.approx(expected.summary(), abs=1e-12)
    assert got.n_without_relevant == expected.n_without_relevant == 1
    assert got.fewer_relevant_than == expected.fewer_relevant_than


def test_independent_rescoring_gives_the_same_map(files):
    # parse the files directly, score each query with scikit-learn's average precision over its full ranking
    lines = [line.split() for line in files[0].read_text().splitlines()]
    relevant = {(q, d) for q, _, d, r in (line.split() for line in files[1].read_text().splitlines()) if int(r) > 0}
    aps = []
    for qid in QIDS:
        mine = [(d, float(s)) for q, _, d, _, s, _ in lines if q == qid]
        y_true = [(qid, d) in relevant for d, _ in mine]
        if any(y_true):
            aps.append(average_precision_score(y_true, [s for _, s in mine]))
    assert score_run(*files).summary()["mAP"] == pytest.approx(np.mean(aps), abs=1e-12)


def test_ranx_agrees(files):
    ranx = pytest.importorskip("ranx")
    expected = score_run(*files).summary()
    qrels, run = read_qrels(files[1]), read_run(files[0])
    run = {q: docs for q, docs in run.items() if q in qrels}  # ranx wants the same queries on both sides
    got = ranx.evaluate(ranx.Qrels(qrels), ranx.Run(run), ["map", "precision@5", "recall@10", "ndcg@10"])
    assert got["map"] == pytest.approx(expected["mAP"], abs=1e-6)
    assert got["precision@5"] == pytest.approx(expected["P@5"], abs=1e-6)
    assert got["recall@10"] == pytest.approx(expected["R@10"], abs=1e-6)
    assert got["ndcg@10"] == pytest.approx(expected["nDCG@10"], abs=1e-6)


def test_pytrec_eval_agrees(files):
    pytrec_eval = pytest.importorskip("pytrec_eval")
    run, qrels = read_run(files[0]), read_qrels(files[1])
    per_query = pytrec_eval.RelevanceEvaluator(qrels, {"map"}).evaluate(run)
    assert np.mean([v["map"] for v in per_query.values()]) == pytest.approx(score_run(run, qrels).summary()["mAP"])


def test_truncated_run_counts_unretrieved_relevant_as_zero(tmp_path):
    run = {"q": {"a": 3.0, "x": 2.0}}  # relevant a at rank 1; b and c never retrieved
    ev = score_run(run, {"q": {"a": 1, "b": 1, "c": 2}})
    assert ev.summary()["mAP"] == pytest.approx(1 / 3)
    assert ev.summary()["R@10"] == pytest.approx(1 / 3)
    top = run_from_scores(np.array([[0.1, 0.9, 0.5]]), ["q"], ["a", "b", "c"], k=2)
    assert top == {"q": {"b": 0.9, "c": 0.5}}


@pytest.mark.parametrize("bad", ["scan 1", "scan\t1", "", "a\nb"])
def test_ids_with_whitespace_are_refused(bad, tmp_path):
    with pytest.raises(ValueError, match="whitespace"):
        run_from_scores(np.ones((1, 2)), ["q"], ["ok", bad])
    with pytest.raises(ValueError, match="whitespace"):
        write_run(tmp_path / "run.txt", {bad: {"a": 1.0}})
    with pytest.raises(ValueError, match="whitespace"):
        write_qrels(tmp_path / "qrels.txt", {"q": {bad: 1}})


def test_malformed_files_and_values_are_refused(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("q Q0 a 1 0.5\n")
    with pytest.raises(ValueError, match="6 fields"):
        read_run(bad)
    bad.write_text("q Q0 a 1 0.5 t\nq Q0 a 2 0.4 t\n")
    with pytest.raises(ValueError, match="twice"):
        read_run(bad)
    bad.write_text("q 0 a high\n")
    with pytest.raises(ValueError, match="integer"):
        read_qrels(bad)
    with pytest.raises(ValueError, match="integer"):
        write_qrels(tmp_path / "q.txt", {"q": {"a": 0.5}})
    with pytest.raises(ValueError, match="integers"):
        qrels_from_relevance(np.array([[0.5]]), ["q"], ["a"])
    with pytest.raises(ValueError, match="duplicate"):
        run_from_scores(np.ones((1, 2)), ["q"], ["a", "a"])
    with pytest.raises(ValueError, match="ids for"):
        run_from_scores(np.ones((1, 2)), ["q", "r"], ["a", "b"])

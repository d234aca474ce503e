"""TREC run and qrels files, so ranx or trec_eval can re-score the benchmark's rankings.

Run file, one line per retrieved item: ``qid Q0 docid rank score tag`` (rank 1 is the best).
Qrels file, one line per judged item: ``qid 0 docid relevance`` (integer relevance, > 0 relevant).

In memory a run is ``{qid: {docid: score}}`` in rank order and qrels are ``{qid: {docid: relevance}}``: the dict
layout ranx and pytrec_eval take. Our reader orders a run by its rank column (then file order); trec_eval re-sorts by
score and breaks ties its own way, so it can disagree with us only where scores tie exactly. ``evaluate_lists`` scores
such ranked id lists with the metrics of ``metrics.evaluate``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from .metrics import DEFAULT_KS, Evaluation, evaluate_ranked
from .ranking import rank

log = logging.getLogger(__name__)

Run = dict[str, dict[str, float]]  # query id -> {gallery id: score}, best first
Qrels = dict[str, dict[str, int]]  # query id -> {gallery id: relevance}

_SPACE = re.compile(r"\s")


def check_id(value: object) -> str:
    """``value`` as a TREC id: a non-empty string without whitespace (the file format splits on it)."""
    if not isinstance(value, str) or not value or _SPACE.search(value):
        raise ValueError(f"TREC ids must be non-empty strings without whitespace; got {value!r} "
                         "(replace spaces, e.g. with '_')")
    return value


def _check_ids(ids: Sequence[str], n: int, what: str) -> list[str]:
    ids = [check_id(x) for x in ids]
    if len(ids) != n:
        raise ValueError(f"{what} has {len(ids)} ids for {n} rows/columns of the score matrix")
    if len(set(ids)) != n:
        raise ValueError(f"{what} holds duplicate ids")
    return ids


def run_from_scores(scores: np.ndarray, query_ids: Sequence[str], gallery_ids: Sequence[str], k: int | None = None,
                    *, exclude: np.ndarray | None = None) -> Run:
    """The top k of each query's ranking (default: all of it, which mAP over the full ranking needs).

    Ranking and tie-breaking are those of ``ranking.rank``; items in ``exclude`` are left out.
    """
    order = rank(scores, k, exclude=exclude)  # [Q, k] gallery indices, -1 padded
    qids = _check_ids(query_ids, order.shape[0], "query_ids")
    gids = _check_ids(gallery_ids, np.shape(scores)[1], "gallery_ids")
    scores = np.asarray(scores)
    return {qid: {gids[j]: float(scores[i, j]) for j in row if j >= 0} for i, (qid, row) in enumerate(zip(qids, order))}


def qrels_from_relevance(rel: np.ndarray, query_ids: Sequence[str], gallery_ids: Sequence[str], *,
                         exclude: np.ndarray | None = None) -> Qrels:
    """Qrels of the relevant (> 0) items of a [Q, G] relevance matrix, excluded items left out.

    Raises:
        ValueError: graded relevance that is not integer (the qrels format holds integers).
    """
    rel = np.asarray(rel)
    qids = _check_ids(query_ids, rel.shape[0], "query_ids")
    gids = _check_ids(gallery_ids, rel.shape[1], "gallery_ids")
    if not np.array_equal(rel, np.round(rel)):
        raise ValueError("qrels relevance must be integers; scale graded gains to integers first")
    mask = rel > 0 if exclude is None else (rel > 0) & ~np.asarray(exclude, dtype=bool)
    return {qid: {gids[j]: int(rel[i, j]) for j in np.flatnonzero(mask[i])} for i, qid in enumerate(qids)}


def write_run(path: str | Path, run: Mapping[str, Mapping[str, float]], tag: str = "mri-search") -> Path:
    """Write ``run`` (each query's items in rank order) as a TREC run file; returns the path."""
    check_id(tag)
    path = Path(path)
    with path.open("w", encoding="utf-8") as f:
        for qid, docs in run.items():
            check_id(qid)
            for r, (docid, score) in enumerate(docs.items(), start=1):
                f.write(f"{qid} Q0 {check_id(docid)} {r} {float(score)!r} {tag}\n")
    log.debug("wrote run of %d queries to %s", len(run), path)
    return path


def write_qrels(path: str | Path, qrels: Mapping[str, Mapping[str, int]]) -> Path:
    """Write ``qrels`` as a TREC qrels file; returns the path."""
    path = Path(path)
    with path.open("w", encoding="utf-8") as f:
        for qid, judged in qrels.items():
            check_id(qid)
            for docid, relevance in judged.items():
                if int(relevance) != relevance:
                    raise ValueError(f"query {qid!r}, item {docid!r}: qrels relevance must be an integer, "
                                     f"got {relevance!r}")
                f.write(f"{qid} 0 {check_id(docid)} {int(relevance)}\n")
    return path


def _lines(path: Path, n_fields: int, layout: str):
    with Path(path).open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != n_fields:
                raise ValueError(f"{path}:{n}: expected {n_fields} fields ({layout}), got {len(fields)}")
            yield n, fields


def read_run(path: str | Path) -> Run:
    """Read a TREC run file; each query's items ordered by the rank column, then by file order."""
    ranked: dict[str, list[tuple[int, str, float]]] = {}
    for n, (qid, _, docid, r, score, _tag) in _lines(Path(path), 6, "qid Q0 docid rank score tag"):
        try:
            ranked.setdefault(qid, []).append((int(r), docid, float(score)))
        except ValueError:
            raise ValueError(f"{path}:{n}: rank must be an integer and score a number; got {r!r}, {score!r}") from None
    run: Run = {}
    for qid, items in ranked.items():
        items.sort(key=lambda item: item[0])  # stable: equal ranks keep file order
        run[qid] = {docid: score for _, docid, score in items}
        if len(run[qid]) != len(items):
            raise ValueError(f"{path}: query {qid!r} lists a gallery id twice")
    return run


def read_qrels(path: str | Path) -> Qrels:
    """Read a TREC qrels file (``qid iteration docid relevance``; the iteration column is ignored)."""
    qrels: Qrels = {}
    for n, (qid, _, docid, relevance) in _lines(Path(path), 4, "qid 0 docid relevance"):
        judged = qrels.setdefault(qid, {})
        if docid in judged:
            raise ValueError(f"{path}:{n}: query {qid!r} judges {docid!r} twice")
        try:
            judged[docid] = int(relevance)
        except ValueError:
            raise ValueError(f"{path}:{n}: relevance must be an integer; got {relevance!r}") from None
    return qrels


def score_run(run: str | Path | Mapping[str, Mapping[str, float]], qrels: str | Path | Mapping[str, Mapping[str, int]],
              ks: Sequence[int] = DEFAULT_KS, *, ndcg_k: int = 10, pr_points: int = 11) -> Evaluation:
    """Re-score a run against qrels (either may be a file path) with the same metrics as ``evaluate``.

    Queries are the qrels' queries, then the run's others; those without a relevant item are counted and left out.
    A query missing from the run scores 0 (trec_eval's ``-c``).
    """
    run = read_run(run) if isinstance(run, (str, Path)) else run
    qrels = read_qrels(qrels) if isinstance(qrels, (str, Path)) else qrels
    return evaluate_lists(run, qrels, ks, ndcg_k=ndcg_k, pr_points=pr_points)


def evaluate_lists(ranked_ids: Mapping[str, Iterable[str]], qrels: Mapping[str, Mapping[str, float]],
                   ks: Sequence[int] = DEFAULT_KS, *, query_ids: Sequence[str] | None = None, ndcg_k: int = 10,
                   pr_points: int = 11) -> Evaluation:
    """Metrics of ranked id lists against qrels: the input form of TREC runs (``score_run`` reads files into it).

    Args:
        ranked_ids: query id -> gallery ids best first (a dict of id -> score iterates in insertion order).
        qrels: query id -> {gallery id: gain}; gains <= 0 are not relevant.
        ks: cut-offs of P_all@N, P@k and R@k.
        query_ids: queries to score, in this order; default the qrels' queries, then the run's other queries.
        ndcg_k: cut-off of nDCG.
        pr_points: recall levels of the precision-recall curve.
    """
    qids = list(query_ids) if query_ids is not None else list(qrels) + [q for q in ranked_ids if q not in qrels]
    lists = [list(ranked_ids.get(q, ())) for q in qids]
    ranked = np.zeros((len(qids), max((len(x) for x in lists), default=0)))
    ideal = np.zeros((len(qids), ndcg_k))
    n_rel = np.zeros(len(qids), np.int64)
    for i, (qid, docs) in enumerate(zip(qids, lists)):
        if len(set(docs)) != len(docs):
            raise ValueError(f"query {qid!r}: the ranking lists a gallery id twice")
        judged = qrels.get(qid, {})
        ranked[i, : len(docs)] = [max(judged.get(d, 0), 0) for d in docs]
        positive = sorted((g for g in judged.values() if g > 0), reverse=True)
        n_rel[i] = len(positive)
        ideal[i, : min(len(positive), ndcg_k)] = positive[:ndcg_k]
    return evaluate_ranked(ranked, n_rel, ideal, ks, ndcg_k=ndcg_k, pr_points=pr_points)

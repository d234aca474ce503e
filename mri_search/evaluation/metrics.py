"""Per-query retrieval metrics on ranked relevance, and ``evaluate`` over a query x gallery score matrix.

Every metric takes ``ranked_rel`` [Q, L]: the relevance (gain) of the item at each rank of each query's ranking,
best first; an item counts as relevant when its gain is > 0. ``n_relevant`` [Q] is the number of relevant items the
query has in the whole gallery, which the ranking may not all contain (a truncated TREC run). Metric names:

* ``mAP``: mean over queries of average precision over the full ranking; relevant items missing from a truncated
  ranking add precision 0 (as in trec_eval).
* ``P_all@N``: Decipher-MR's "precision@N": 1 if the top N results are ALL relevant, else 0. A query with fewer than
  N relevant items in the gallery cannot reach 1 and scores 0 (``Evaluation.fewer_relevant_than`` counts them).
* ``P@k`` (the usual precision: relevant items in the top k over k), ``R@k`` (over ``n_relevant``), ``nDCG@10``
  (linear gain, log2(rank + 1) discount, ideal DCG from the query's own gains, as in trec_eval and ranx).

Queries with no relevant item (after ``exclude``) are left out of every metric and counted
(``Evaluation.n_without_relevant``). Ties in the scores are broken by gallery index, lower first (a stable sort).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .ranking import CHUNK_ELEMENTS, check_scores, relevant_ranks

DEFAULT_KS = (1, 3, 5, 10)


def metric_names(ks: Sequence[int] = DEFAULT_KS, ndcg_k: int = 10) -> list[str]:
    """Names of the metrics ``evaluate`` reports, in report order: mAP, P_all@N, P@k, R@k, nDCG@k."""
    return (["mAP"] + [f"P_all@{k}" for k in ks] + [f"P@{k}" for k in ks] + [f"R@{k}" for k in ks]
            + [f"nDCG@{ndcg_k}"])


def _ranked(ranked_rel: np.ndarray) -> np.ndarray:
    ranked_rel = np.asarray(ranked_rel)
    if ranked_rel.ndim != 2:
        raise ValueError(f"ranked_rel must be [queries, ranks]; got shape {ranked_rel.shape}")
    return ranked_rel


def _n_rel(n_relevant: np.ndarray, ranked_rel: np.ndarray) -> np.ndarray:
    n_rel = np.asarray(n_relevant, dtype=np.int64)
    if n_rel.shape != (ranked_rel.shape[0],):
        raise ValueError(f"n_relevant must have one count per query ({ranked_rel.shape[0]}); got {n_rel.shape}")
    if np.any((ranked_rel > 0).sum(axis=1) > n_rel):
        raise ValueError("a ranking holds more relevant items than its query's n_relevant; count n_relevant over "
                         "the whole gallery, after exclusions")
    return n_rel


def _per_relevant(values: np.ndarray, n_rel: np.ndarray) -> np.ndarray:
    """values / n_rel, NaN where a query has no relevant item."""
    return np.divide(values, n_rel, out=np.full(len(n_rel), np.nan), where=n_rel > 0)


def _hits(ranked_rel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Relevant items of a ranking, row-major: (query row, 0-based rank, how many hits so far including this one)."""
    rows, cols = np.nonzero(ranked_rel > 0)
    nth = np.arange(1, len(rows) + 1) - np.searchsorted(rows, rows)  # searchsorted: index of the row's first hit
    return rows, cols, nth


def average_precision(ranked_rel: np.ndarray, n_relevant: np.ndarray) -> np.ndarray:
    """Average precision per query: mean, over the query's relevant items, of precision at each one's rank.

    Args:
        ranked_rel: [Q, L] gains in rank order (> 0 is relevant).
        n_relevant: [Q] relevant items per query in the gallery; unretrieved ones contribute 0.

    Returns:
        [Q] float64, NaN for a query without relevant items.
    """
    ranked_rel = _ranked(ranked_rel)
    n_rel = _n_rel(n_relevant, ranked_rel)
    rows, cols, nth = _hits(ranked_rel)
    return _per_relevant(np.bincount(rows, weights=nth / (cols + 1), minlength=len(n_rel)), n_rel)


def precision_at_k(ranked_rel: np.ndarray, k: int) -> np.ndarray:
    """[Q] usual precision@k: relevant items in the top k, over k (a ranking shorter than k still divides by k)."""
    return (_ranked(ranked_rel)[:, :k] > 0).sum(axis=1) / k


def recall_at_k(ranked_rel: np.ndarray, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """[Q] recall@k: relevant items in the top k over all the query's relevant items (NaN if it has none)."""
    ranked_rel = _ranked(ranked_rel)
    return _per_relevant((ranked_rel[:, :k] > 0).sum(axis=1), _n_rel(n_relevant, ranked_rel))


def p_all_at_n(ranked_rel: np.ndarray, n: int) -> np.ndarray:
    """[Q] Decipher-MR's precision@N: 1.0 if ALL of the top N are relevant, else 0.0 (also when fewer than N exist)."""
    ranked_rel = _ranked(ranked_rel)
    if ranked_rel.shape[1] < n:  # a ranking shorter than N cannot have N relevant results on top
        return np.zeros(ranked_rel.shape[0])
    return np.all(ranked_rel[:, :n] > 0, axis=1).astype(np.float64)


def ndcg_at_k(ranked_gain: np.ndarray, ideal_gain: np.ndarray, k: int = 10) -> np.ndarray:
    """[Q] nDCG@k with linear gain and a 1 / log2(rank + 1) discount.

    Args:
        ranked_gain: [Q, L] gains in rank order.
        ideal_gain: [Q, M] the gains of each query's relevant items in any order (padded with 0); the ideal DCG
            ranks them best first. Only the largest k per query matter.
        k: cut-off.

    Returns:
        [Q] float64, NaN where the ideal DCG is 0 (no relevant item).
    """
    ranked_gain = np.clip(_ranked(ranked_gain)[:, :k], 0, None)
    ideal = -np.sort(-np.clip(_ranked(ideal_gain), 0, None), axis=1)[:, :k]
    if len(ideal) != len(ranked_gain):
        raise ValueError(f"ideal_gain has {len(ideal)} queries, ranked_gain {len(ranked_gain)}")
    discount = 1.0 / np.log2(np.arange(2, k + 2))  # [k]
    dcg = ranked_gain @ discount[: ranked_gain.shape[1]]
    idcg = ideal @ discount[: ideal.shape[1]]
    return np.divide(dcg, idcg, out=np.full(len(dcg), np.nan), where=idcg > 0)


def interpolated_precision(ranked_rel: np.ndarray, n_relevant: np.ndarray, n_points: int = 11) -> np.ndarray:
    """[Q, n_points] interpolated precision at recall i / (n_points - 1), as trec_eval's ``iprec_at_recall``.

    Interpolated precision at recall r is the highest precision at any rank whose recall is >= r (0 if the ranking
    never reaches r). Averaged over queries it is the precision-recall curve.
    """
    ranked_rel = _ranked(ranked_rel)
    n_rel = _n_rel(n_relevant, ranked_rel)
    if n_points < 2:
        raise ValueError(f"n_points must be >= 2 (recall 0 and 1); got {n_points}")
    rows, cols, nth = _hits(ranked_rel)
    prec = nth / (cols + 1)
    # best precision at this hit or any later one of the same query: a reverse running max, kept inside each query by
    # lifting query q's values by 2 * (Q - 1 - q) (precisions lie in [0, 1]) so no query's max leaks into the next
    lift = 2.0 * (len(n_rel) - 1 - rows[::-1])
    best_after = (np.maximum.accumulate(prec[::-1] + lift) - lift)[::-1]
    levels = np.arange(n_points)  # recall level i / (n_points - 1), in integer arithmetic to avoid rounding
    need = np.maximum(1, -(-(levels[None, :] * n_rel[:, None]) // (n_points - 1)))  # [Q, P] hits to reach level
    first = np.searchsorted(rows, np.arange(len(n_rel)))  # [Q] index of each query's first hit
    n_hits = np.bincount(rows, minlength=len(n_rel))
    reached = need <= n_hits[:, None]
    out = np.zeros(need.shape)
    out[reached] = best_after[(first[:, None] + need - 1)[reached]]
    out[n_rel == 0] = np.nan
    return out


@dataclass(frozen=True)
class Evaluation:
    """Per-query metric values of one method on one query set."""

    per_query: dict[str, np.ndarray]  # metric name -> [n_scored] values of the scored queries, in query order
    scored: np.ndarray  # [Q] bool: queries with >= 1 relevant item; the others are left out of every metric
    fewer_relevant_than: dict[int, int]  # N -> scored queries with < N relevant items (their P_all@N is 0)
    pr_curve: np.ndarray  # [n_scored, P] interpolated precision at recall i / (P - 1)

    @property
    def n_queries(self) -> int:
        return int(len(self.scored))

    @property
    def n_scored(self) -> int:
        return int(self.scored.sum())

    @property
    def n_without_relevant(self) -> int:
        return self.n_queries - self.n_scored

    def summary(self) -> dict[str, float]:
        """Metric name -> mean over the scored queries (NaN if no query was scored)."""
        return {name: float(v.mean()) if len(v) else float("nan") for name, v in self.per_query.items()}


def evaluate_ranked(ranked_gain: np.ndarray, n_relevant: np.ndarray, ideal_gain: np.ndarray | None = None,
                    ks: Sequence[int] = DEFAULT_KS, *, ndcg_k: int = 10, pr_points: int = 11) -> Evaluation:
    """All metrics from rankings already in gain form.

    Args:
        ranked_gain: [Q, L] gain of the item at each rank (> 0 relevant), best first; L may be < the gallery size.
        n_relevant: [Q] relevant items per query in the whole gallery.
        ideal_gain: [Q, M] each query's relevant gains (any order, 0-padded) for nDCG; None for binary relevance.
        ks: cut-offs of P_all@N, P@k and R@k.
        ndcg_k: cut-off of nDCG.
        pr_points: recall levels of the interpolated precision-recall curve.
    """
    ranked_gain = _ranked(ranked_gain)
    n_rel = _n_rel(n_relevant, ranked_gain)
    ks = tuple(int(k) for k in ks)
    if not ks or min(ks) < 1 or ndcg_k < 1:
        raise ValueError(f"cut-offs must be positive integers; got ks={ks}, ndcg_k={ndcg_k}")
    if ideal_gain is None:
        if np.any((ranked_gain != 0) & (ranked_gain != 1)):
            raise ValueError("graded gains need ideal_gain (each query's relevant gains) for nDCG")
        ideal_gain = (np.arange(ndcg_k)[None, :] < n_rel[:, None]).astype(np.float64)  # binary: n_rel ones
    scored = n_rel > 0
    values = {"mAP": average_precision(ranked_gain, n_rel)}
    values |= {f"P_all@{k}": p_all_at_n(ranked_gain, k) for k in ks}
    values |= {f"P@{k}": precision_at_k(ranked_gain, k) for k in ks}
    values |= {f"R@{k}": recall_at_k(ranked_gain, n_rel, k) for k in ks}
    values[f"nDCG@{ndcg_k}"] = ndcg_at_k(ranked_gain, ideal_gain, ndcg_k)
    return Evaluation(per_query={name: v[scored] for name, v in values.items()}, scored=scored,
                      fewer_relevant_than={k: int(np.sum(scored & (n_rel < k))) for k in ks},
                      pr_curve=interpolated_precision(ranked_gain, n_rel, pr_points)[scored])


def _concat(parts: Sequence[Evaluation]) -> Evaluation:
    """One Evaluation from evaluations of consecutive query blocks (same metrics)."""
    if not parts:
        raise ValueError("nothing to concatenate")
    return Evaluation(per_query={m: np.concatenate([p.per_query[m] for p in parts]) for m in parts[0].per_query},
                      scored=np.concatenate([p.scored for p in parts]),
                      fewer_relevant_than={k: sum(p.fewer_relevant_than[k] for p in parts)
                                           for k in parts[0].fewer_relevant_than},
                      pr_curve=np.concatenate([p.pr_curve for p in parts]))


def evaluate(scores: np.ndarray, rel: np.ndarray, ks: Sequence[int] = DEFAULT_KS, *, exclude: np.ndarray | None = None,
             ndcg_k: int = 10, pr_points: int = 11) -> Evaluation:
    """Rank the gallery for each query by score and compute every metric.

    Args:
        scores: [Q, G] query x gallery similarity (higher is better); NaN is refused.
        rel: [Q, G] relevance: bool, or graded gains (> 0 relevant; the gains weight nDCG only).
        ks: cut-offs of P_all@N, P@k and R@k.
        exclude: [Q, G] bool, True for gallery items dropped from that query's ranking and relevant set (e.g. the
            query itself in image-to-image retrieval: ``np.eye(Q, dtype=bool)`` when queries are the gallery).
        ndcg_k: cut-off of nDCG.
        pr_points: recall levels of the precision-recall curve.

    Returns:
        Evaluation; ``.summary()`` gives metric name -> value, ``.per_query`` the values to bootstrap.
    """
    scores = check_scores(scores, exclude)
    rel = np.asarray(rel)
    if rel.shape != scores.shape:
        raise ValueError(f"rel must match scores {scores.shape}; got {rel.shape}")
    graded = rel.dtype != bool and bool(np.any((rel != 0) & (rel != 1)))
    n_q, n_g = scores.shape
    step = max(1, CHUNK_ELEMENTS // max(n_g, 1))  # query block: bounds the [block, G] temporaries
    parts = []
    for a in range(0, max(n_q, 1), step):
        block = slice(a, min(a + step, n_q))
        excl = None if exclude is None else exclude[block]
        relevant = rel[block] > 0 if excl is None else (rel[block] > 0) & ~excl
        rows, cols, ranks = relevant_ranks(scores[block], relevant, excl)
        gains = rel[block][rows, cols].astype(np.float64)
        ranked = np.zeros((len(relevant), n_g), np.float32 if not graded else np.float64)  # [B, G] gain at rank
        ranked[rows, ranks] = gains
        n_rel = np.bincount(rows, minlength=len(relevant))
        ideal = _ideal_gains(rows, gains, len(relevant), ndcg_k) if graded else None
        parts.append(evaluate_ranked(ranked, n_rel, ideal, ks, ndcg_k=ndcg_k, pr_points=pr_points))
    return _concat(parts)


def _ideal_gains(rows: np.ndarray, gains: np.ndarray, n_rows: int, k: int) -> np.ndarray:
    """[n_rows, k] each row's k largest gains, from (row, gain) pairs of its relevant items."""
    order = np.lexsort((-gains, rows))
    rows, gains = rows[order], gains[order]
    nth = np.arange(len(rows)) - np.searchsorted(rows, rows)
    keep = nth < k
    ideal = np.zeros((n_rows, k))
    ideal[rows[keep], nth[keep]] = gains[keep]
    return ideal

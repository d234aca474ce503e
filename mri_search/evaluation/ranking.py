"""Ranking a query x gallery score matrix: best score first, ties to the lower gallery index (a stable sort).

``rank`` returns each query's ranked gallery indices (for TREC runs and result lists); ``relevant_ranks`` returns only
the rank of each relevant item, which is all the metrics need and costs a value sort instead of an index sort.
Excluded items get a NaN sort key: numpy sorts NaN last, so they fall off the end of every ranking.
"""

from __future__ import annotations

import numpy as np

CHUNK_ELEMENTS = 1 << 23  # query blocks of about this many scores bound the [block, G] temporaries (~32 MB float32)


def check_scores(scores: np.ndarray, exclude: np.ndarray | None) -> np.ndarray:
    """``scores`` as a 2-D float array, refusing NaN and an ``exclude`` mask of another shape or dtype."""
    scores = np.asarray(scores)
    if scores.ndim != 2:
        raise ValueError(f"scores must be [queries, gallery]; got shape {scores.shape}")
    if not np.issubdtype(scores.dtype, np.floating):
        scores = scores.astype(np.float64)
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN; give those gallery items a very low score or exclude them instead")
    if exclude is not None and (np.shape(exclude) != scores.shape or np.asarray(exclude).dtype != bool):
        raise ValueError(f"exclude must be a bool array of the scores' shape {scores.shape}")
    return scores


def _sort_keys(scores: np.ndarray, exclude: np.ndarray | None) -> np.ndarray:
    """Ascending sort keys: -score, NaN for excluded items."""
    key = np.negative(scores)
    if exclude is not None:
        key[exclude] = np.nan
    return key


def rank(scores: np.ndarray, k: int | None = None, *, exclude: np.ndarray | None = None) -> np.ndarray:
    """Gallery indices of each query's ranking, best score first; ties go to the lower gallery index (stable sort).

    Args:
        scores: [Q, G] query x gallery similarity, higher is better; NaN is refused.
        k: keep the top k (default the whole gallery).
        exclude: [Q, G] bool, True for items dropped from that query's ranking.

    Returns:
        [Q, min(k, G)] int64; a query with fewer than k items left after ``exclude`` is padded with -1.
    """
    scores = check_scores(scores, exclude)
    n_q, n_g = scores.shape
    k = n_g if k is None else int(k)
    if k < 1:
        raise ValueError(f"k must be >= 1; got {k}")
    k = min(k, n_g)
    out = np.full((n_q, k), -1, np.int64)
    step = max(1, CHUNK_ELEMENTS // max(n_g, 1))
    for a in range(0, n_q, step):
        key = _sort_keys(scores[a : a + step], None if exclude is None else exclude[a : a + step])  # [B, G]
        if k == n_g:  # the whole ranking: a stable sort keeps ties in index order and puts excluded (NaN) last
            order = np.argsort(key, axis=1, kind="stable")
            order[np.isnan(np.take_along_axis(key, order, axis=1))] = -1
            out[a : a + len(key)] = order
            continue
        # top k: items at or above the k-th best key are candidates (ties at the cut included), then a stable sort;
        # a NaN k-th key means fewer than k items are left after exclusion
        kth = np.partition(key, k - 1, axis=1)[:, k - 1]  # [B]
        for i, row in enumerate(key):
            cand = np.flatnonzero(~np.isnan(row) if np.isnan(kth[i]) else row <= kth[i])
            top = cand[np.argsort(row[cand], kind="stable")][:k]
            out[a + i, : len(top)] = top
    return out


def relevant_ranks(scores: np.ndarray, relevant: np.ndarray, exclude: np.ndarray | None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """0-based rank of every relevant item in its query's ranking, without an index sort of the whole row.

    A value sort of each row (several times faster than a stable argsort) and a binary search give an item's rank as
    the number of items scored strictly higher; an item whose score others share then moves down past the tied items
    of lower gallery index, which is where a stable sort puts it.

    Returns:
        (row, gallery index, rank) of each relevant item, [R] each, row-major.
    """
    key = _sort_keys(scores, exclude)
    srt = np.sort(key, axis=1)  # [B, G]
    rows, cols = np.nonzero(relevant)
    ranks = np.empty(len(rows), np.int64)
    bounds = np.searchsorted(rows, np.arange(len(key) + 1))
    for r in range(len(key)):
        a, b = bounds[r], bounds[r + 1]
        if a == b:
            continue
        kv = key[r, cols[a:b]]
        order = np.argsort(kv)  # sorted needles make the binary searches much faster
        left = np.empty(b - a, np.int64)
        left[order] = np.searchsorted(srt[r], kv[order])
        nxt = np.minimum(left + 1, key.shape[1] - 1)
        tied = (left + 1 < key.shape[1]) & (srt[r, nxt] == kv)  # another item has the same score
        if tied.any():
            left[tied] += _ties_before(key[r], cols[a:b][tied])
        ranks[a:b] = left
    return rows, cols, ranks


def _ties_before(key: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """For items ``cols`` of one row: how many items with the same key have a lower index."""
    values = np.unique(key[cols])
    at = np.minimum(np.searchsorted(values, key), len(values) - 1)
    members = np.flatnonzero(values[at] == key)  # [T] every item sharing a tied key, ascending index
    group = np.searchsorted(values, key[members])  # which tied value each member has
    order = np.argsort(group, kind="stable")  # grouped by value, index order kept inside each group
    within = np.empty(len(members), np.int64)
    within[order] = np.arange(len(members)) - np.searchsorted(group[order], group[order])
    return within[np.searchsorted(members, cols)]

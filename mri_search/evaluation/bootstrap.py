"""Percentile bootstrap confidence intervals over queries.

All metrics of one method are resampled with the same query indices, so their intervals describe one resampled
query set. The resamples depend only on ``seed`` and the number of queries: two methods scored on the same queries
with the same seed see identical resamples (a paired bootstrap).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

CHUNK_ELEMENTS = 1 << 22  # resamples are drawn in blocks of about this many indices to bound memory


def bootstrap_means(per_query: Mapping[str, np.ndarray], *, n_boot: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    """Metric name -> [n_boot] means over resampled query sets (queries drawn with replacement).

    Args:
        per_query: metric name -> [n] per-query values, all over the same n queries in the same order.
        n_boot: number of resamples.
        seed: seed of ``np.random.default_rng``.
    """
    names = list(per_query)
    arrays = [np.asarray(per_query[m], dtype=np.float64) for m in names]
    if not arrays or any(a.ndim != 1 or len(a) != len(arrays[0]) for a in arrays):
        raise ValueError("per_query must map at least one metric name to 1-D per-query arrays of equal length")
    values = np.column_stack(arrays)  # [n, M]
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1; got {n_boot}")
    n = values.shape[0]
    if n == 0:
        return {m: np.full(n_boot, np.nan) for m in names}
    rng = np.random.default_rng(seed)
    step = max(1, CHUNK_ELEMENTS // n)
    means = []
    for a in range(0, n_boot, step):
        b = min(a + step, n_boot)
        idx = rng.integers(0, n, size=(b - a, n))  # [B, n] resampled query indices
        # how often each query is drawn in each resample, then one matrix product for all metrics at once
        counts = np.bincount((idx + n * np.arange(b - a)[:, None]).ravel(), minlength=(b - a) * n)
        means.append(counts.reshape(b - a, n) @ values / n)  # [B, M]
    stacked = np.concatenate(means)
    return {m: stacked[:, j] for j, m in enumerate(names)}


def bootstrap_ci(per_query: Mapping[str, np.ndarray], *, n_boot: int = 1000, seed: int = 0,
                 confidence: float = 0.95) -> dict[str, tuple[float, float]]:
    """Metric name -> (low, high) percentile bootstrap interval of the mean over queries.

    Args:
        per_query: metric name -> [n] per-query values (e.g. ``Evaluation.per_query``).
        n_boot: number of resamples.
        seed: seed of ``np.random.default_rng``; same seed and query count give the same resamples.
        confidence: coverage of the interval (0.95 gives the 2.5th and 97.5th percentiles).

    Returns:
        (nan, nan) for every metric when there are no queries.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1); got {confidence}")
    tail = 50.0 * (1.0 - confidence)
    out = {}
    for name, means in bootstrap_means(per_query, n_boot=n_boot, seed=seed).items():
        low, high = np.percentile(means, [tail, 100.0 - tail]) if not np.isnan(means).all() else (np.nan, np.nan)
        out[name] = (float(low), float(high))
    return out

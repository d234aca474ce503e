"""The study mix of an archive weighted toward what the benchmarks grade.

``--region-weights`` replaces the even cycle through the regions by a deterministic quota sequence: the region of
each new patient is the one furthest below its share so far, so any prefix of the archive holds each region within
one study of its share (follow-up studies repeat their patient's region, as without weights). ``--hn-tumour-
fraction`` gives the same quota treatment to head-and-neck patients: the k-th of them has a primary when the quota
says so, and the t-th primary sits at sub-site ``order[t % 12]`` (a seeded permutation of ``catalog.HN_SITES``), so
the sub-sites are balanced to within one patient. Both are prefix-stable: adding studies never changes earlier ones.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .catalog import HN_SITES


@lru_cache(maxsize=8)
def region_sequence(seed: int, regions: tuple[str, ...], shares: tuple[float, ...], n: int,
                    follow_ups: tuple[bool, ...]) -> tuple[str, ...]:
    """Region of each of the first ``n`` studies (``follow_ups[i]``: study i repeats study i - 1's patient)."""
    w = np.asarray(shares, float)
    counts = np.zeros(len(regions))
    out: list[str] = []
    for i in range(n):
        if follow_ups[i]:
            out.append(out[i - 1])
            continue
        k = counts.sum() + 1.0
        r = int(np.argmax(w * k - counts))  # ties: the earliest region in the list
        counts[r] += 1
        out.append(regions[r])
    return tuple(out)


def hn_force(seed: int, ordinal: int, fraction: float) -> tuple[bool, str | None]:
    """(tumour present, sub-site) of the ``ordinal``-th head-and-neck patient (0-based) of an archive."""
    present = math.floor((ordinal + 1) * fraction + 1e-9) > math.floor(ordinal * fraction + 1e-9)
    if not present:
        return False, None
    sites = sorted(HN_SITES)
    order = np.random.default_rng([seed, 5151]).permutation(len(sites))
    t = math.floor(ordinal * fraction + 1e-9)
    return True, sites[int(order[t % len(sites)])]

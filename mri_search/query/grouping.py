"""Group hits so that one study (or patient) does not fill the page: keep the best hit of each.

Neither Qdrant Edge (0.9) nor the protocol has a grouped search, so the search over-fetches: it asks for
``OVERFETCH`` hits per wanted group, keeps the first (best) hit of each key in score order, and asks again for
``GROW`` times as many while fewer than ``top_k`` groups came back and the engine had more to give, never past
``max_fetch`` hits. A study has a handful of series (the report vector is the same for all of them), so the first
fetch nearly always suffices.
"""

from __future__ import annotations

from collections.abc import Callable

from ..store import Hit

GROUP_FIELDS = {"study": "study_key", "patient": "patient_key"}  # --group-by value -> payload field
OVERFETCH = 8  # hits fetched per wanted group at first
GROW = 4  # growth of the fetch while groups are missing
MAX_FETCH = 4096  # never fetch more hits than this for one grouped query


def group_field(group_by: str | None) -> str | None:
    """The payload field of a ``--group-by`` value (None: no grouping).

    Raises:
        ValueError: an unknown value.
    """
    if group_by in (None, "", "none", "series"):
        return None
    if group_by not in GROUP_FIELDS:
        raise ValueError(f"--group-by must be one of {', '.join(['none', *GROUP_FIELDS])}, got {group_by!r}")
    return GROUP_FIELDS[group_by]


def best_per_group(hits: list[Hit], field: str) -> list[Hit]:
    """The first hit of each value of payload ``field``, in the given (score) order; a hit without the field is
    its own group."""
    seen: set[str] = set()
    out: list[Hit] = []
    for h in hits:
        key = h.payload.get(field) or f"\0{h.id}"
        if key not in seen:
            seen.add(key)
            out.append(h)
    return out


def grouped_search(search: Callable[[int], list[Hit]], top_k: int, field: str,
                   max_fetch: int = MAX_FETCH) -> list[Hit]:
    """The best hit of each of the ``top_k`` best groups.

    Args:
        search: ``limit -> hits`` best first (the store search with everything but the limit bound).
        top_k: groups wanted.
        field: payload field whose value names the group.
        max_fetch: the largest limit asked for.

    Returns:
        At most ``top_k`` hits, one per group, best first. Fewer when the collection (under the filter) holds
        fewer groups, or when ``max_fetch`` hits held fewer.
    """
    limit = min(max(top_k * OVERFETCH, top_k), max_fetch)
    while True:
        hits = search(limit)
        groups = best_per_group(hits, field)
        if len(groups) >= top_k or len(hits) < limit or limit >= max_fetch:
            return groups[:top_k]
        limit = min(limit * GROW, max_fetch)

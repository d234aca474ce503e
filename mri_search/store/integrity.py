"""Damage checks that need no reference copy: every stored embedding is a unit vector.

A zeroed, random or truncated block of an engine file shows up as a vector whose norm is not 1, a non-finite
value, or a cosine score outside [-1, 1]. The query layer checks the hits it returns (``check_hits``), the indexer
checks the points it would skip as already present and embeds them again. (A command that checks every point,
``mri-search verify`` in issue 20, does not exist yet: the message names the repair that works today.)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from .base import Hit, Point
from .layout import IMAGE, VECTORS
from .payload import PAYLOAD_FIELDS, PHI_FIELD

SCORE_LIMIT = 1.01  # |cosine| of unit vectors is at most 1; float32 rounding stays far below this
NORM_TOLERANCE = 0.01  # |norm - 1| accepted for a stored vector
REQUIRED_PAYLOAD = ("series_key", "study_key")  # fields every point's payload carries


class StoreDamaged(ValueError):
    """The store holds vectors that cannot be embeddings: its files were damaged."""


def damaged_message(location: str, detail: str) -> str:
    """The one line a damaged store stops with."""
    return (f"the index at {location} is damaged ({detail}): re-run `mri-search index` on its archive into the same "
            f"index; it embeds the damaged points again")


def check_hits(hits: Sequence[Hit], location: str) -> None:
    """Raise ``StoreDamaged`` when a score is not a cosine of unit vectors (non-finite or outside +-1.01)."""
    for h in hits:
        if not math.isfinite(h.score) or abs(h.score) > SCORE_LIMIT:
            raise StoreDamaged(damaged_message(location, f"point {h.id} scored {h.score:g}"))


def point_problem(p: Point, embed_dim: int) -> str | None:
    """Why point ``p`` cannot be an mri-search point (None: it can): a missing image vector, a vector of the wrong
    size, non-finite or not of unit length, or a payload lacking its keys."""
    if IMAGE not in p.vectors:
        return f"no {IMAGE!r} vector"
    for name, v in p.vectors.items():
        if name not in VECTORS:
            return f"unknown vector {name!r}"
        a = np.asarray(v, dtype=np.float64)
        if a.shape != (embed_dim,):
            return f"vector {name!r} has {a.size} values, expected {embed_dim}"
        if not np.isfinite(a).all():
            return f"vector {name!r} holds non-finite values"
        norm = float(np.linalg.norm(a))
        if abs(norm - 1.0) > NORM_TOLERANCE:
            return f"vector {name!r} has norm {norm:.3g}, not 1"
    missing = [k for k in REQUIRED_PAYLOAD if not p.payload.get(k)]
    if missing:
        return f"payload lacks {', '.join(missing)}"
    unknown = sorted(set(p.payload) - set(PAYLOAD_FIELDS) - {PHI_FIELD})
    if unknown:
        return f"payload has unknown fields {', '.join(unknown[:3])}"
    return None


def damaged_points(points: Iterable[Point], embed_dim: int) -> dict[str, str]:
    """``{point id: problem}`` for the damaged points among ``points`` (read with their vectors)."""
    out = {}
    for p in points:
        why = point_problem(p, embed_dim)
        if why is not None:
            out[p.id] = why
    return out

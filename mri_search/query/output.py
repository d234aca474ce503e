"""How ``mri-search query`` prints hits: a ranked table for people, one JSON document for scripts."""

from __future__ import annotations

import json

from .searcher import QueryHit, shorten

# (header, width, value) of the table's columns; the path comes last, unshortened
_COLUMNS = (
    ("rank", 4, lambda h: str(h.rank)),
    ("score", 6, lambda h: f"{h.score:.3f}"),
    ("study", 8, lambda h: h.study_key[:8]),
    ("series", 8, lambda h: h.series_key[:8]),
    ("seq", 5, lambda h: h.sequence),
    ("plane", 8, lambda h: h.plane),
    ("body part", 10, lambda h: h.body_part),
    ("impression", 44, lambda h: h.impression),
)


def format_table(hits: list[QueryHit]) -> str:
    """Aligned columns: rank, score, study and series (first 8 characters of their keys), sequence, plane, body
    part, the impression shortened to its column, and the file path."""
    if not hits:
        return "no results"
    head = "  ".join(name.ljust(w) for name, w, _ in _COLUMNS) + "  path"
    lines = [head, "-" * len(head)]
    for h in hits:
        cells = [shorten(get(h), w).ljust(w) if name == "impression" else get(h)[:w].ljust(w)
                 for name, w, get in _COLUMNS]
        lines.append("  ".join(cells) + "  " + h.path)
    return "\n".join(lines)


def to_json(hits: list[QueryHit], **context) -> str:
    """One JSON document: ``context`` (query, target, collection, model, filters, timings, ...) and ``hits``."""
    return json.dumps({**context, "hits": [h.to_dict() for h in hits]}, indent=None, default=str)

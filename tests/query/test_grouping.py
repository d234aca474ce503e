"""Grouping by study: best hit per group in score order; over-fetching grows only while groups are missing and the
engine has more, and never past the cap."""

from __future__ import annotations

import pytest

from mri_search.query.grouping import OVERFETCH, best_per_group, group_field, grouped_search
from mri_search.query.searcher import shorten
from mri_search.store import Hit


def hits_of(studies: list[str]) -> list[Hit]:
    return [Hit(id=f"p{i}", score=1.0 - i / 1000, payload={"study_key": s}) for i, s in enumerate(studies)]


def test_best_per_group_keeps_the_first_of_each():
    hits = hits_of(["a", "a", "b", "a", "c", "b"]) + [Hit("x", 0.1, {}), Hit("y", 0.0, {})]
    assert [h.id for h in best_per_group(hits, "study_key")] == ["p0", "p2", "p4", "x", "y"]


def test_grouped_search_fetches_more_only_when_needed():
    pool = hits_of(["a"] * 50 + ["b"] * 50 + ["c"] * 5)  # a big first study pushes the others down
    limits = []

    def search(limit):
        limits.append(limit)
        return pool[:limit]

    got = grouped_search(search, top_k=3, field="study_key")
    assert [h.payload["study_key"] for h in got] == ["a", "b", "c"] and [h.id for h in got] == ["p0", "p50", "p100"]
    assert limits == [3 * OVERFETCH, 4 * 3 * OVERFETCH, 16 * 3 * OVERFETCH]
    limits.clear()
    assert len(grouped_search(search, top_k=10, field="study_key")) == 3  # only 3 groups exist: stops, exhausted
    assert limits[-1] > len(pool)
    limits.clear()
    assert len(grouped_search(search, top_k=3, field="study_key", max_fetch=40)) == 1  # the cap wins
    assert limits == [24, 40]


def test_group_field_and_shorten():
    assert group_field("study") == "study_key" and group_field("none") is None and group_field(None) is None
    with pytest.raises(ValueError, match="--group-by"):
        group_field("site")
    assert shorten("a  b\n c", 10) == "a b c"
    assert shorten("Moderate joint effusion with a popliteal cyst.", 20) == "Moderate joint..."
    assert len(shorten("x" * 50, 10)) <= 10

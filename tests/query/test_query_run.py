"""``mri_search.query.run``: one query without Typer (what ``mri-search query`` and the web server call); the
result's JSON and lines are the command's output, and user mistakes are ``ValueError``s before any store opens."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from mri_search.cli import app
from mri_search.query import QueryFilters, Searcher
from mri_search.query.run import QueryBusy, QueryCfg, run_query


def test_run_query_is_the_command_output(indexed):
    cfg = QueryCfg(text="MRI of the knee", top_k=3, group_by="study", db=indexed.db,
                   filters=QueryFilters(sequences=("PDFS", "T1")))
    result = run_query(cfg)
    assert [h.rank for h in result.hits] == [1, 2, 3] and result.collection == indexed.collection
    d = json.loads(result.to_json())
    assert d["filters"] == {"sequence": ["PDFS", "T1"]} and d["top_k"] == 3 and d["thumbnails"] is None
    assert d["timings_ms"]["total"] >= d["timings_ms"]["search_ms"] > 0
    res = CliRunner().invoke(app, ["query", "MRI of the knee", "-k", "3", "--group-by", "study", "--sequence",
                                   "PDFS,T1", "--db", str(indexed.db)])
    assert res.exit_code == 0, res.output
    assert res.stdout.rstrip("\n") == "\n".join(result.lines())  # the same table, scores included


def test_run_query_with_an_open_searcher(indexed):
    with Searcher.open(db=indexed.db) as s:
        first = run_query(QueryCfg(text="MRI of the brain", top_k=2), searcher=s)
        again = run_query(QueryCfg(text="MRI of the brain", top_k=2), searcher=s)
    assert [h.series_key for h in first.hits] == [h.series_key for h in again.hits]
    assert len(first.hits) == 2


@pytest.mark.parametrize("kwargs, message", [
    ({}, "empty query"),
    ({"text": "  "}, "empty query"),
    ({"text": "knee", "image": "x.nii.gz"}, "not both"),
    ({"text": "knee", "target": "studies"}, "--target must be images or reports"),
    ({"text": "knee", "target": "reports", "lesions": "dec"}, "use it with --target images"),
])
def test_user_mistakes_are_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        QueryCfg(**kwargs)


def test_busy_carries_the_location():
    e = QueryBusy("/data/qdrant")
    assert isinstance(e, ValueError) and e.location == "/data/qdrant"

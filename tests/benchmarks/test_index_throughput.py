"""The indexing benchmark times the indexer itself (``run_index``), its per-stage costs and a naive loop on the same
series, and its bound is the arithmetic the docstring states."""

from __future__ import annotations

import argparse
import os

import pytest

from benchmarks import index_throughput as it
from mri_search.ingest.archive import scan_archive


@pytest.fixture(scope="module")
def result(archive, model_dir):
    args = argparse.Namespace(archive=archive, model=model_dir, preset=None, workers=1, batch_size=4, cli=True,
                              store_points=0)
    return it.run(args)


def test_every_variant_indexes_every_series_of_the_archive(result, archive):
    n = len(scan_archive(archive).series)
    assert n > 0 and result["series_in_archive"] == n
    assert result["indexer"]["series"] == result["stages"]["series"] == result["naive"]["series"] == n
    assert result["indexer"]["failed"] == result["stages"]["failed"] == 0
    assert result["cli"]["series"] == n  # `mri-search index` as a subprocess agrees


def test_bound_is_cores_over_the_summed_stage_costs(result):
    st = result["stages"]
    assert set(st["core_s_per_series"]) == set(it.STAGES)
    assert all(v > 0 for v in st["core_s_per_series"].values())
    assert st["core_s_per_series_total"] == pytest.approx(sum(st["core_s_per_series"].values()))
    assert st["bound_series_per_s"] == pytest.approx((os.cpu_count() or 1) / st["core_s_per_series_total"])
    assert result["ratio_to_bound"] == pytest.approx(result["indexer"]["series_per_s"] / st["bound_series_per_s"])
    assert result["ratio_to_naive"] == pytest.approx(result["indexer"]["series_per_s"]
                                                     / result["naive"]["series_per_s"])
    table = it.format_table(result)
    assert "`run_index`" in table and "stage bound" in table and f"{result['ratio_to_bound']:.2f}" in table

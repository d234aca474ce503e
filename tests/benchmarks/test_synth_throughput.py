"""The generator benchmark runs each format on the same studies and states its ratios to ``--format nifti``."""

from __future__ import annotations

import pytest

from benchmarks import synth_throughput as st


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return st.run(studies=2, seed=9300, workers=1, formats=["nifti", "tensors"], matrix_scale=0.2,
                  tmp=tmp_path_factory.mktemp("st"), regions=("knee",))


def test_both_formats_make_the_same_studies_and_the_ratio_is_theirs(result):
    nifti, tensors = result["results"]
    assert (nifti["format"], tensors["format"]) == ("nifti", "tensors")
    assert nifti["studies"] == tensors["studies"] == 2 and nifti["series"] == tensors["series"] > 0
    assert nifti["speed_vs_nifti"] == 1.0
    assert tensors["speed_vs_nifti"] == pytest.approx(tensors["studies_per_s"] / nifti["studies_per_s"], rel=1e-3)
    assert 0 < tensors["bytes_per_series"] <= 1_000_000 and nifti["bytes_per_series"] > 0
    assert tensors["peak_rss_mb_per_worker"] > 0
    table = st.table(result)
    assert "| tensors |" in table and f"{tensors['speed_vs_nifti']}" in table

"""Bootstrap confidence intervals: contain the estimate, seeded, one resample for all metrics of a method."""

from __future__ import annotations

import numpy as np
import pytest

from mri_search.evaluation import bootstrap_ci, bootstrap_means, evaluate


def _per_query():
    rng = np.random.default_rng(0)
    return evaluate(rng.standard_normal((60, 200)), rng.random((60, 200)) < 0.1).per_query


def test_ci_contains_point_estimate_and_is_seeded():
    per_query = _per_query()
    ci = bootstrap_ci(per_query, n_boot=300, seed=7)
    for name, values in per_query.items():
        low, high = ci[name]
        assert low <= values.mean() <= high, name
    assert bootstrap_ci(per_query, n_boot=300, seed=7) == ci
    assert bootstrap_ci(per_query, n_boot=300, seed=8) != ci


def test_all_metrics_share_the_resampled_queries():
    x = np.random.default_rng(1).random(40)
    means = bootstrap_means({"a": x, "b": 2 * x, "c": -x}, n_boot=200, seed=3)
    np.testing.assert_allclose(means["b"], 2 * means["a"])
    np.testing.assert_allclose(means["c"], -means["a"])
    # the resample depends on seed and query count only: another method on the same queries is paired with it
    np.testing.assert_allclose(bootstrap_means({"m": x}, n_boot=200, seed=3)["m"], means["a"])


def test_percentiles_of_the_means():
    x = np.arange(10.0)
    means = bootstrap_means({"m": x}, n_boot=500, seed=0)["m"]
    low, high = bootstrap_ci({"m": x}, n_boot=500, seed=0, confidence=0.9)["m"]
    assert (low, high) == pytest.approx(tuple(np.percentile(means, [5, 95])))
    assert len(means) == 500 and abs(means.mean() - 4.5) < 0.2


def test_no_queries_gives_nan_and_bad_input_raises():
    low, high = bootstrap_ci({"mAP": np.array([])})["mAP"]
    assert np.isnan(low) and np.isnan(high)
    with pytest.raises(ValueError, match="equal length"):
        bootstrap_ci({"a": np.ones(3), "b": np.ones(4)})
    with pytest.raises(ValueError, match="equal length"):
        bootstrap_ci({})
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci({"a": np.ones(3)}, confidence=95)
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_ci({"a": np.ones(3)}, n_boot=0)

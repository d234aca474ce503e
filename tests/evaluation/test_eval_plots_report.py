"""PNG plots are written; results.json layout and Markdown tables."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mri_search.evaluation import evaluate, metric_names
from mri_search.evaluation.plots import plot_bars, plot_pr_curves
from mri_search.evaluation.report import markdown_table, results_tree

PNG = b"\x89PNG\r\n\x1a\n"


def test_bar_charts_and_pr_curves_are_written(tmp_path):
    values = {"region": {"ours": {"mAP": 0.6, "P_all@1": 0.8}, "random": {"mAP": 0.1, "P_all@1": 0.2}},
              "sequence": {"ours": {"mAP": 0.5, "P_all@1": 0.7}}}
    ci = {"region": {"ours": {"mAP": (0.55, 0.65)}}}
    bars = plot_bars(values, tmp_path / "map.png", ci=ci, title="mAP")
    panels = plot_bars(values, tmp_path / "p_all.png", ["P_all@1", "P_all@3"], ci=ci)
    rng = np.random.default_rng(0)
    ev = evaluate(rng.standard_normal((5, 30)), rng.random((5, 30)) < 0.2)
    pr = plot_pr_curves({"ours": ev.pr_curve, "mean": ev.pr_curve.mean(axis=0)}, tmp_path / "pr.png")
    for path in (bars, panels, pr):
        assert path.read_bytes().startswith(PNG) and path.stat().st_size > 1000
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_bars({}, tmp_path / "x.png")


def test_results_tree_layout():
    tree = results_tree({("region", "image->image", "ours"): {"mAP": 0.5, "P_all@1": float("nan")},
                         ("region", "text->image", "ours"): {"mAP": (0.4, 0.6)}})
    assert tree == {"region": {"image->image": {"ours": {"mAP": 0.5, "P_all@1": None}},
                               "text->image": {"ours": {"mAP": [0.4, 0.6]}}}}
    json.dumps(tree, allow_nan=False)


def test_markdown_table():
    table = markdown_table({"ours": {"mAP": 0.5, "P@1": float("nan")}}, ["mAP", "P@1"],
                           ci={"ours": {"mAP": (0.4, 0.6)}})
    assert table.splitlines() == ["| method | mAP | P@1 |", "|---|---|---|", "| ours | 0.500 [0.400, 0.600] | n/a |"]
    assert metric_names((1, 5), 10) == ["mAP", "P_all@1", "P_all@5", "P@1", "P@5", "R@1", "R@5", "nDCG@10"]

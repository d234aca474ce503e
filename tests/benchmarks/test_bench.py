"""`mri-search bench` on a tiny generated archive: tasks and relevance, the output files, TREC re-scoring, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from benchmarks.bench.data import load_bench_data
from benchmarks.bench.differences import main as differences_main
from benchmarks.bench.run import BenchCfg, run_bench
from benchmarks.bench.tasks import build_tasks, organ_sentences, relevance
from mri_search.cli import app
from mri_search.evaluation.trec import score_run
from mri_search.ingest.report_text import parse_report

runner = CliRunner()


def test_tasks_and_relevance(archive):
    data = load_bench_data(archive, split="all", workers=1)
    tasks = build_tasks(data, seed=0)
    assert {"body_region_sentences", "body_region_reports", "paired"} <= set(tasks)
    for task in tasks.values():
        rel = relevance(task)
        assert rel.shape == (len(task.texts), len(task.series))
        for t in range(len(task.texts)):
            for s in range(len(task.series)):
                want = task.text_labels[t] is not None and task.text_labels[t] == task.series_labels[s]
                assert rel[t, s] == want
    paired = tasks["paired"]
    # each report is relevant to exactly its own study's series
    assert (relevance(paired).sum(axis=1) > 0).all()
    assert relevance(paired).sum() == len(paired.series)


def test_organ_sentences_leave_out_generic_ones():
    rep = parse_report("FINDINGS:\nThe liver is normal in size and signal. No other significant abnormality. "
                       "Small cyst.\n\nIMPRESSION: Normal.\n", "x")
    assert organ_sentences(rep) == ["The liver is normal in size and signal."]


def test_bench_writes_results_runs_and_report(archive, model_dir, tmp_path):
    out = tmp_path / "out"
    res = run_bench(BenchCfg(archive=str(archive), model=str(model_dir), out=str(out), workers=0, n_boot=100,
                             compare=(("again", str(model_dir)),)))
    results = json.loads((out / "results.json").read_text())
    assert results == res["results"]
    task = results["body_region_reports"]
    assert set(task) == {"t2i", "i2t"}
    assert {"model", "random", "random_weights", "metadata"} <= set(task["t2i"])
    assert {"mAP", "P_all@1", "P_all@5", "P@10", "R@10", "nDCG@10"} <= set(task["t2i"]["model"])
    ci = json.loads((out / "ci95.json").read_text())
    low, high = ci["body_region_reports"]["t2i"]["model"]["mAP"]
    assert low <= task["t2i"]["model"]["mAP"] <= high
    # the TREC files re-score to the same mAP (runs are cut at 1000 ranks, more than this gallery holds)
    for direction in ("t2i", "i2t"):
        ev = score_run(out / f"body_region_reports.{direction}.model.run", out / f"body_region_reports.{direction}.qrels")
        assert ev.summary()["mAP"] == pytest.approx(task[direction]["model"]["mAP"], abs=1e-9)
    md = (out / "report.md").read_text()
    assert "P_all@5" in md and "Body-region retrieval" in md and "## Engine" in md
    assert (out / "body_region_reports.png").stat().st_size > 1000
    assert (out / "body_region_reports.t2i.pr.png").stat().st_size > 1000
    assert res["engine"]["recall@10_vs_exact"] == pytest.approx(1.0)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["split"] == "test" and "salt" not in cfg
    # the shortcut baseline is fitted on the other splits when they exist
    if "shortcut" in task["t2i"]:
        assert 0.0 <= task["t2i"]["shortcut"]["mAP"] <= 1.0
    assert np.isfinite(task["t2i"]["random"]["mAP"])
    # paired differences: the same model compared with itself differs by exactly 0 on every query
    diffs = json.loads((out / "differences.json").read_text())
    assert diffs == res["differences"] and set(diffs["body_region_reports"]["t2i"]) == {"again", "metadata"}
    same = diffs["body_region_reports"]["t2i"]["again"]["mAP"]
    assert same == {"delta": 0.0, "ci95": [0.0, 0.0]}
    meta = diffs["body_region_reports"]["t2i"]["metadata"]["mAP"]
    assert meta["delta"] == pytest.approx(task["t2i"]["model"]["mAP"] - task["t2i"]["metadata"]["mAP"], abs=1e-9)
    assert meta["ci95"][0] <= meta["delta"] <= meta["ci95"][1]
    assert "## Paired differences" in md
    # and the same figures come back from the TREC files of the folder
    again = differences_main([str(out), "--others", "again,metadata", "--n-boot", "100"])
    assert again["body_region_reports"]["t2i"]["metadata"]["mAP"]["delta"] == pytest.approx(meta["delta"], abs=1e-9)


def test_bench_cli_user_errors(archive, model_dir, tmp_path):
    res = runner.invoke(app, ["bench", "--model", str(model_dir), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "--archive" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["bench", "--model", str(tmp_path), "--out", str(tmp_path / "o"), "--archive",
                              str(archive)])
    assert res.exit_code == 2 and "not a model folder" in res.output
    res = runner.invoke(app, ["bench", "--model", str(model_dir), "--out", str(tmp_path / "o"), "--archive",
                              str(tmp_path)])
    assert res.exit_code == 2 and "manifest.parquet" in res.output


def test_fit_archive_trains_the_shortcut_baseline(archive, model_dir, tmp_path):
    # the shortcut fitted on another archive's series (here the same files: this checks the plumbing; a real run
    # fits on the model's training archive and evaluates a whole held-out archive with --split all)
    res = run_bench(BenchCfg(archive=str(archive), model=str(model_dir), out=str(tmp_path / "o"),
                             fit_archive=str(archive), workers=0, n_boot=50, engine=False, probes=True,
                             cache_dir=str(tmp_path / "cache")))
    assert "shortcut" in res["results"]["body_region_reports"]["t2i"]
    assert res["counts"]["body_region_reports.t2i"]["queries"] == 2  # the test split's two studies
    # --probes: the probing table in results.json and report.md (its figures: tests/benchmarks/test_bench_probing)
    probing = json.loads((tmp_path / "o" / "results.json").read_text())["probing"]
    region = probing["body_region"]["fractions"]
    assert set(region) == {"0.01", "0.1", "1"} and set(region["1"]) == {"model", "random_weights", "shortcut"}
    assert 0.0 <= region["1"]["model"]["metrics"]["auc"] <= 1.0
    assert "## Probing" in (tmp_path / "o" / "report.md").read_text()

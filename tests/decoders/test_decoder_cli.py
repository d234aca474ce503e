"""``mri-search segment|localize``: help, a train -> eval -> predict round on the tiny model, and the benchmark
script end to end (one step per method)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from benchmarks.segmentation import main as bench_main
from mri_search.cli import app


@pytest.mark.parametrize("task", ["segment", "localize"])
def test_help(task):
    runner = CliRunner()
    res = runner.invoke(app, [task, "--help"])
    assert res.exit_code == 0 and "train" in res.output and "predict" in res.output
    for command in ("train", "eval", "predict"):
        res = runner.invoke(app, [task, command, "--help"])
        assert res.exit_code == 0, res.output


def test_localize_train_eval_predict(seg_archive, tiny_model, cache_dir, tmp_path):
    runner = CliRunner()
    dec = tmp_path / "loc"
    res = runner.invoke(app, ["localize", "train", str(seg_archive), "--model", str(tiny_model), "--out", str(dec),
                              "--steps", "2", "--cache-dir", str(cache_dir)])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout[res.stdout.index("{"):])
    assert summary["train_series"] == 5 and summary["arch"] == "heatmap" and (dec / "decoder.safetensors").is_file()
    res = runner.invoke(app, ["localize", "eval", str(seg_archive), "--decoder", str(dec), "--split", "train",
                              "--cache-dir", str(cache_dir), "--json"])
    assert res.exit_code == 0, res.output
    scores = json.loads(res.stdout)
    assert scores["series"] == 5 and scores["lesions"] >= 5 and 0.0 <= scores["detection_rate"] <= 1.0
    nifti = next((seg_archive / "nifti").rglob("*_FLAIR.nii.gz"))
    res = runner.invoke(app, ["localize", "predict", str(nifti), "--decoder", str(dec), "--out", str(tmp_path / "p")])
    assert res.exit_code == 0 and "1 series predicted" in res.output
    res = runner.invoke(app, ["segment", "eval", str(seg_archive), "--decoder", str(dec)])
    assert res.exit_code == 2 and "is a localize decoder" in res.output
    res = runner.invoke(app, ["localize", "eval", str(seg_archive), "--decoder", str(tmp_path / "none")])
    assert res.exit_code == 2 and "not a decoder folder" in res.output


def test_benchmark_runs_every_method(seg_archive, tiny_model, cache_dir, tmp_path):
    results = bench_main([str(seg_archive), "--model", str(tiny_model), "--out", str(tmp_path / "b"), "--steps", "1",
                          "--batch-size", "1", "--feature-size", "4", "--structures", "brain", "--eval-split",
                          "train", "--max-train", "2", "--max-eval", "2", "--cache-dir", str(cache_dir)])
    for task in ("segment", "localize"):
        methods = results["tasks"][task]["methods"]
        assert set(methods) == {"frozen_trained", "frozen_random", "unet_scratch"}
        assert all(m["trainable_params"] > 0 and m["seconds_per_step"] > 0 for m in methods.values())
    seg = results["tasks"]["segment"]["methods"]["frozen_trained"]
    assert set(seg["dice"]) == {"csf", "white_matter", "grey_matter", "lesion"}
    assert results["tasks"]["segment"]["methods"]["unet_scratch"]["trainable_params"] > \
        results["tasks"]["segment"]["methods"]["frozen_trained"]["trainable_params"]
    report = (tmp_path / "b" / "report.md").read_text()
    assert "| frozen_random |" in report and "detection rate" in report

"""The model card's sections read from files: the stage-1 objective from the run, the compared models' paired
differences from the bench folder (baselines left to the results table)."""

from __future__ import annotations

import json

from benchmarks.model_card import _compared, _stage1_method

CELL = {"delta": 0.046, "ci95": [0.007, 0.086]}


def test_stage1_method_comes_from_the_run_config(tmp_path):
    assert _stage1_method(tmp_path) == "?"
    (tmp_path / "config.json").write_text(json.dumps({"recipe": {"stage": "vision", "vision": {"method": "both"}}}))
    assert _stage1_method(tmp_path) == "both"


def test_compared_section_keeps_compared_models_only(tmp_path):
    assert _compared(tmp_path) == []  # a bench run without --compare
    diffs = {"body_region_reports": {"t2i": {"old_default": {"mAP": CELL}, "metadata": {"mAP": CELL}},
                                     "i2t": {"metadata": {"mAP": CELL}}}}
    (tmp_path / "differences.json").write_text(json.dumps(diffs))
    lines = _compared(tmp_path)
    rows = [ln for ln in lines if ln.startswith("| body_region")]
    assert lines[0].startswith("## Against the compared models")
    assert len(rows) == 1 and "| old_default |" in rows[0] and "metadata" not in "\n".join(rows)
    (tmp_path / "differences.json").write_text(json.dumps({"paired": {"t2i": {"metadata": {"mAP": CELL}}}}))
    assert _compared(tmp_path) == []  # only baselines: no section

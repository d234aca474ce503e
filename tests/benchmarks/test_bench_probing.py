"""The bench's probing table: tasks from the manifest, fitted on the fitting series and scored on the evaluated
ones; informative features beat noise; the Markdown section; the example label files."""

from __future__ import annotations

import csv
import json
from types import SimpleNamespace

import numpy as np

from benchmarks.bench.data import Series
from benchmarks.bench.probe_tasks import PROBE_TASKS
from benchmarks.bench.probing import probing_markdown, run_probing

REGIONS = ("brain", "knee", "abdomen")
SITES = ("segment_II", "right_upper_lobe")


def fake_series(n_patients: int, offset: int) -> list[Series]:
    out = []
    for p in range(offset, offset + n_patients):
        tumour = SITES[p % 2] if p % 3 == 0 else None
        for s in range(3):
            row = {"patient_id": f"P{p}", "body_region": REGIONS[p % 3], "sequence": ("T1", "T2", "DWI")[s],
                   "tumor_site": tumour, "age": 20 + (p * 11) % 60}
            out.append(Series(record=SimpleNamespace(key=f"p{p}s{s}"), row=row))
    return out


def test_probing_table_ranks_informative_features_first():
    fit, test = fake_series(45, 0), fake_series(15, 100)
    rng = np.random.default_rng(0)
    centres = {r: rng.normal(0, 3, 16) for r in REGIONS}
    seq = {q: rng.normal(0, 3, 16) for q in ("T1", "T2", "DWI")}
    cache: dict[str, np.ndarray] = {}

    def informative(s):  # region and sequence in the features, age on one axis
        if s.record.key not in cache:
            v = centres[s.row["body_region"]] + seq[s.row["sequence"]] + rng.normal(0, 0.5, 16)
            v[0] = s.row["age"] / 10
            cache[s.record.key] = v
        return cache[s.record.key]

    noise = {s.record.key: rng.normal(0, 1, 16) for s in fit + test}
    table = run_probing(fit, test, {"model": informative, "random_weights": lambda s: noise[s.record.key],
                                    "shortcut": lambda s: None}, seed=0, repeats=2)
    assert set(table) == set(PROBE_TASKS)
    region = table["body_region"]
    assert region["n_train"] == len(fit) and region["n_test"] == len(test)
    assert set(region["fractions"]) == {"0.01", "0.1", "1"}
    full = region["fractions"]["1"]
    assert full["model"]["metrics"]["auc"] > 0.95 > 0.75 > full["random_weights"]["metrics"]["auc"]
    assert "shortcut" not in full  # no features: left out, not scored
    low = region["fractions"]["0.01"]["model"]
    assert low["repeats"] == 2 and low["n_train"] < full["model"]["n_train"]
    assert table["age"]["fractions"]["1"]["model"]["metrics"]["mae"] < table["age"]["blind_baseline"]["mae"]
    assert table["tumour_site"]["n_train"] == sum(s.row["tumor_site"] is not None for s in fit)
    json.dumps(table, allow_nan=False)  # strict JSON for results.json
    md = "\n".join(probing_markdown(table, "the fitting series"))
    assert "| body_region (AUC; 45 test series) | 1% (" in md and "blind guess" in md
    assert "body_region: the model's probe beats the baselines" in md


def test_probing_skips_a_task_without_test_series():
    fit, test = fake_series(9, 0), fake_series(1, 1)  # the one test patient has no tumour
    table = run_probing(fit, test, {"model": lambda s: np.ones(4) * len(s.record.key)}, repeats=1)
    assert "skipped" in table["tumour_site"]
    assert "skipped" in "\n".join(probing_markdown(table, "x"))


def test_label_files_from_the_manifest(archive, tmp_path):
    from benchmarks.bench.data import load_bench_data
    from benchmarks.probe_labels import write_label_files

    from mri_search.ingest.salt import installation_salt

    counts = write_label_files(archive, tmp_path / "labels")  # keys salted as `embed` salts them by default
    data = load_bench_data(archive, "all", installation_salt())
    assert counts["body_region"] == counts["sequence"] == counts["age"] == len(data.series)
    kinds = json.loads((tmp_path / "labels" / "tasks.json").read_text())
    assert kinds["age"]["kind"] == "regression" and kinds["sequence"]["kind"] == "classification"
    with open(tmp_path / "labels" / "body_region.csv") as f:
        rows = list(csv.DictReader(f))
    truth = {s.record.key: s.row["body_region"] for s in data.series}
    assert {r["series_key"]: r["label"] for r in rows} == truth

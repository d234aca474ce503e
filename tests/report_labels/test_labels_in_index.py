"""Report labels travel with the record: ``inspect --json``, the index payload and Parquet carry them, and query
filters on them (``--report-region``, ``--tumour-site``) while the ranking stays the image vectors'."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
import torch
from typer.testing import CliRunner

from mri_search.cli import app
from mri_search.model import build_model, get_preset, save_model
from mri_search.preprocess import PreprocessConfig
from mri_search.synth.archive import run_synth
from mri_search.synth.config import SynthConfig

runner = CliRunner()


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("labels")
    archive = tmp / "archive"
    run_synth(SynthConfig(out=archive, studies=4, seed=11, format="dicom", regions=("head_neck", "knee"),
                          matrix_scale=0.2), progress=lambda *a, **k: None)
    torch.manual_seed(0)
    model = save_model(build_model(get_preset("vit-tiny-test")).eval(), tmp / "model",
                       PreprocessConfig(spacing_mm=(8.0, 8.0, 8.0), size=(32, 32, 32)))
    res = runner.invoke(app, ["index", str(archive), "--model", str(model), "--db", str(tmp / "db"), "--workers",
                              "0", "--no-progress", "--salt", "lab", "--parquet", str(tmp / "rows.parquet")])
    assert res.exit_code == 0, res.output
    truth = {r["series_uid"]: r for r in pq.read_table(archive / "manifest.parquet").to_pylist()}
    return archive, model, tmp / "db", tmp / "rows.parquet", truth


def test_inspect_payload_and_parquet_carry_the_labels(indexed):
    archive, model, db, parquet, truth = indexed
    res = runner.invoke(app, ["inspect", str(archive), "--json", "--salt", "lab"])
    series = [json.loads(line) for line in res.stdout.splitlines() if '"type": "series"' in line]
    assert series and all(s["report_labels"]["region"] in ("head_neck", "knee") for s in series)
    rows = pq.read_table(parquet).to_pylist()
    assert len(rows) == len(series)
    from mri_search.ingest.phi import hash_id

    by_hash = {hash_id("lab", uid): t for uid, t in truth.items()}
    for r in rows:
        t = by_hash[r["series_uid_hash"]]
        labels = r["report_labels"]
        assert labels["region"] == t["body_region"]  # parsed from the report text, checked against the manifest
        assert labels["tumour_site"] == (t["tumor_site"] or "")
        assert labels["tumour"] == ("present" if t["tumor_site"] else "absent")


def test_query_filters_on_report_labels(indexed):
    archive, model, db, parquet, truth = indexed
    rows = pq.read_table(parquet).to_pylist()
    q = ["query", "MRI", "--model", str(model), "--db", str(db), "--salt", "lab", "--json", "--top-k", "50"]
    res = runner.invoke(app, [*q, "--report-region", "knee"])
    assert res.exit_code == 0, res.output
    hits = json.loads(res.stdout)["hits"]
    knee = {r["id"] for r in rows if r["report_labels"]["region"] == "knee"}
    assert hits and {h["id"] for h in hits} == knee
    everything = json.loads(runner.invoke(app, q).stdout)["hits"]
    order = [h["id"] for h in everything if h["id"] in knee]
    assert [h["id"] for h in hits] == order  # a filter, not a re-ranking: the image vectors still rank
    sites = {r["report_labels"]["tumour_site"] for r in rows} - {""}
    assert sites  # seed 11's head-and-neck studies include a tumour
    site = sorted(sites)[0]
    res = runner.invoke(app, [*q, "--tumour-site", site])
    got = {h["id"] for h in json.loads(res.stdout)["hits"]}
    assert got and got == {r["id"] for r in rows if r["report_labels"]["tumour_site"] == site}
    res = runner.invoke(app, [*q, "--report-region", "elbow"])
    assert res.exit_code == 2 and "choose from" in res.output and "Traceback" not in res.output

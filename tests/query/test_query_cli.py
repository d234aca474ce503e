"""``mri-search query``: the table, ``--json``, image and report targets, thumbnails, one-line errors (exit 2) for
bad input, and an embedded index that another process is writing (exit 3, never a hang or a damaged index)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from mri_search.cli import app
from mri_search.ingest.archive import scan_archive
from mri_search.model import build_model, get_preset, save_model
from mri_search.query.thumbs import SHEET_NAME, TILE_H, TILE_W
from mri_search.store.edge import EdgeStore

runner = CliRunner()


def query(indexed, *args):
    return runner.invoke(app, ["query", *map(str, args), "--db", str(indexed.db)])


def lone_series(archive: Path):
    """A series alone in its folder: (folder, record)."""
    for r in scan_archive(archive / "dicom").series:
        folder = Path(r.files[0].display).parent
        if len(scan_archive(folder).series) == 1:
            return folder, r
    raise AssertionError("no single-series folder in the archive")


def test_query_help():
    res = runner.invoke(app, ["query", "--help"])
    assert res.exit_code == 0
    for opt in ("--image", "--target", "--top-k", "--group-by", "--sequence", "--plane", "--body-part",
                "--manufacturer", "--contrast", "--exclude-study", "--json", "--thumbnails", "--db", "--qdrant-url",
                "--collection", "--model", "--salt"):
        assert opt in res.output, opt


def test_text_query_prints_a_ranked_table(indexed):
    res = query(indexed, "MRI of the knee", "--top-k", "4")
    assert res.exit_code == 0, res.output
    lines = res.stdout.strip().splitlines()
    assert lines[0].split()[:4] == ["rank", "score", "study", "series"] and lines[0].endswith("path")
    rows = lines[2:]
    assert [r.split()[0] for r in rows] == ["1", "2", "3", "4"]
    # the last column is the series' first file, its identifier folders as tokens (the locator has the real one)
    assert all(r.split()[-1].endswith(".dcm") and "/PAT-" in r.split()[-1] for r in rows)


def test_json_output_parses(indexed):
    res = query(indexed, "MRI of the knee", "--json", "--sequence", "PDFS,T1", "--group-by", "study", "-k", "5")
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["collection"] == indexed.collection and d["target"] == "images" and d["query"] == "MRI of the knee"
    assert d["filters"] == {"sequence": ["PDFS", "T1"]} and d["timings_ms"]["search_ms"] > 0
    hits = d["hits"]
    assert hits and all(h["sequence"] in ("PDFS", "T1") for h in hits)
    assert len({h["study_key"] for h in hits}) == len(hits)  # grouped: one series per study
    assert {"rank", "score", "series_key", "study_key", "plane", "body_part", "impression", "path"} <= set(hits[0])


def test_image_query_report_target_and_exclusion(indexed, archive):
    folder, rec = lone_series(archive)
    res = query(indexed, "--image", folder, "--json", "-k", "3")
    assert res.exit_code == 0, res.output
    hits = json.loads(res.stdout)["hits"]
    assert hits[0]["series_key"] == rec.key and hits[0]["score"] > 0.9999
    res = query(indexed, "--image", folder, "--target", "reports", "--json")
    studies = [h["study_key"] for h in json.loads(res.stdout)["hits"]]
    assert studies[0] == rec.study_key and len(studies) == len(set(studies)) == 3
    res = query(indexed, "--image", folder, "--json", "--exclude-study", indexed.study_uid[rec.study_key])
    assert res.exit_code == 0 and rec.study_key not in {h["study_key"] for h in json.loads(res.stdout)["hits"]}


def test_thumbnails_and_contact_sheet(indexed, tmp_path):
    out = tmp_path / "thumbs"
    res = query(indexed, "MRI of the brain", "-k", "4", "--thumbnails", out)
    assert res.exit_code == 0, res.output
    tiles = sorted(p for p in out.glob("*.png") if p.name != SHEET_NAME)
    assert [p.name[:3] for p in tiles] == ["01_", "02_", "03_", "04_"]
    for p in tiles:
        with Image.open(p) as im:
            assert im.size == (TILE_W, TILE_H)
            panel = np.asarray(im.convert("L"))[40:, : TILE_W // 3]  # the axial panel, below the caption
            assert panel.std() > 10  # anatomy was drawn, not an empty or "not readable" tile
    with Image.open(out / SHEET_NAME) as sheet:
        assert sheet.size == (3 * TILE_W, 2 * TILE_H)
    assert f"4 PNGs and {out / SHEET_NAME}" in res.stdout


def test_bad_input_is_one_line_and_exit_2(indexed, archive, tmp_path):
    other = save_model(build_model(get_preset("vit-tiny-test")).eval(), tmp_path / "other", _pre(indexed))
    junk = tmp_path / "junk.nii.gz"
    junk.write_bytes(b"\x1f\x8b broken")
    cases = [
        ([], "empty query"),
        (["   "], "empty query"),
        (["knee", "--image", archive], "not both"),
        (["knee", "--collection", "nope"], "no collection 'nope'"),
        (["--image", junk], "no readable MR series"),
        (["--image", tmp_path / "missing"], "does not exist"),
        (["knee", "--model", other], "was written by model vit-tiny-test"),
        (["knee", "--target", "pictures"], "--target"),
        (["knee", "--sequence", "T9"], "--sequence T9: unknown"),
        (["knee", "--top-k", "0"], "--top-k"),
        (["knee", "--group-by", "hospital"], "--group-by"),
        (["--image", archive / "dicom"], "choose one with --series N"),
    ]
    for args, message in cases:
        res = query(indexed, *args)
        lines = [ln for ln in res.output.splitlines() if ln.strip()]
        assert res.exit_code == 2 and message in res.output and len(lines) == 1, (args, res.output)
        assert "Traceback" not in res.output
    res = runner.invoke(app, ["query", "knee", "--db", str(tmp_path / "empty")])
    assert res.exit_code == 2 and "no mri-search collection" in res.output


def _pre(indexed):
    from mri_search.preprocess import PreprocessConfig

    return PreprocessConfig.from_dict(json.loads((indexed.model / "config.json").read_text())["preprocess"])


def test_busy_index_exits_3(indexed):
    with EdgeStore(indexed.db) as holder:  # another opener holds the embedded index
        holder.open_collection(indexed.collection)
        res = query(indexed, "MRI of the knee")
    assert res.exit_code == 3 and "is busy" in res.output and str(indexed.db) in res.output
    assert len([ln for ln in res.output.splitlines() if ln.strip()]) == 1 and "Traceback" not in res.output
    assert query(indexed, "MRI of the knee").exit_code == 0  # released: it answers again


def test_query_while_an_index_run_writes(indexed, archive, tmp_path):
    """An ``index`` process is writing a fresh embedded index: a query meanwhile says the index is busy at once;
    the run finishes undisturbed, and then the query answers from a complete index."""
    db = tmp_path / "db"
    cmd = [sys.executable, "-m", "mri_search.cli", "-v", "index", str(archive / "dicom"), "--model",
           str(indexed.model), "--db", str(db), "--batch-size", "1", "--workers", "0", "--no-progress"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"}, start_new_session=True)
    seen, deadline = [], time.monotonic() + 180
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stderr], [], [], 1.0)
            line = proc.stderr.readline() if ready else ""
            if line:
                seen.append(line)
                if "batch 0:" in line:  # the run holds the index and is writing batches
                    break
            elif proc.poll() is not None:
                break
        assert any("batch 0:" in line for line in seen), "".join(seen[-20:])
        t0 = time.monotonic()
        res = runner.invoke(app, ["query", "MRI of the knee", "--db", str(db), "--model", str(indexed.model),
                                  "--lock-wait", "0"])  # at once: the run holds the index for seconds more
        writing = proc.poll() is None
        assert time.monotonic() - t0 < 30  # no waiting on the lock
        if writing:  # (a run that already finished makes the query answer instead)
            assert res.exit_code == 3 and "is busy" in res.output, res.output
        rest, _ = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    assert writing, "the index run ended before the query could meet it; make the run longer"
    assert proc.returncode == 0, "".join(seen[-10:]) + rest[-2000:]
    res = runner.invoke(app, ["query", "MRI of the knee", "--db", str(db), "--json", "-k", "100"])
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.stdout)["hits"]) == indexed.n_series  # every series there, once

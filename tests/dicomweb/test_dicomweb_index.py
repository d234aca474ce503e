"""Indexing straight from a real Orthanc over DICOMweb: the same series keys, payloads and embeddings as the same
files read from disk; re-runs that fetch only the new series; a run killed midway and resumed; ``inspect`` and
``--since`` over DICOMweb; viewer links from ``--keep-uids``."""

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
import pyarrow.parquet as pq
import pydicom
from typer.testing import CliRunner

from benchmarks.orthanc_server import dicom_files
from mri_search.cli import app

runner = CliRunner()


def _index(source: str, model_dir: Path, db: Path, *extra: str) -> dict:
    res = runner.invoke(app, ["index", source, "--model", str(model_dir), "--db", str(db), "--workers", "0",
                              "--no-progress", "--salt", "dw-test", "--json", *extra])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout.strip().splitlines()[-1])


def _rows(parquet: Path) -> dict[str, dict]:
    return {r["series_key"]: r for r in pq.read_table(parquet).to_pylist()}


def test_dicomweb_index_equals_disk_index(orthanc, credentials, archive, model_dir, tmp_path):
    assert orthanc.upload(dicom_files(archive)) > 0
    orthanc.wait_stable()
    src = f"dicomweb+{orthanc.url}"
    over_web = _index(src, model_dir, tmp_path / "web", "--parquet", str(tmp_path / "web.parquet"),
                      "--reports", str(archive / "reports.csv"))
    from_disk = _index(str(archive), model_dir, tmp_path / "disk", "--parquet", str(tmp_path / "disk.parquet"))
    assert over_web["indexed"] == from_disk["indexed"] == 15 and over_web["failed"] == 0
    web, disk = _rows(tmp_path / "web.parquet"), _rows(tmp_path / "disk.parquet")
    assert set(web) == set(disk) and len(web) == 15  # the same series keys, hence the same point ids
    for key, d in disk.items():
        w = web[key]
        assert w["id"] == d["id"]
        assert np.max(np.abs(np.array(w["image_embedding"]) - np.array(d["image_embedding"]))) <= 1e-5
        assert np.max(np.abs(np.array(w["report_embedding"]) - np.array(d["report_embedding"]))) <= 1e-5
        # the payload too, but for where the first file is: a URL and hashed UIDs instead of a de-identified path
        same = {k: v for k, v in w.items() if k not in ("path", "image_embedding", "report_embedding")}
        assert same == {k: v for k, v in d.items() if k in same}, key
        assert w["path"].startswith(orthanc.url) and w["study_uid"] == w["series_uid"] == ""


def test_rerun_fetches_only_new_series(orthanc, credentials, archive, later_archive, model_dir, tmp_path):
    orthanc.upload(dicom_files(archive))
    orthanc.wait_stable()
    src, db = f"dicomweb+{orthanc.url}", tmp_path / "db"
    first = _index(src, model_dir, db)
    assert first["indexed"] == 15
    orthanc.upload(dicom_files(later_archive))
    orthanc.wait_stable()
    n_new = len({pydicom.dcmread(f, stop_before_pixels=True).SeriesInstanceUID for f in dicom_files(later_archive)})
    second = _index(src, model_dir, db)
    # only the new study's series are listed (Orthanc's change log), and only they are embedded
    assert second["series_found"] == second["indexed"] == n_new - second["files_skipped"] > 0
    assert second["present"] == 0
    third = _index(src, model_dir, db)
    assert third["series_found"] == third["indexed"] == 0
    # a full listing again (another collection): everything is there once
    full = _index(src, model_dir, db, "--collection", "again")
    assert full["indexed"] == first["indexed"] + second["indexed"]


def test_inspect_and_since_over_dicomweb(orthanc, credentials, archive, tmp_path, monkeypatch):
    orthanc.upload(dicom_files(archive))
    orthanc.wait_stable()
    monkeypatch.setattr("mri_search.ingest.dicomweb.LIST_PAGE", 4)  # 15 series: the listing pages by offset
    src = f"dicomweb+{orthanc.url}"
    res = runner.invoke(app, ["inspect", src, "--salt", "dw-test", "--json"])
    assert res.exit_code == 0, res.output
    web = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    disk_res = runner.invoke(app, ["inspect", str(archive), "--salt", "dw-test", "--json"])
    disk = [json.loads(line) for line in disk_res.stdout.splitlines() if line.startswith("{")]
    web_keys = {r["key"] for r in web if "key" in r}
    assert web_keys and web_keys == {r["key"] for r in disk if "key" in r}
    assert "2.25." not in res.output  # no raw UID in what inspect prints (dicomweb-client's own logs included)
    dates = {}
    for f in dicom_files(archive):
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        dates[ds.StudyDate] = dates.get(ds.StudyDate, set()) | {ds.SeriesInstanceUID}
    cut = sorted(dates)[-1]
    res = runner.invoke(app, ["inspect", src, "--salt", "dw-test", "--json", "--since",
                              f"{cut[:4]}-{cut[4:6]}-{cut[6:]}"])
    assert res.exit_code == 0, res.output
    recent = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    assert 0 < len([r for r in recent if "key" in r]) < len(web_keys)


def test_viewer_links_need_keep_uids(orthanc, credentials, archive, model_dir, tmp_path):
    orthanc.upload(dicom_files(archive))
    orthanc.wait_stable()
    src = f"dicomweb+{orthanc.url}"
    viewer = "http://pacs.example/ohif/viewer?StudyInstanceUIDs={study_uid}"
    _index(src, model_dir, tmp_path / "kept", "--keep-uids")
    _index(src, model_dir, tmp_path / "hashed")
    studies = {pydicom.dcmread(f, stop_before_pixels=True).StudyInstanceUID for f in dicom_files(archive)}
    q = ["query", "knee", "--model", str(model_dir), "--salt", "dw-test", "--viewer-url", viewer, "--top-k", "5"]
    res = runner.invoke(app, [*q, "--db", str(tmp_path / "kept"), "--json"])
    assert res.exit_code == 0, res.output
    links = [h["viewer_url"] for h in json.loads(res.stdout)["hits"]]
    assert len(links) == 5 and all(u.split("=", 1)[1] in studies for u in links)
    res = runner.invoke(app, [*q, "--db", str(tmp_path / "hashed"), "--thumbnails", str(tmp_path / "thumbs")])
    assert res.exit_code == 0 and "index it with --keep-uids" in res.stdout
    # thumbnails of DICOMweb hits: the locator names the server, and the series is read again from it
    assert "could not be read" not in res.stdout, res.stdout
    assert len(list((tmp_path / "thumbs").glob("*.png"))) == 6  # 5 hits and the contact sheet
    res = runner.invoke(app, [*q[:-4], "--viewer-url", "http://x/{patient}", "--db", str(tmp_path / "kept")])
    assert res.exit_code == 2 and "{study_uid}" in res.output and "Traceback" not in res.output
    # the page links the same hits (its JSON API, on the same index)
    from fastapi.testclient import TestClient

    from mri_search.web import ServeCfg, WebState, create_app

    state = WebState.open(ServeCfg(db=tmp_path / "kept", model=model_dir, salt="dw-test", viewer_url=viewer))
    try:
        body = TestClient(create_app(state)).get("/api/search", params={"q": "knee", "top_k": 5}).json()
    finally:
        state.close()
    assert [h["viewer_url"] for h in body["hits"]] == links


def test_sigkill_mid_run_then_resume(orthanc, credentials, archive, model_dir, tmp_path):
    orthanc.upload(dicom_files(archive))
    orthanc.wait_stable()
    src, db = f"dicomweb+{orthanc.url}", tmp_path / "db"
    cmd = [sys.executable, "-m", "mri_search.cli", "-v", "index", src, "--model", str(model_dir), "--db", str(db),
           "--batch-size", "2", "--workers", "1", "--no-progress", "--salt", "dw-test"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env=dict(os.environ), start_new_session=True)
    killed, deadline = False, time.monotonic() + 180
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            ready, _, _ = select.select([proc.stderr], [], [], 1.0)
            if ready and "batch 1:" in proc.stderr.readline():  # two batches written, the third in flight
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
                break
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert killed, "the run ended before it could be killed"
    resumed = _index(src, model_dir, db, "--parquet", str(tmp_path / "rows.parquet"))
    # the killed run recorded no change-log position (it never finished), so this one lists everything again
    assert 4 <= resumed["present"] < 15 and resumed["indexed"] + resumed["present"] == 15
    rows = pq.read_table(tmp_path / "rows.parquet").to_pylist()
    assert len(rows) == len({r["id"] for r in rows}) == 15
    again = _index(src, model_dir, db)
    assert again["series_found"] == again["indexed"] == 0  # now the change log is followed

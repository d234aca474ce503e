"""DICOMweb sources that go wrong: each is one line a user can act on, and the run goes on where it can."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pydicom
from pydicom.uid import generate_uid
from typer.testing import CliRunner

from benchmarks.orthanc_server import dicom_files
from indexer.config import IndexCfg
from mri_search.cli import app

runner = CliRunner()


def _args(src: str, model_dir: Path, db: Path) -> list[str]:
    return ["index", src, "--model", str(model_dir), "--db", str(db), "--workers", "0", "--no-progress",
            "--salt", "dw-test", "--retries", "1", "--timeout", "5"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _errors(tmp_path: Path) -> str:
    return (tmp_path / "errors.tsv").read_text()


def test_unreachable_server_refused_credentials_and_urls(orthanc, archive, model_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("MRI_SEARCH_DICOMWEB_USER", raising=False)
    monkeypatch.delenv("MRI_SEARCH_DICOMWEB_TOKEN", raising=False)
    cases = [
        (f"dicomweb+http://127.0.0.1:{_closed_port()}/dicom-web", "cannot reach the DICOMweb server"),
        (f"dicomweb+{orthanc.url}", "HTTP 401"),  # the server wants basic auth; none was set
        ("dicomweb+http://user:pw@127.0.0.1:1/dicom-web", "credentials in the URL are refused"),
        ("dicomweb+ftp://host/dicom-web", "dicomweb+http://HOST:8042/dicom-web"),
    ]
    for src, message in cases:
        for cmd in (_args(src, model_dir, tmp_path / "db"), ["inspect", src, "--salt", "dw-test"]):
            res = runner.invoke(app, cmd)
            assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output, (cmd, res.output)
            assert "pw@" not in res.output
    res = runner.invoke(app, _args(f"dicomweb+{orthanc.url}", model_dir, tmp_path / "db"))
    assert "MRI_SEARCH_DICOMWEB_USER" in res.output  # the line says how to give credentials
    monkeypatch.setenv("MRI_SEARCH_DICOMWEB_USER", "radiology")
    monkeypatch.setenv("MRI_SEARCH_DICOMWEB_PASSWORD", "wrong")
    res = runner.invoke(app, ["inspect", f"dicomweb+{orthanc.url}", "--salt", "dw-test"])
    assert res.exit_code == 2 and "HTTP 401" in res.output
    res = runner.invoke(app, ["index", str(archive), "--model", str(model_dir), "--since", "2024-01-01"])
    assert res.exit_code == 2 and "--since applies to a DICOMweb source" in res.output
    res = runner.invoke(app, ["inspect", f"dicomweb+{orthanc.url}", "--since", "yesterday"])
    assert res.exit_code == 2 and "YYYY-MM-DD" in res.output


def test_non_mr_study_is_one_line(orthanc, credentials, archive, model_dir, tmp_path):
    files = dicom_files(archive)
    orthanc.upload(files)
    ct = pydicom.dcmread(files[0])  # a CT image of another study, as a mixed PACS holds
    ct.Modality = "CT"
    ct.StudyInstanceUID, ct.SeriesInstanceUID = generate_uid(), generate_uid()
    ct.SOPInstanceUID = ct.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ct.save_as(tmp_path / "ct.dcm")
    orthanc.upload([tmp_path / "ct.dcm"])
    orthanc.wait_stable()
    res = runner.invoke(app, [*_args(f"dicomweb+{orthanc.url}", model_dir, tmp_path / "db"), "--json",
                              "--errors", str(tmp_path / "errors.tsv")])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["indexed"] == 15 and summary["files_skipped"] == 1
    assert "modality CT, not MR" in _errors(tmp_path) and ct.StudyInstanceUID not in _errors(tmp_path)


def test_series_deleted_mid_run(orthanc, credentials, archive, model_dir, tmp_path, monkeypatch):
    orthanc.upload(dicom_files(archive))
    orthanc.wait_stable()
    import indexer.run as run

    real = run.open_source
    gone = {}

    def delete_after_listing(*a, **k):  # the PACS loses a series between the listing and the pixel retrieval
        source = real(*a, **k)
        victim = next(r for r in source.scan.series if r.stack_index == 0)
        uid = victim.files[0].member.split("/")[3]
        orthanc.delete_series(uid)
        gone["key"] = victim.key
        return source

    monkeypatch.setattr(run, "open_source", delete_after_listing)
    cfg = IndexCfg(archive=None, dicomweb=orthanc.url, model=model_dir, db=tmp_path / "db", workers=0,
                   salt="dw-test", progress=False, errors=tmp_path / "errors.tsv", dicomweb_retries=1)
    summary = run.run_index(cfg)
    assert summary.indexed == 14 and summary.failed == 1
    assert "deleted since the scan" in _errors(tmp_path) and gone["key"] in _errors(tmp_path)
    # the next run tries that series again (a failure may be passing), finds it gone, and lets it go
    monkeypatch.setattr(run, "open_source", real)
    again = run.run_index(cfg)
    assert again.indexed == again.failed == 0 and again.files_skipped == 1
    assert "not on the server any more" in _errors(tmp_path)
    assert run.run_index(cfg).files_skipped == 0


def test_half_uploaded_series_waits_for_the_next_run(slow_orthanc, credentials, archive, model_dir, tmp_path):
    files = dicom_files(archive)
    by_series: dict[str, list[Path]] = {}
    for f in files:
        by_series.setdefault(pydicom.dcmread(f, stop_before_pixels=True).SeriesInstanceUID, []).append(f)
    big = max(by_series, key=lambda s: len(by_series[s]))
    rest = [f for s, fs in by_series.items() if s != big for f in fs]
    slow_orthanc.upload(rest)
    slow_orthanc.wait_stable()
    half = len(by_series[big]) // 2
    slow_orthanc.upload(by_series[big][:half])  # the modality is still sending this one
    src = f"dicomweb+{slow_orthanc.url}"
    args = [*_args(src, model_dir, tmp_path / "db"), "--json", "--errors", str(tmp_path / "errors.tsv")]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    first = json.loads(res.stdout.strip().splitlines()[-1])
    assert first["indexed"] == 14 and first["failed"] == 0 and first["files_skipped"] == 1
    assert "still receiving this series" in _errors(tmp_path)
    slow_orthanc.upload(by_series[big][half:])
    slow_orthanc.wait_stable()
    res = runner.invoke(app, args)
    second = json.loads(res.stdout.strip().splitlines()[-1])
    assert second["indexed"] == 1 and second["failed"] == 0  # the whole series, once it is complete

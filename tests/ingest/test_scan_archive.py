"""The whole ingestion path over a corpus of broken inputs: one clear line each, every good series still read."""

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest

from mri_search.ingest.archive import inspect_lines, load_series, scan_archive, write_error_report
from mri_search.ingest.config import ScanOptions
from mri_search.synth.archive import run_synth
from mri_search.synth.config import SynthConfig
from mri_search.synth.manifest import read_manifest


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("scan") / "good"
    run_synth(SynthConfig(out=out, studies=2, seed=4, format="both", regions=("knee", "brain"), matrix_scale=0.25,
                          enhanced_fraction=0.0), progress=lambda *_: None)
    return out


def _single_frame_series(archive: Path) -> list[Path]:
    """Files of one plain single-frame, single-b series with at least 5 slices, in slice order."""
    for r in read_manifest(archive).to_pylist():
        if r["dicom_layout"] == "single" and not r["b_values"] and r["sequence"] != "ADC" and r["shape"][0] >= 5:
            return [archive / p for p in r["dicom_paths"]]
    raise AssertionError("no suitable series")


def _copy_series(files: list[Path], dest: Path, tag: str) -> list[Path]:
    """Copy a series under a new SeriesInstanceUID so it is a separate series."""
    dest.mkdir(parents=True)
    uid = pydicom.uid.generate_uid(entropy_srcs=[tag])
    out = []
    for i, f in enumerate(files):
        ds = pydicom.dcmread(f)
        ds.SeriesInstanceUID = uid
        ds.SOPInstanceUID = pydicom.uid.generate_uid(entropy_srcs=[tag, str(i)])
        p = dest / f"IM{i:04d}"
        ds.save_as(p)
        out.append(p)
    return out


@pytest.fixture(scope="module")
def corpus(good, tmp_path_factory) -> Path:
    """The good archive plus one broken case per kind, side by side in one folder tree."""
    root = tmp_path_factory.mktemp("corpus") / "archive"
    shutil.copytree(good / "dicom", root / "dicom")
    src = _single_frame_series(good)
    bad = root / "broken"
    # a truncated file inside an otherwise complete series
    trunc = _copy_series(src, bad / "truncated", "trunc")
    trunc[2].write_bytes(trunc[2].read_bytes()[:700])
    # a file that is not DICOM at all
    (bad / "notes.bin").parent.mkdir(parents=True, exist_ok=True)
    (bad / "notes.bin").write_bytes(np.random.default_rng(0).bytes(4096))
    # missing pixel data
    nopix = _copy_series(src[:1], bad / "nopixels", "nopix")[0]
    ds = pydicom.dcmread(nopix)
    del ds.PixelData
    ds.save_as(nopix)
    # a series with a missing middle slice
    gap = _copy_series(src, bad / "gap", "gap")
    gap[len(gap) // 2].unlink()
    # an all-zero volume
    for f in _copy_series(src, bad / "zero", "zero"):
        ds = pydicom.dcmread(f)
        ds.PixelData = np.zeros_like(ds.pixel_array).tobytes()
        ds.save_as(f)
    # an absurd header (65535 rows: larger than any MR matrix)
    absurd = _copy_series(src[:3], bad / "absurd", "absurd")
    for f in absurd:
        ds = pydicom.dcmread(f)
        ds.Rows = 65535
        ds.save_as(f)
    # a report with an unreadable encoding, beside a good study
    study = next(p.parent for p in (root / "dicom").rglob("report.txt"))
    (study / "addendum.txt").write_bytes(np.random.default_rng(1).bytes(2000))
    return root


def test_every_broken_case_gives_one_clear_line_and_good_series_survive(good, corpus):
    clean = scan_archive(good / "dicom")
    result = scan_archive(corpus)
    reasons = {s.path: s.reason for s in result.skipped}

    def line_for(fragment: str) -> str:
        hits = [r for p, r in reasons.items() if fragment in p]
        assert hits, f"no error line for {fragment}: {reasons}"
        return " ".join(hits).lower()

    assert "truncat" in line_for("broken/truncated")
    assert "dicom" in line_for("notes.bin")
    assert "pixel" in line_for("broken/nopixels")
    assert "missing" in line_for("broken/gap") or "gap" in line_for("broken/gap")
    assert "rows" in line_for("broken/absurd") or "matrix" in line_for("broken/absurd")
    assert "encoding" in line_for("addendum.txt")
    good_keys = {r.series_uid_hash for r in clean.series}
    found = {r.series_uid_hash for r in result.series}
    assert good_keys <= found  # every good series is still read next to the broken ones
    assert len(result.reports) >= len(clean.reports) > 0
    # the all-zero series scans (its header is fine) but fails cleanly when its pixels are read
    failures = {}
    for rec in result.series:
        try:
            vol = load_series(rec)
            assert np.isfinite(vol).all() and vol.max() > 0
        except ValueError as e:
            failures[rec.files[0].display] = str(e)
    assert len(failures) == 1 and "zero" in next(iter(failures.values()))
    assert "broken/zero" in next(iter(failures))


def test_inspect_output_and_error_report(corpus, tmp_path):
    result = scan_archive(corpus)
    lines = inspect_lines(result, as_json=False)
    assert len(lines) == len(result.series) + len(result.skipped)
    err = tmp_path / "errors.tsv"
    write_error_report(result.skipped, err)
    rows = err.read_text().splitlines()
    assert rows[0] == "level\tpath\tseries\treason" and len(rows) == len(result.skipped) + 1
    import json

    objs = [json.loads(x) for x in inspect_lines(result, as_json=True)]
    assert {o["type"] for o in objs} >= {"series", "failed"}
    raw = pydicom.dcmread(next(p for p in corpus.rglob("*") if p.is_file() and p.suffix in ("", ".dcm")
                                and "broken" not in str(p)), stop_before_pixels=True, force=True)
    # identifiers never leave in record fields; file paths are the user's own (exports name folders by patient ID)
    dumped = "\n".join(json.dumps({k: v for k, v in o.items() if k not in ("files", "path", "reason")})
                       for o in objs)
    assert str(raw.PatientName) not in dumped and str(raw.PatientID) not in dumped
    assert str(raw.AccessionNumber) not in dumped and str(raw.StudyInstanceUID) not in dumped


def test_zip_with_traversal_and_bomb_members_is_read_safely(good, tmp_path):
    z = tmp_path / "upload.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted((good / "dicom").rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(good).as_posix())
        zf.writestr("../../evil.dcm", b"x" * 10)
        zf.writestr("bomb.dcm", b"\0" * (8 * 1024 * 1024))
    result = scan_archive(z, ScanOptions(max_compression_ratio=100.0))
    reasons = " ".join(s.reason.lower() for s in result.skipped)
    assert any("evil" in s.path for s in result.skipped) and ("unsafe" in reasons or ".." in reasons)
    assert any("bomb" in s.path for s in result.skipped)
    assert not (tmp_path.parent / "evil.dcm").exists() and not (tmp_path / "evil.dcm").exists()
    clean = scan_archive(good / "dicom")
    assert {r.series_uid_hash for r in clean.series} == {r.series_uid_hash for r in result.series}


def test_not_an_archive_is_a_clean_error(tmp_path):
    with pytest.raises(ValueError):
        scan_archive(tmp_path / "does-not-exist")

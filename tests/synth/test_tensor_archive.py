"""``synth --format tensors``: per series the tensor ingestion + preprocessing make of the written files, stored
once; resumable; read by pretraining without preprocessing again."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from mri_search.ingest.archive import scan_archive
from mri_search.ingest.config import ScanOptions
from mri_search.preprocess import default_preprocess, preprocess
from mri_search.synth.archive import run_synth
from mri_search.synth.config import SynthConfig
from mri_search.synth.manifest import read_manifest
from mri_search.tensor_archive import (MARKER, PreprocessMismatch, TensorStore, check_preprocess, list_series,
                                       read_marker, study_files)

REGIONS = ("head_neck", "knee", "abdomen")
SEED = 11
# the same tensor as through the files: uint8 storage rounds to 1/255, float32 vs the writers' integer rounding
CORRELATION_MIN = 0.99
MAX_ABS_DIFF = 2.5 / 255


def _cfg(out: Path, fmt: str, **kw) -> SynthConfig:
    return SynthConfig(out=out, studies=3, seed=SEED, format=fmt, regions=REGIONS, matrix_scale=0.4,
                       enhanced_fraction=0.5, **kw)


@pytest.fixture(scope="module")
def archives(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("tensors")
    files, tensors = root / "files", root / "tensors"
    run_synth(_cfg(files, "both"), progress=lambda *_: None)
    run_synth(_cfg(tensors, "tensors"), progress=lambda *_: None)
    return files, tensors


def test_tensors_match_the_written_dicom_and_nifti_files(archives):
    files, tensors = archives
    pcfg = default_preprocess(96)
    store = TensorStore(tensors, pcfg)
    series, problems = list_series(tensors)
    assert not problems
    by_uid = {rec.key: rec for rec, _ in series}
    manifest = read_manifest(files).to_pylist()
    assert set(by_uid) == {r["series_uid"] for r in manifest}
    nifti_uid = {r["nifti_path"]: r["series_uid"] for r in manifest}
    scan = scan_archive(files, ScanOptions(keep_uids=True, workers=1))
    compared = {"dicom": 0, "nifti": 0}
    for rec in scan.series:
        uid = rec.series_uid if rec.source == "dicom" else nifti_uid[rec.files[0].member]
        mine = store(by_uid[uid])
        theirs = preprocess(rec, pcfg)
        assert mine.shape == theirs.shape == (1, 96, 96, 96)
        assert mine.dtype == torch.float32
        np.testing.assert_allclose(mine.affine.numpy(), theirs.affine.numpy(), atol=1e-3)
        a, b = mine.as_tensor().flatten().numpy(), theirs.as_tensor().flatten().numpy()
        assert np.corrcoef(a, b)[0, 1] >= CORRELATION_MIN, (rec.source, rec.sequence)
        assert np.abs(a - b).max() <= MAX_ABS_DIFF, (rec.source, rec.sequence)
        compared[rec.source] += 1
    assert compared["dicom"] == compared["nifti"] == len(manifest)


def test_a_series_costs_at_most_one_megabyte_and_the_manifest_is_the_file_archives(archives):
    files, tensors = archives
    n = len(read_manifest(tensors))
    size = sum(p.stat().st_size for p in study_files(tensors))
    assert size / n <= 1_000_000
    assert not (tensors / "dicom").exists() and not (tensors / "nifti").exists()
    drop = ("dicom_paths", "dicom_layout", "nifti_path", "report_path", "export_style")
    strip = lambda rows: [{k: v for k, v in r.items() if k not in drop} for r in rows]  # noqa: E731
    assert strip(read_manifest(tensors).to_pylist()) == strip(read_manifest(files).to_pylist())
    reports = {rec.study_key: text for rec, text in list_series(tensors)[0]}
    on_disk = {r["study_uid"]: (files / r["report_path"]).read_text() for r in read_manifest(files).to_pylist()}
    assert reports == on_disk


def test_a_rerun_resumes_and_other_settings_are_refused(archives, tmp_path):
    _, tensors = archives
    out = tmp_path / "t"
    shutil.copytree(tensors, out)
    first = study_files(out)[0]
    before, manifest = first.read_bytes(), read_manifest(out)
    first.unlink()
    lines = []
    summary = run_synth(_cfg(out, "tensors"), progress=lines.append)
    assert "resuming" in lines[0] and "2 of 3" in lines[0]
    assert summary.studies == 3 and len(lines) == 2  # the resume line and the one study made again
    assert first.read_bytes() == before
    assert read_manifest(out).equals(manifest)  # the kept studies' rows come back from their files unchanged
    with pytest.raises(FileExistsError, match="beyond the first 2"):
        run_synth(SynthConfig(out=out, studies=2, seed=SEED, format="tensors", regions=REGIONS, matrix_scale=0.4,
                              enhanced_fraction=0.5), progress=lambda *_: None)
    with pytest.raises(FileExistsError, match="other settings"):
        run_synth(SynthConfig(out=out, studies=3, seed=SEED + 1, format="tensors", regions=REGIONS,
                              matrix_scale=0.4), progress=lambda *_: None)
    with pytest.raises(FileExistsError, match="other settings"):
        run_synth(_cfg(out, "tensors", preprocess=default_preprocess(64)), progress=lambda *_: None)


def test_a_rerun_with_more_studies_grows_the_archive(archives, tmp_path):
    _, tensors = archives
    out = tmp_path / "t"
    shutil.copytree(tensors, out)
    before = {p.name: p.read_bytes() for p in study_files(out)}
    lines = []
    summary = run_synth(SynthConfig(out=out, studies=4, seed=SEED, format="tensors", regions=REGIONS,
                                    matrix_scale=0.4, enhanced_fraction=0.5), progress=lines.append)
    assert "3 of 4" in lines[0] and summary.studies == 4 and len(study_files(out)) == 4
    assert all(p.read_bytes() == before[p.name] for p in study_files(out) if p.name in before)
    assert len(read_manifest(out).to_pylist()) == summary.series


def test_another_preprocessing_is_refused_by_name(archives):
    _, tensors = archives
    assert read_marker(tensors)["preprocess"]["size"] == [96, 96, 96]
    with pytest.raises(PreprocessMismatch, match=r"size \[96, 96, 96\] \(archive\) vs \[64, 64, 64\] \(model\)"):
        check_preprocess(tensors, default_preprocess(64))


def test_label_maps_need_a_file_format(tmp_path):
    with pytest.raises(ValueError, match="--label-maps"):
        SynthConfig(out=tmp_path, format="tensors", label_maps=True).validate()


def test_a_damaged_study_file_loses_its_own_study_only(archives, tmp_path):
    _, tensors = archives
    out = tmp_path / "t"
    shutil.copytree(tensors, out)
    bad = study_files(out)[1]
    bad.write_bytes(b"\x00\xff" * 40)
    series, problems = list_series(out)
    assert [p for p, _ in problems] == [str(bad)]
    assert len({rec.study_key for rec, _ in series}) == 2
    (out / MARKER).write_text("{")
    with pytest.raises(ValueError, match="not a readable tensor-archive marker"):
        list_series(out)


def test_the_command_writes_a_tensor_archive_and_refuses_bad_options(tmp_path):
    from typer.testing import CliRunner

    from mri_search.cli import app

    runner = CliRunner()
    out = tmp_path / "t"
    res = runner.invoke(app, ["synth", str(out), "--format", "tensors", "--studies", "1", "--regions", "knee",
                              "--matrix-scale", "0.2", "--tensor-size", "32"])
    assert res.exit_code == 0, res.output
    assert read_marker(out)["preprocess"]["size"] == [32, 32, 32] and len(study_files(out)) == 1
    res = runner.invoke(app, ["synth-summary", str(out)])
    assert res.exit_code == 0 and "knee" in res.output
    for bad, word in ((["--label-maps"], "--label-maps"), (["--tensor-size", "4"], "--tensor-size")):
        res = runner.invoke(app, ["synth", str(tmp_path / "o"), "--format", "tensors", *bad])
        assert res.exit_code == 2 and word in res.output and "Traceback" not in res.output

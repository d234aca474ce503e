"""Label files that do not fit their series, and unknown structures, are clear errors naming what is wrong."""

from __future__ import annotations

import shutil

import nibabel as nib
import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from mri_search.cli import app
from mri_search.decoders.data import archive_cases
from mri_search.decoders.labels import load_label_map, read_label_table
from mri_search.decoders.structures import STRUCTURE_SETS, resolve_structures


@pytest.fixture(scope="module")
def case(seg_archive):
    return next(c for c in archive_cases(seg_archive) if c.sequence == "T2")


def _write(path, data, affine):
    nib.save(nib.Nifti1Image(np.asarray(data), affine), str(path))


def test_a_good_label_map_loads_on_its_series_grid(case, seg_archive):
    known = set(read_label_table(seg_archive).values())
    lab = load_label_map(case.label, case.record, known)
    assert tuple(lab.shape) == (1, *reversed(case.record.shape))
    assert np.allclose(lab.affine.numpy(), nib.load(case.label).affine, atol=1e-4)


def test_bad_label_files_are_refused_with_the_reason(case, seg_archive, tmp_path):
    known = set(read_label_table(seg_archive).values())
    img = nib.load(case.label)
    data, affine = np.asarray(img.dataobj), img.affine
    bad = tmp_path / "bad_dseg.nii.gz"
    _write(bad, data[:-1], affine)
    with pytest.raises(ValueError, match=r"bad_dseg.nii.gz: shape .* differs from its series"):
        load_label_map(bad, case.record, known)
    wrong = data.copy()
    wrong[0, 0, 0] = 250
    _write(bad, wrong, affine)
    with pytest.raises(ValueError, match=r"labels \[250\] are not in the label table"):
        load_label_map(bad, case.record, known)
    _write(bad, data.astype(np.float32) + 0.5, affine)
    with pytest.raises(ValueError, match="labels must be integers"):
        load_label_map(bad, case.record, known)
    shifted = affine.copy()
    shifted[:3, 3] += 20.0
    _write(bad, data, shifted)
    with pytest.raises(ValueError, match="not on its series' grid"):
        load_label_map(bad, case.record, known)
    bad.write_bytes(b"not a nifti")
    with pytest.raises(ValueError, match="unreadable"):
        load_label_map(bad, case.record, known)


def test_structure_sets_resolve_to_label_groups(seg_archive):
    table = read_label_table(seg_archive)
    brain = resolve_structures("brain", table)
    assert brain.names == ("csf", "white_matter", "grey_matter", "lesion") and brain.regions == ("brain",)
    lookup = brain.lookup()
    assert lookup[table["white_matter"]] == 2 and lookup[table["glioblastoma"]] == 4 and lookup[table["fat"]] == 0
    cardiac = resolve_structures("cardiac", table)  # myocardial scar belongs to the myocardium there
    assert table["myocardial_scar"] in cardiac.labels[0]
    custom = resolve_structures("liver,kidney=kidney_cortex+kidney_medulla,lesion", table)
    assert custom.names == ("liver", "kidney", "lesion") and table["liver"] not in custom.labels[2]
    assert custom.labels[1] == (table["kidney_cortex"], table["kidney_medulla"])
    for name in STRUCTURE_SETS:
        assert resolve_structures(name, table).num_classes >= 4
    with pytest.raises(ValueError, match="unknown structure set 'lungs'"):
        resolve_structures("lungs", table)
    with pytest.raises(ValueError, match="tissue 'livr' is not in the label table"):
        resolve_structures("liver,livr", table)


def test_train_stops_on_a_bad_label_file_with_one_line(seg_archive, tiny_model, cache_dir, tmp_path):
    archive = tmp_path / "archive"
    shutil.copytree(seg_archive, archive)
    row = next(r for r in pq.read_table(archive / "manifest.parquet").to_pylist() if r["label_path"])
    img = nib.load(archive / row["label_path"])
    _write(archive / row["label_path"], np.asarray(img.dataobj)[:, :-2], img.affine)
    res = CliRunner().invoke(app, ["segment", "train", str(archive), "--model", str(tiny_model), "--out",
                                   str(tmp_path / "dec"), "--steps", "1", "--cache-dir", str(cache_dir)])
    assert res.exit_code == 2, res.output
    assert "error: label file" in res.output and "differs from its series" in res.output
    assert "Traceback" not in res.output
    res = CliRunner().invoke(app, ["segment", "train", str(archive), "--model", str(tiny_model), "--out",
                                   str(tmp_path / "dec"), "--structures", "lungs"])
    assert res.exit_code == 2 and "unknown structure set 'lungs'" in res.output

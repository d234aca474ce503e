"""NIfTI series: our generator's BIDS archive against its manifest and DICOM twin, nibabel's images, broken files."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import zipfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pyarrow.parquet as pq
import pydicom
import pytest

from mri_search.ingest.config import ScanOptions
from mri_search.ingest.containers import classify, list_files
from mri_search.ingest.nifti import load_nifti, scan_nifti
from mri_search.ingest.phi import hash_id
from mri_search.ingest.salt import installation_salt
from mri_search.ingest.records import FileRef
from mri_search.synth.archive import run_synth
from mri_search.synth.config import SynthConfig

NIBABEL_DATA = Path(nib.__file__).parent / "tests" / "data"


def _scan(root: Path, options: ScanOptions | None = None):
    options = options or ScanOptions()
    refs, skips = list_files(root, options)
    assert skips == []
    nifti = [r for r in refs if classify(r) == "nifti"]
    sidecars = {r.member[: -len(".json")]: r for r in refs if classify(r) == "sidecar"}
    return scan_nifti(nifti, sidecars, options)


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    out = tmp_path_factory.mktemp("nii") / "arch"
    run_synth(SynthConfig(out=out, studies=3, seed=2, format="both", matrix_scale=0.3,
                          regions=("brain", "knee", "abdomen")), progress=lambda *a: None)
    manifest = {r["nifti_path"]: r for r in pq.read_table(out / "manifest.parquet").to_pylist()}
    return out, manifest


def _dicom_geometry(root: Path, paths: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Index (column, row, slice) -> LPS affine from DICOM headers, and the slices' pixels in that order."""
    planes = []  # (ipp, iop, spacing, pixels of that frame or None)
    for p in paths:
        ds = pydicom.dcmread(root / p)
        if "PerFrameFunctionalGroupsSequence" in ds:
            shared = ds.SharedFunctionalGroupsSequence[0]
            iop = shared.PlaneOrientationSequence[0].ImageOrientationPatient
            sp = shared.PixelMeasuresSequence[0].PixelSpacing
            for fr in ds.PerFrameFunctionalGroupsSequence:
                planes.append((fr.PlanePositionSequence[0].ImagePositionPatient, iop, sp, None))
        else:
            px = ds.pixel_array * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))
            planes.append((ds.ImagePositionPatient, ds.ImageOrientationPatient, ds.PixelSpacing, px))
    iop = np.array(planes[0][1], float)
    row_dir, col_dir = iop[:3], iop[3:]
    normal = np.cross(row_dir, col_dir)
    by_pos: dict[float, tuple] = {}
    for ipp, _, sp, px in planes:  # DWI repeats each position once per b-value: keep the first
        by_pos.setdefault(round(float(np.dot(np.array(ipp, float), normal)), 3), (np.array(ipp, float), sp, px))
    order = [by_pos[k] for k in sorted(by_pos)]
    a = np.eye(4)
    sp = order[0][1]
    a[:3, 0] = row_dir * float(sp[1])
    a[:3, 1] = col_dir * float(sp[0])
    a[:3, 2] = (order[-1][0] - order[0][0]) / max(len(order) - 1, 1)
    a[:3, 3] = order[0][0]
    return a, [o[2] for o in order]


def test_every_generated_nifti_series_matches_manifest_and_dicom_twin(archive):
    root, manifest = archive
    records, skips = _scan(root)
    assert skips == []
    by_path = {r.files[0].member: r for r in records}
    assert set(by_path) == set(manifest) and len(records) == len(manifest) >= 12
    salt = ScanOptions().salt
    pixel_checked = 0
    for path, m in manifest.items():
        rec = by_path[path]
        assert rec.source == "nifti" and rec.layout == "nifti" and rec.modality == "MR"
        assert (rec.sequence, rec.post_contrast, rec.plane) == (m["sequence"], m["post_contrast"], m["plane"]), path
        assert rec.fat_suppressed == (m["fat_suppression"] != "none"), path
        assert rec.sequence_evidence in ("description", "tags")
        assert rec.shape == tuple(m["shape"])
        np.testing.assert_allclose(rec.spacing, (m["slice_step"], *m["pixel_spacing"]), rtol=1e-5)
        assert rec.b_values == tuple(m["b_values"])
        assert rec.echo_time == pytest.approx(m["te_ms"]) and rec.repetition_time == pytest.approx(m["tr_ms"])
        assert (rec.series_number, rec.manufacturer, rec.field_strength) == (
            m["series_number"], m["manufacturer"], m["field_strength"])
        assert rec.series_description == m["series_description"]
        assert rec.body_part == (m["body_part_examined"] or "")
        # identifiers: salted hashes only, the same ones a DICOM record of the study gets
        assert rec.study_key == hash_id(salt, m["study_uid"]) and rec.series_uid_hash == hash_id(salt, m["series_uid"])
        assert rec.patient_key == hash_id(salt, m["patient_id"]) and rec.key == hash_id(salt, "nifti:" + path)
        dumped = json.dumps(rec.to_dict())
        assert rec.phi == {} and m["study_uid"] not in dumped and m["patient_id"] not in dumped.replace(path, "")
        # geometry equals the DICOM twin's headers
        affine, slices = _dicom_geometry(root, m["dicom_paths"])
        np.testing.assert_allclose(np.array(rec.affine_lps), affine, atol=1e-3)
        if m["dicom_layout"] == "single" and not m["b_values"] and pixel_checked < 4:
            vol = load_nifti(rec)
            assert vol.dtype == np.float32 and vol.shape == rec.shape
            np.testing.assert_allclose(vol, np.stack(slices), rtol=1e-5, atol=1e-3)
            pixel_checked += 1
    assert pixel_checked >= 2


def test_dwi_gets_b_values_from_bval_and_loads_every_volume(archive):
    root, manifest = archive
    records, _ = _scan(root)
    dwi = [r for r in records if r.sequence == "DWI"]
    assert dwi, "the archive should hold a DWI series"
    for rec in dwi:
        bval = (root / rec.files[0].member.replace(".nii.gz", ".bval")).read_text().split()
        assert rec.b_values == tuple(int(b) for b in bval) and len(rec.b_values) >= 2
        vol = load_nifti(rec)
        assert vol.shape == (len(rec.b_values), *rec.shape)
        raw = np.asanyarray(nib.load(root / rec.files[0].member).get_fdata(dtype=np.float32))  # [C, R, S, B]
        np.testing.assert_array_equal(vol[1], raw[..., 1].transpose(2, 1, 0))


def test_archive_in_a_zip_reads_like_the_folder(archive, tmp_path):
    root, manifest = archive
    arch = tmp_path / "nifti.zip"
    with zipfile.ZipFile(arch, "w", zipfile.ZIP_STORED) as zf:
        for p in sorted((root / "nifti").rglob("*")):
            if p.is_file():
                zf.write(p, p.relative_to(root).as_posix())
    zipped, skips = _scan(arch)
    folder, _ = _scan(root)
    assert skips == []
    strip = lambda r: {k: v for k, v in r.to_dict().items() if k not in ("files", "stored_path")}  # noqa: E731 (paths differ)
    assert sorted(map(json.dumps, map(strip, zipped))) == sorted(map(json.dumps, map(strip, folder)))
    dwi = next(r for r in zipped if r.b_values)
    assert load_nifti(dwi).shape[0] == len(dwi.b_values)


def test_include_phi_and_filename_fallback(archive, tmp_path):
    root, manifest = archive
    src = next(p for p in manifest if "_ce-" in p)
    m = manifest[src]
    bare = tmp_path / "bids"
    dst = bare / src
    dst.parent.mkdir(parents=True)
    shutil.copy(root / src, dst)  # image without its sidecar
    opts = ScanOptions(salt="site-7", include_phi=True)
    [rec], skips = scan_nifti([FileRef(str(bare), src, "dir", dst.stat().st_size)], {}, opts)
    assert skips == []
    assert (rec.sequence, rec.sequence_evidence, rec.post_contrast) == ("T1C", "filename", True)
    sub, ses = Path(src).parts[1], Path(src).parts[2]
    assert rec.study_key == hash_id("site-7", f"nifti-session:{sub}/{ses}")
    assert rec.patient_key == hash_id("site-7", m["patient_id"]) and rec.series_uid_hash == ""
    assert rec.phi["PatientID"] == m["patient_id"] and rec.phi["session"] == f"{sub}/{ses}"
    assert rec.shape == tuple(m["shape"]) and rec.manufacturer == ""


def test_nibabel_shipped_images():
    names = ["anatomical.nii", "example4d.nii.gz", "example_nifti2.nii.gz", "functional.nii", "standard.nii.gz",
             "resampled_anat_moved.nii", "row_major.dconn.nii"]
    refs = [FileRef(str(NIBABEL_DATA), n, "dir", (NIBABEL_DATA / n).stat().st_size) for n in names]
    records, skips = scan_nifti(refs, {}, ScanOptions())
    got = {r.files[0].member: r for r in records}
    assert {s.path.rsplit("/", 1)[-1]: s.level for s in skips} == {"row_major.dconn.nii": "skipped"}  # CIFTI
    expected = {"anatomical.nii": (25, 41, 33), "example4d.nii.gz": (24, 96, 128), "example_nifti2.nii.gz": (12, 20, 32),
                "functional.nii": (3, 21, 17), "standard.nii.gz": (7, 5, 4), "resampled_anat_moved.nii": (3, 21, 17)}
    assert {k: r.shape for k, r in got.items()} == expected
    assert got["standard.nii.gz"].spacing == (2.0, 3.0, 1.0)  # header zooms (1, 3, 2): (dz, dy, dx)
    for name, rec in got.items():
        vol = load_nifti(rec)
        assert vol.shape == expected[name] and vol.dtype == np.float32 and np.isfinite(vol).all()
    # 4D without .bval: the first volume, in [S, R, C] order. These images are stored left-handed in LPS (e.g. LAS),
    # which no DICOM slice order gives: the slice axis is reversed, and the affine with it, so geometry is unchanged.
    img = nib.load(NIBABEL_DATA / "example4d.nii.gz")
    np.testing.assert_array_equal(load_nifti(got["example4d.nii.gz"]),
                                  img.get_fdata(dtype=np.float32)[:, :, ::-1, 0].transpose(2, 1, 0))
    for name in ("anatomical.nii", "example4d.nii.gz", "standard.nii.gz"):
        nib_lps = np.diag([-1, -1, 1, 1]) @ nib.load(NIBABEL_DATA / name).affine
        rec = got[name]
        ours = np.array(rec.affine_lps)
        flipped = np.linalg.det(nib_lps[:3, :3]) < 0
        assert flipped == (name != "standard.nii.gz")
        last = nib_lps @ np.array([0, 0, rec.shape[0] - 1, 1])
        np.testing.assert_allclose(ours[:3, :2], nib_lps[:3, :2], atol=1e-5)
        np.testing.assert_allclose(ours[:3, 2], -nib_lps[:3, 2] if flipped else nib_lps[:3, 2], atol=1e-5)
        np.testing.assert_allclose(ours[:3, 3], last[:3] if flipped else nib_lps[:3, 3], atol=1e-4)
        assert np.linalg.det(ours[:3, :3]) > 0


def _write(path: Path, data: np.ndarray, zooms=(1.0, 1.0, 1.0)) -> Path:
    img = nib.Nifti1Image(data, np.diag([*zooms, 1.0]))
    img.header.set_zooms(zooms[: data.ndim] + (1.0,) * max(0, data.ndim - 3))
    nib.save(img, path)
    return path


def test_broken_files_are_skipped_with_a_reason(tmp_path):
    good = _write(tmp_path / "good.nii.gz", np.arange(4 * 5 * 6, dtype=np.int16).reshape(4, 5, 6))
    blob = good.read_bytes()
    (tmp_path / "truncated.nii.gz").write_bytes(blob[: len(blob) // 2])  # cut inside the header
    noise = np.random.default_rng(0).integers(0, 3000, (40, 50, 60), dtype=np.int16)
    big = _write(tmp_path / "big.nii.gz", noise).read_bytes()
    (tmp_path / "cut_data.nii.gz").write_bytes(big[: len(big) * 2 // 3])  # header intact, data cut
    (tmp_path / "random.nii").write_bytes(os.urandom(2000))
    raw = gzip.decompress(blob)
    (tmp_path / "short.nii").write_bytes(raw[:-40])
    hdr = nib.Nifti1Header()
    hdr.set_data_shape((30_000, 64, 10))
    (tmp_path / "absurd.nii").write_bytes(hdr.binaryblock + b"\0" * 4)
    zero = nib.Nifti1Header()  # written by hand: nibabel "fixes" a zero voxel size when it saves
    zero.set_data_shape((4, 5, 6))
    zero.set_data_dtype(np.int16)
    zero["vox_offset"] = 352
    zero["pixdim"][1:4] = 0
    (tmp_path / "zero_pixdim.nii").write_bytes(zero.binaryblock + b"\0" * 4 + np.ones(120, np.int16).tobytes())
    _write(tmp_path / "x_dwi.nii.gz", np.ones((4, 5, 6, 3), np.int16))
    (tmp_path / "x_dwi.bval").write_text("0 1000\n")
    _write(tmp_path / "blank.nii.gz", np.zeros((4, 5, 6), np.int16))
    names = ["good.nii.gz", "truncated.nii.gz", "cut_data.nii.gz", "random.nii", "short.nii", "absurd.nii", "zero_pixdim.nii",
             "x_dwi.nii.gz", "blank.nii.gz"]
    refs = [FileRef(str(tmp_path), n, "dir", (tmp_path / n).stat().st_size) for n in names]
    records, skips = scan_nifti(refs, {}, ScanOptions())
    assert sorted(r.files[0].member for r in records) == ["blank.nii.gz", "good.nii.gz"]
    why = {s.path.rsplit("/", 1)[-1]: s.reason for s in skips}
    assert all(s.level == "failed" for s in skips)
    assert set(why) == {"truncated.nii.gz", "cut_data.nii.gz", "random.nii", "short.nii", "absurd.nii", "zero_pixdim.nii", "x_dwi.nii.gz"}
    assert "truncated or damaged .nii.gz" in why["truncated.nii.gz"]
    assert "truncated or damaged .nii.gz" in why["cut_data.nii.gz"]
    assert "not a NIfTI file" in why["random.nii"]
    assert "truncated NIfTI" in why["short.nii"]
    assert "absurd header" in why["absurd.nii"] and "max_matrix" in why["absurd.nii"]
    assert "voxel size" in why["zero_pixdim.nii"]
    assert "2 b-values but the image has 3" in why["x_dwi.nii.gz"]
    blank = next(r for r in records if r.files[0].member == "blank.nii.gz")
    with pytest.raises(ValueError, match="all-zero volume"):
        load_nifti(blank)
    good_rec = next(r for r in records if r.files[0].member == "good.nii.gz")
    assert good_rec.shape == (6, 5, 4) and good_rec.sequence == "other"
    np.testing.assert_array_equal(load_nifti(good_rec), np.arange(120, dtype=np.float32).reshape(4, 5, 6).T)


def test_stored_paths_show_the_bids_subject_and_sidecar_ids_as_tokens(archive):
    """The generator names BIDS subjects by PatientID (``sub-MRN...``): the stored path keeps the layout with a token
    instead, and neither the label nor any sidecar identifier remains."""
    arch, _ = archive
    records, _ = _scan(arch / "nifti")
    assert records
    for rec in records:
        raw = rec.files[0].display
        sub = next(p for p in Path(raw).parts if p.startswith("sub-"))[len("sub-"):]
        side = json.loads((Path(raw[: -len(".nii.gz")] + ".json")).read_text()) if raw.endswith(".nii.gz") else {}
        values = {sub} | {str(side[k]) for k in ("PatientID", "AccessionNumber", "StudyInstanceUID",
                                                 "SeriesInstanceUID") if side.get(k)}
        assert sub in raw
        assert not any(v in rec.stored_path for v in values), rec.stored_path
        assert f"sub-PAT-{hash_id(installation_salt(), sub.lower())[:8]}" in rec.stored_path
        assert rec.stored_path.count("/") == raw.count("/")  # the same shape

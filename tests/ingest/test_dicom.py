"""DICOM ingestion: our generator's archives, pydicom's real scanner files, and broken input built here."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from mri_search.ingest.config import ScanOptions
from mri_search.ingest import dicom
from mri_search.ingest.dicom import load_dicom, plane_of, scan_dicom
from mri_search.ingest.dicom_meta import read_header
from mri_search.ingest.phi import hash_id
from mri_search.ingest.salt import installation_salt
from mri_search.ingest.records import FileRef
from mri_search.ingest.sequence import infer_sequence
from mri_search.synth.archive import run_synth
from mri_search.synth.config import SynthConfig
from mri_search.synth.manifest import read_manifest

# the generator writes non-standard BodyPartExamined values ("Knee") on purpose, as real scanners do
pytestmark = pytest.mark.filterwarnings("ignore:Invalid value for VR CS")
PYDICOM_FILES = Path(pydicom.data.__file__).parent / "test_files"  # shipped files only (no downloads)
MR_SMALL = PYDICOM_FILES / "MR_small.dcm"
AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


def dir_refs(root: Path) -> list[FileRef]:
    """Every file under ``root`` except the archive's own reports and manifest."""
    return [FileRef(str(root), p.relative_to(root).as_posix(), "dir", p.stat().st_size)
            for p in sorted(root.rglob("*")) if p.is_file() and p.suffix not in (".txt", ".csv", ".parquet")]


# ---------------------------------------------------------------------------------------------- our archive
@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    """3 studies (knee/Siemens, abdomen/Philips with DWI+ADC, C-spine/Philips with an empty description)."""
    out = tmp_path_factory.mktemp("dicom_arch") / "arch"
    run_synth(SynthConfig(out=out, studies=3, seed=2, format="dicom", matrix_scale=0.3, enhanced_fraction=0.5,
                          report_csv=False), progress=lambda *a: None)
    rows = read_manifest(out).to_pylist()
    records, skips = scan_dicom(dir_refs(out), ScanOptions())
    return out, rows, records, skips


def _by_uid(records, salt=None):
    out: dict[str, list] = {}
    for r in records:
        out.setdefault(r.series_uid_hash, []).append(r)
    return out


def test_synth_every_series_found_once_with_its_geometry(synth):
    _, rows, records, skips = synth
    assert skips == []
    assert len(records) == len(rows)
    assert {r["dicom_layout"] for r in rows} == {"single", "enhanced"}
    by = _by_uid(records)
    agree = 0
    for row in rows:
        found = by.get(hash_id(installation_salt(), row["series_uid"]), [])
        assert len(found) == 1, row["series_description"]
        rec = found[0]
        assert rec.layout == row["dicom_layout"]
        assert list(rec.shape) == row["shape"]
        assert rec.spacing[0] == pytest.approx(row["slice_step"], abs=1e-3)
        assert rec.spacing[1:] == pytest.approx(row["pixel_spacing"], abs=1e-5)
        normal = np.array(rec.affine_lps)[:3, 2]
        assert rec.plane == row["plane"] or (rec.plane == "oblique" and plane_of(normal) != "oblique")
        assert list(rec.b_values) == (row["b_values"] or [])
        assert rec.post_contrast == row["post_contrast"]
        assert rec.series_number == row["series_number"] and rec.manufacturer == row["manufacturer"]
        assert rec.field_strength == pytest.approx(row["field_strength"])
        if row["sequence"] in ("DWI", "ADC"):
            assert rec.sequence == row["sequence"]  # DWI and ADC are never ambiguous
        agree += rec.sequence == row["sequence"]
    assert agree / len(rows) >= 0.9
    assert any(r["sequence"] == "DWI" and len(r["b_values"]) > 1 for r in rows)
    assert any(r["sequence"] == "ADC" for r in rows)
    assert any(r["series_description"] == "" for r in rows)  # protocol name or tags had to decide


def test_synth_sequence_from_tags_alone(synth):
    """Descriptions blanked: TR/TE/TI, ScanningSequence, ImageType and b-values still give the manifest label."""
    _, rows, records, _ = synth
    truth = {hash_id(installation_salt(), r["series_uid"]): r for r in rows}
    agree, misses = 0, []
    for rec in records:
        a = read_header(rec.files[0], 4096, 4096).attrs
        keys = ("scanning_sequence", "sequence_variant", "scan_options", "image_type", "tr", "te", "ti", "flip",
                "contrast_agent", "pulse_sequence_name", "acquisition_contrast")
        seq, evidence, _, _ = infer_sequence(b_values=rec.b_values, **{k: a[k] for k in keys})
        assert evidence == "tags"
        want = truth[rec.series_uid_hash]
        agree += seq == want["sequence"]
        if seq != want["sequence"]:
            misses.append((want["sequence"], seq, want["fat_suppression"]))
    # the documented ambiguity: Dixon water images carry no fat-saturation scan option (T2FS read as T2)
    assert all(m == ("T2FS", "T2", "dixon") for m in misses), misses
    assert agree / len(records) >= 0.85


def _frame_positions(ds) -> list[tuple]:
    return [tuple(float(v) for v in f.PlanePositionSequence[0].ImagePositionPatient)
            for f in ds.PerFrameFunctionalGroupsSequence]


def test_synth_pixels_and_affine_match_the_files(synth):
    _, _, records, _ = synth
    for rec in records:
        vol = load_dicom(rec)
        s, r, c = rec.shape
        b = len(rec.b_values)
        assert vol.dtype == np.float32
        assert vol.shape == ((b, s, r, c) if b > 1 else (s, r, c))
        flat = vol.reshape(-1, r, c)
        aff = np.array(rec.affine_lps)
        if rec.layout == "single":
            assert len(rec.files) == flat.shape[0]
            for k, ref in enumerate(rec.files):
                ds = pydicom.dcmread(ref.open())
                want = ds.pixel_array * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))
                np.testing.assert_allclose(flat[k], want, rtol=1e-6)
                assert aff @ [0, 0, k % s, 1] == pytest.approx([*map(float, ds.ImagePositionPatient), 1], abs=1e-3)
                if b > 1:
                    assert float(ds.DiffusionBValue) == rec.b_values[k // s]
        else:
            ds = pydicom.dcmread(rec.files[0].open())
            pos = _frame_positions(ds)
            for k in range(flat.shape[0]):  # find the frame the record put at k from the affine
                want_pos = (aff @ [0, 0, k % s, 1])[:3]
                idx = [i for i, p in enumerate(pos) if np.allclose(p, want_pos, atol=1e-3)]
                if b > 1:
                    idx = [i for i in idx if float(ds.PerFrameFunctionalGroupsSequence[i].MRDiffusionSequence[0]
                                                   .DiffusionBValue) == rec.b_values[k // s]]
                assert len(idx) == 1
                pvt = ds.PerFrameFunctionalGroupsSequence[idx[0]].PixelValueTransformationSequence[0]
                want = ds.pixel_array[idx[0]] * float(pvt.RescaleSlope) + float(pvt.RescaleIntercept)
                np.testing.assert_allclose(flat[k], want, rtol=1e-6)


def test_synth_identifiers_hashed_unless_asked(synth):
    out, rows, records, _ = synth
    first = pydicom.dcmread(Path(out) / rows[0]["dicom_paths"][0], stop_before_pixels=True)
    raw = {str(first.PatientName), first.PatientID, first.AccessionNumber, first.StudyInstanceUID}
    raw |= {r["patient_id"] for r in rows} | {r["accession"] for r in rows} | {r["series_uid"] for r in rows}
    for rec in records:
        d = rec.to_dict()
        d.pop("files")  # folder names of this export style carry the MRN/accession: the user's own paths
        text = json.dumps(d)
        assert not any(v in text for v in raw if v)
        assert rec.phi == {}
    again, _ = scan_dicom(dir_refs(out), ScanOptions())
    assert [r.key for r in again] == [r.key for r in records]
    assert [r.patient_key for r in again] == [r.patient_key for r in records]
    other, _ = scan_dicom(dir_refs(out), ScanOptions(salt="another-site"))
    assert not {r.key for r in other} & {r.key for r in records}
    assert not {r.study_key for r in other} & {r.study_key for r in records}
    with_phi, _ = scan_dicom(dir_refs(out), ScanOptions(include_phi=True))
    names = {r.phi["PatientName"] for r in with_phi}
    assert str(first.PatientName) in names
    assert {r.phi["AccessionNumber"] for r in with_phi} == {r["accession"] for r in rows}


# ---------------------------------------------------------------------------------------------- pydicom files
SHIPPED_MR = sorted(p.name for p in PYDICOM_FILES.glob("MR_small*.dcm"))


def test_shipped_variants_present():
    assert {"MR_small.dcm", "MR_small_RLE.dcm", "MR_small_bigendian.dcm", "MR_small_implicit.dcm",
            "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm"} <= set(SHIPPED_MR)


@pytest.mark.filterwarnings("ignore:The pixel data is")  # MR_small_padded: pydicom notes the padding it drops
@pytest.mark.parametrize("name", SHIPPED_MR)
def test_pydicom_mr_files(name):
    path = PYDICOM_FILES / name
    records, skips = scan_dicom([FileRef(str(PYDICOM_FILES), name, "dir")], ScanOptions())
    assert skips == [] and len(records) == 1
    rec = records[0]
    assert rec.shape == (1, 64, 64) and rec.spacing[1:] == (0.3125, 0.3125)
    assert rec.plane == "axial" and rec.manufacturer == "TOSHIBA_MEC"
    ds = pydicom.dcmread(path)
    want = ds.pixel_array.astype(np.float64) * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))
    vol = load_dicom(rec)
    assert vol.shape == (1, 64, 64)
    np.testing.assert_array_equal(vol[0], want.astype(np.float32))
    assert float(vol.sum()) == 2125338.0  # the uncompressed original's pixel sum: every codec decodes losslessly


def test_pydicom_truncated_file():
    _, skips = scan_dicom([FileRef(str(PYDICOM_FILES), "MR_truncated.dcm", "dir")], ScanOptions())
    assert len(skips) == 1 and skips[0].level == "failed" and "truncated" in skips[0].reason


# ---------------------------------------------------------------------------------------------- built here
def _write_series(folder: Path, positions, iop=AXIAL, uid=None, description="t2_tse_tra", image_type=None,
                  b_values=None, zero=False, slope=None, rows=None, drop_pixels=False) -> list[Path]:
    """A classic MR series from MR_small's header: slice k holds ``k + 1`` times a ramp."""
    folder.mkdir(parents=True, exist_ok=True)
    uid = uid or generate_uid()
    template = pydicom.dcmread(MR_SMALL)
    paths = []
    for k, pos in enumerate(positions):
        ds = template.copy()
        ds.SeriesInstanceUID = uid
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.ImagePositionPatient = [float(v) for v in pos]
        ds.ImageOrientationPatient = list(iop)
        ds.SeriesDescription = description
        ds.InstanceNumber = k + 1
        if image_type:
            ds.ImageType = image_type
        if b_values is not None:
            ds.DiffusionBValue = float(b_values[k])
        if slope is not None:
            ds.RescaleSlope, ds.RescaleIntercept = slope, "0"
        pixels = np.zeros((64, 64), np.int16) if zero else (np.arange(64 * 64).reshape(64, 64) % 97 + 1) * (k + 1)
        ds.PixelData = pixels.astype(np.int16).tobytes()
        if rows is not None:
            ds.Rows = rows
        if drop_pixels:
            del ds.PixelData
        path = folder / f"IM{ds.SOPInstanceUID[-12:]}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def _z(zs):
    return [(-10.0, -12.0, z) for z in zs]


def _broken_export(tmp_path: Path):
    """A folder of two good series among every kind of broken or foreign file: (root, the good series' files,
    path fragment -> (level, words of the reason) of each expected line)."""
    root = tmp_path / "export"
    good = _write_series(root / "good", _z([0, 2, 4, 6, 8]))
    good_sag = _write_series(root / "good_sag", [(x, 0, 0) for x in (0, 3, 6)], iop=SAGITTAL)
    problems = {}  # path fragment -> (level, words in the reason)
    (root / "trunc.dcm").write_bytes(MR_SMALL.read_bytes()[:5000])
    problems["/trunc.dcm"] = ("failed", "truncated")
    (root / "random.dcm").write_bytes(np.random.default_rng(0).bytes(3000))
    problems["/random.dcm"] = ("failed", "not a DICOM")
    (root / "empty.dcm").write_bytes(b"")
    problems["/empty.dcm"] = ("failed", "empty")
    _write_series(root / "nopix", _z([0]), drop_pixels=True)
    problems["/nopix/"] = ("failed", "no PixelData")
    _write_series(root / "gap", _z([0, 2, 6, 8]))
    problems["/gap/"] = ("failed", "missing slice")
    _write_series(root / "dup", _z([0, 2, 2, 4]))
    problems["/dup/"] = ("failed", "duplicate")
    _write_series(root / "uneven", _z([0, 2, 4, 7, 9]))
    problems["/uneven/"] = ("failed", "inconsistent")
    _write_series(root / "huge", _z([0]), rows=65535)
    problems["/huge/"] = ("failed", "absurd")
    _write_series(root / "loc", _z([0, 5, 10]), image_type=["ORIGINAL", "PRIMARY", "LOCALIZER"])
    problems["/loc/"] = ("skipped", "localiser")
    uid = generate_uid()  # a 3-plane scout named as such, without LOCALIZER in ImageType
    _write_series(root / "scout", _z([0]), uid=uid, description="3-plane loc")
    _write_series(root / "scout", [(0, 0, 0)], uid=uid, iop=SAGITTAL, description="3-plane loc")
    _write_series(root / "scout", [(0, 0, 0)], uid=uid, iop=(1, 0, 0, 0, 0, -1), description="3-plane loc")
    problems["/scout/"] = ("skipped", "localiser")
    for name, why in (("SC_rgb_small_odd.dcm", "secondary capture"), ("test-SR.dcm", "structured report"),
                      ("CT_small.dcm", "modality CT")):
        (root / name).write_bytes((PYDICOM_FILES / name).read_bytes())
        problems["/" + name] = ("skipped", why)
    return root, (good, good_sag), problems


def test_broken_inputs_each_give_one_line_and_good_series_survive(tmp_path):
    root, (good, good_sag), problems = _broken_export(tmp_path)
    records, skips = scan_dicom(dir_refs(root), ScanOptions(max_matrix=4096))
    assert len(skips) == len(problems), [s.reason for s in skips]
    for where, (level, words) in problems.items():
        mine = [s for s in skips if where in s.path]
        assert len(mine) == 1, (where, [s.path for s in skips])
        assert mine[0].level == level and words in mine[0].reason, mine[0]
        assert "\n" not in mine[0].reason
    assert sorted(r.shape for r in records) == [(3, 64, 64), (5, 64, 64)]
    axial = next(r for r in records if r.plane == "axial")
    assert axial.files[0].display.endswith(good[0].name) and axial.spacing[0] == pytest.approx(2.0)
    vol = load_dicom(axial)
    assert vol[4].max() == 5 * vol[0].max()  # slice order kept
    sag = next(r for r in records if r.plane == "sagittal")
    assert sag.files[0].name == good_sag[-1].name  # normal = row x column = -x: the stack runs right to left


def test_headers_read_in_worker_processes_give_the_same_records_and_lines(tmp_path, monkeypatch):
    root, _, problems = _broken_export(tmp_path)
    records, skips = scan_dicom(dir_refs(root), ScanOptions(max_matrix=4096))
    assert len(records) == 2 and len(skips) == len(problems)
    monkeypatch.setattr(dicom, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(dicom, "_CHUNK", 3)  # several chunks, their order kept
    refs, options = dir_refs(root), ScanOptions(max_matrix=4096, workers=2)
    assert dicom._parallel(refs, options)
    got, got_skips = scan_dicom(refs, options)
    assert got_skips == skips and [r.__dict__ for r in got] == [r.__dict__ for r in records]
    assert not dicom._parallel([FileRef(str(root), "x.tar", "tar")] * 2, options)  # a tar's index: once
    with pytest.raises(ValueError, match="workers"):
        ScanOptions(workers=0)


def test_slices_sorted_along_normal_whatever_the_file_order(tmp_path):
    paths = _write_series(tmp_path / "s", _z([8, 0, 6, 2, 4]))  # written out of order
    (rec,), _ = scan_dicom(dir_refs(tmp_path), ScanOptions())
    assert [p.name for p in (paths[1], paths[3], paths[4], paths[2], paths[0])] == [f.name for f in rec.files]
    aff = np.array(rec.affine_lps)
    assert aff @ [0, 0, 4, 1] == pytest.approx([-10, -12, 8, 1])
    assert aff @ [3, 2, 0, 1] == pytest.approx([-10 + 3 * 0.3125, -12 + 2 * 0.3125, 0, 1])


def _normal_of(ds) -> np.ndarray:
    iop = np.array(ds.ImageOrientationPatient, dtype=float)
    return np.cross(iop[:3], iop[3:])


def test_mixed_orientations_become_stacks(tmp_path):
    uid = generate_uid()
    _write_series(tmp_path / "a", _z([0, 3, 6]), uid=uid)
    _write_series(tmp_path / "b", [(x, 0, 0) for x in (0, 4, 8, 12)], uid=uid, iop=SAGITTAL)
    for folder, root in (("a", "1.2.9"), ("b", "1.2.3")):  # SOP UID order opposite to the path order
        for n, f in enumerate(sorted((tmp_path / folder).iterdir())):
            ds = pydicom.dcmread(f)
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"{root}.{n + 1}"
            ds.save_as(f)
    records, skips = scan_dicom(dir_refs(tmp_path), ScanOptions())
    assert skips == []
    # stacks are numbered by the SOP Instance UID of their first slice, not by where the files lie: the same keys
    # whether the files come from a folder, a zip or a DICOMweb server
    first = {}
    for plane, folder in (("axial", "a"), ("sagittal", "b")):
        dss = [pydicom.dcmread(f) for f in (tmp_path / folder).iterdir()]
        first[plane] = min(dss, key=lambda d: float(np.dot(d.ImagePositionPatient, _normal_of(d)))).SOPInstanceUID
    order = sorted(first, key=first.get)
    assert order == ["sagittal", "axial"]
    assert sorted((r.stack_index, r.plane, r.shape[0]) for r in records) == sorted(
        (order.index(p) + 1, p, {"axial": 3, "sagittal": 4}[p]) for p in first)
    salt = installation_salt()
    assert {r.key for r in records} == {hash_id(salt, f"{uid}#1"), hash_id(salt, f"{uid}#2")}
    assert len({r.series_uid_hash for r in records}) == 1


def test_dwi_b_values_one_record_or_one_per_b(tmp_path):
    _write_series(tmp_path / "dwi", _z([0, 4, 8]) * 2, description="ep2d_diff_tra_TRACEW",
                  b_values=[1000] * 3 + [0] * 3)
    (rec,), skips = scan_dicom(dir_refs(tmp_path / "dwi"), ScanOptions())
    assert skips == [] and rec.b_values == (0, 1000) and rec.sequence == "DWI" and rec.shape == (3, 64, 64)
    vol = load_dicom(rec)
    assert vol.shape == (2, 3, 64, 64)
    assert vol[0, 0].max() == 4 * vol[1, 0].max()  # b = 0 slices were written 4th to 6th: ramp x 4..6 vs x 1..3
    _write_series(tmp_path / "dwi2", _z([0, 4, 8]) + _z([2, 6, 10]), description="Ax DWI",
                  b_values=[0] * 3 + [800] * 3)
    records, _ = scan_dicom(dir_refs(tmp_path / "dwi2"), ScanOptions())
    assert sorted(r.b_values for r in records) == [(0,), (800,)] and {r.stack_index for r in records} == {1, 2}


def test_zero_and_overflowing_volumes_fail_on_load(tmp_path):
    _write_series(tmp_path / "zero", _z([0, 2]), zero=True)
    (rec,), _ = scan_dicom(dir_refs(tmp_path / "zero"), ScanOptions())
    with pytest.raises(ValueError, match="volume is all zero"):
        load_dicom(rec)
    _write_series(tmp_path / "inf", _z([0, 2]), slope="1e39")
    (rec,), _ = scan_dicom(dir_refs(tmp_path / "inf"), ScanOptions())
    with pytest.raises(ValueError, match="NaN or Inf"):
        load_dicom(rec)


def test_zip_members_and_absurd_slice_count(tmp_path):
    paths = _write_series(tmp_path / "s", _z([0, 2, 4]))
    zpath = tmp_path / "export.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for p in paths:
            zf.write(p, f"PACS/{p.name}")
    refs = [FileRef(str(zpath), i.filename, "zip", i.file_size) for i in zipfile.ZipFile(zpath).infolist()]
    (rec,), skips = scan_dicom(refs, ScanOptions())
    assert skips == [] and rec.files[0].display == f"{zpath}::PACS/{paths[0].name}"
    assert load_dicom(rec).shape == (3, 64, 64)
    _, skips = scan_dicom(refs, ScanOptions(max_slices=2))
    assert len(skips) == 1 and "absurd series: 3 slices" in skips[0].reason

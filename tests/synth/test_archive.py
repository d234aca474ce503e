"""End to end: a small archive on disk, read back with pydicom, nibabel and MONAI, against its manifest."""

import hashlib
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from mri_search.synth.archive import run_synth, study_identity
from mri_search.synth.config import SynthConfig
from mri_search.synth.manifest import MANIFEST_SCHEMA, REQUIRED, read_manifest
from mri_search.synth.planner import split_of

REGIONS = ("head_neck", "knee", "abdomen")


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("arch") / "a"
    cfg = SynthConfig(out=out, studies=3, seed=11, format="both", regions=REGIONS, matrix_scale=0.4,
                      enhanced_fraction=0.5)
    run_synth(cfg, progress=lambda *_: None)
    return out


def _dicom_affine(files: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """LPS index->world matrix and the [S, R, C] volume of a single-frame series, from pydicom only."""
    dss = [pydicom.dcmread(f) for f in files]
    iop = np.array(dss[0].ImageOrientationPatient, float)
    row, col = iop[:3], iop[3:]
    normal = np.cross(row, col)
    dss.sort(key=lambda d: float(np.dot(normal, np.array(d.ImagePositionPatient, float))))
    ipp = np.array([d.ImagePositionPatient for d in dss], float)
    rs, cs = (float(v) for v in dss[0].PixelSpacing)
    step = float(np.dot(ipp[-1] - ipp[0], normal)) / max(1, len(dss) - 1)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = row * cs, col * rs, normal * step, ipp[0]
    vol = np.stack([d.pixel_array * float(getattr(d, "RescaleSlope", 1)) + float(getattr(d, "RescaleIntercept", 0))
                    for d in dss])
    return m, vol


def test_manifest_schema_and_contents(archive):
    table = read_manifest(archive)
    assert table.schema.equals(MANIFEST_SCHEMA)
    rows = table.to_pylist()
    assert len({r["study_uid"] for r in rows}) == 3
    assert {r["body_region"] for r in rows} == set(REGIONS)
    for r in rows:
        for col in REQUIRED:
            assert col in r
        assert r["split"] in ("train", "val", "test")
        assert r["dicom_paths"] and r["nifti_path"] and r["report_path"]
        assert all((archive / p).exists() for p in r["dicom_paths"])
        assert (archive / r["nifti_path"]).exists()
        if r["tumor_site"] is not None:
            assert r["body_region"] == "head_neck" or r["tumor_histology"] is not None
        if r["finding"] == "normal":
            assert r["laterality"] is None and r["tumor_site"] is None
    assert (archive / "reports.csv").exists()


def test_every_dicom_series_reads_back_with_the_manifest_geometry(archive):
    for r in read_manifest(archive).to_pylist():
        files = [archive / p for p in r["dicom_paths"]]
        if r["dicom_layout"] == "enhanced":
            ds = pydicom.dcmread(files[0])
            frames = int(ds.NumberOfFrames)
            assert frames == r["shape"][0] * max(1, len(r["b_values"]))
            assert ds.pixel_array.shape[-2:] == tuple(r["shape"][1:])
            continue
        if r["b_values"]:
            b = [int(pydicom.dcmread(f, stop_before_pixels=True)[0x0018, 0x9087].value) for f in files]
            assert sorted(set(b)) == sorted(r["b_values"])
            files = [f for f, bv in zip(files, b) if bv == max(b)]
        m, vol = _dicom_affine(files)
        assert vol.shape == tuple(r["shape"])
        np.testing.assert_allclose(np.linalg.norm(m[:3, :2], axis=0), r["pixel_spacing"][::-1], rtol=1e-4)
        assert np.linalg.norm(m[:3, 2]) == pytest.approx(r["slice_step"], rel=1e-3)


def test_nifti_affine_agrees_with_dicom_geometry(archive):
    checked = 0
    for r in read_manifest(archive).to_pylist():
        if r["dicom_layout"] != "single" or r["b_values"]:
            continue
        m_lps, vol = _dicom_affine([archive / p for p in r["dicom_paths"]])
        img = nib.load(archive / r["nifti_path"])
        ras = np.diag([-1.0, -1.0, 1.0, 1.0]) @ m_lps
        np.testing.assert_allclose(img.affine, ras, atol=2e-3)
        data = np.asarray(img.dataobj, np.float32)  # [C, R, S]
        a = np.transpose(data, (2, 1, 0)).ravel()
        b = vol.ravel()
        assert np.corrcoef(a, b)[0, 1] > 0.999  # same voxels in the same order (up to vendor scaling)
        checked += 1
    assert checked >= 3


def test_monai_reads_a_dicom_series_with_the_same_world_geometry(archive):
    from monai.transforms import LoadImage

    r = next(r for r in read_manifest(archive).to_pylist() if r["dicom_layout"] == "single" and not r["b_values"])
    series_dir = (archive / r["dicom_paths"][0]).parent
    if len({(archive / p).parent for p in r["dicom_paths"]}) != 1 or len(list(series_dir.iterdir())) != len(
            r["dicom_paths"]):
        pytest.skip("flat export: MONAI needs a folder holding one series")
    img = LoadImage(reader="PydicomReader", image_only=True)(str(series_dir))
    nii = nib.load(archive / r["nifti_path"])
    assert tuple(img.shape) == nii.shape
    np.testing.assert_allclose(np.asarray(img.affine), nii.affine, atol=2e-3)


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes(tmp_path):
    digests = []
    for name in ("x", "y"):
        cfg = SynthConfig(out=tmp_path / name, studies=2, seed=5, format="both", regions=("shoulder", "brain"),
                          matrix_scale=0.3)
        run_synth(cfg, progress=lambda *_: None)
        digests.append(_tree_digest(tmp_path / name))
    assert digests[0] == digests[1]


def test_split_is_by_patient_and_recorded():
    cfg = SynthConfig(out=Path("unused"), studies=400, seed=3)
    seen: dict[int, str] = {}
    follow_ups = 0
    for i in range(400):
        _, number, _ = study_identity(cfg, i)
        split = split_of(3, number)
        if number in seen:
            follow_ups += 1
            assert seen[number] == split
        seen[number] = split
    assert follow_ups > 10  # follow-up studies exist, so splitting by study would leak patients
    counts = {s: sum(v == s for v in seen.values()) for s in ("train", "val", "test")}
    assert 0.6 < counts["train"] / len(seen) < 0.8 and counts["test"] > 0.08 * len(seen)


def test_refuses_to_overwrite_a_foreign_folder(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        run_synth(SynthConfig(out=tmp_path, studies=1, overwrite=True), progress=lambda *_: None)
    assert (tmp_path / "precious.txt").exists()


def test_preview_gallery_is_a_png_with_one_row_per_region(tmp_path):
    from PIL import Image

    from mri_search.synth.preview import run_preview

    cfg = SynthConfig(out=tmp_path, seed=2, regions=("knee", "shoulder"), matrix_scale=0.3)
    path = run_preview(cfg, progress=lambda *_: None)
    img = Image.open(path)
    assert img.format == "PNG" and img.size[1] > 300
    assert np.asarray(img.convert("L")).std() > 10  # not a blank canvas

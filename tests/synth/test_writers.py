"""DICOM and NIfTI writers of the synthetic archive: geometry, pixel scaling, layouts, determinism, vendors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from mri_search.synth.types import Geometry, Patient, SeriesPlan, StudyPlan
from mri_search.synth.writers import write_dicom_series, write_nifti_series
from mri_search.synth.writers.dicom_headers import quantise, unit_hash
from mri_search.synth.writers.nifti import nifti_affine

SIEMENS, GE, PHILIPS = "SIEMENS", "GE MEDICAL SYSTEMS", "Philips Medical Systems"
SERIES_UID = "1.2.826.0.1.3680043.8.498.1001"
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def _rotation(deg_z: float, deg_x: float) -> np.ndarray:
    az, ax = np.deg2rad([deg_z, deg_x])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    return rz @ rx


ROT = _rotation(12.0, 7.0)  # an oblique axial stack
GEOM = Geometry(origin=(-21.37, -35.912, 48.25), row_dir=tuple(ROT[:, 0]), col_dir=tuple(ROT[:, 1]),
                pixel_spacing=(1.1, 0.9), slice_thickness=4.0, slice_step=4.4, shape=(5, 32, 40))


def _plan(manufacturer: str = SIEMENS, body_part: str | None = "HEAD", study_uid: str = "1.2.3.4.5",
          laterality: str | None = None, contrast: str | None = None) -> StudyPlan:
    patient = Patient(patient_id="MRN0001234", name="DOE^JANE", sex="F", age=45, birth_date="19790305",
                      weight_kg=68.5, height_m=1.67, size_scale=1.0, split="train")
    return StudyPlan(patient=patient, study_uid=study_uid, accession="ACC123456", study_date="20240611",
                     study_time="142530", region="brain", subregion="brain", manufacturer=manufacturer,
                     model_name="Skyra", field_strength=3.0, institution="General Hospital",
                     study_description="MRI BRAIN WITH AND WITHOUT CONTRAST", body_part_examined=body_part,
                     laterality=laterality, contrast_agent=contrast, indication="headache")


def _series(sequence: str = "T2", family: str = "T2_TSE_2D", b_values: tuple[int, ...] = (), **kw) -> SeriesPlan:
    args = dict(series_number=7, sequence=sequence, family=family, plane="axial", geometry=GEOM, tr_ms=4200.0,
                te_ms=95.0, echo_train_length=15, description="t2_tse_tra", protocol_name="t2_tse_tra")
    args.update(kw)
    return SeriesPlan(b_values=b_values, **args)


def _volume(seed: int = 0, shape=GEOM.shape) -> np.ndarray:
    """A smooth ramp (distinct along every axis) plus noise, float32 >= 0."""
    rng = np.random.default_rng(seed)
    k, r, c = np.meshgrid(*(np.arange(n) for n in shape[-3:]), indexing="ij")
    vol = 40.0 + 15.0 * k + 2.0 * r + 1.0 * c + rng.uniform(0, 10, size=shape)
    return vol.astype(np.float32)


def _values(ds, keyword: str) -> list[str]:
    """A (possibly single-valued) multi-valued attribute as a list of strings."""
    elem = ds[keyword]
    return [str(v) for v in elem.value] if elem.VM > 1 else [str(elem.value)]


def _display(ds) -> np.ndarray:
    """Stored pixels with the classic Modality LUT applied."""
    return ds.pixel_array * float(ds.get("RescaleSlope", 1.0)) + float(ds.get("RescaleIntercept", 0.0))


def _uid_where(predicate) -> str:
    """The first of a fixed list of series UIDs that satisfies ``predicate`` (keeps vendor choices testable)."""
    return next(uid for uid in (f"1.2.826.0.1.3680043.8.498.{i}" for i in range(100)) if predicate(uid))


def _write(tmp_path: Path, plan: StudyPlan, series: SeriesPlan, vol: np.ndarray, layout: str = "single",
           style: str = "uid", uid: str = SERIES_UID, seed: int = 0, sub: str = "study") -> list[Path]:
    return write_dicom_series(vol, plan, series, uid, tmp_path / sub, layout, style, np.random.default_rng(seed))


# ---------------------------------------------------------------------------------------------- geometry + pixels
@pytest.mark.parametrize("vendor", [SIEMENS, GE, PHILIPS])
def test_single_frame_round_trip(tmp_path, vendor):
    vol = _volume()
    paths = _write(tmp_path, _plan(vendor), _series(), vol)
    assert len(paths) == 5
    dss = [pydicom.dcmread(p) for p in paths]
    for k, ds in enumerate(dss):
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.4"
        assert ds.InstanceNumber == k + 1
        np.testing.assert_allclose([float(v) for v in ds.ImagePositionPatient], GEOM.slice_positions()[k], atol=1e-6)
        np.testing.assert_allclose([float(v) for v in ds.ImageOrientationPatient], GEOM.row_dir + GEOM.col_dir,
                                   atol=1e-9)
        np.testing.assert_allclose([float(v) for v in ds.PixelSpacing], [1.1, 0.9])
        assert float(ds.SliceThickness) == 4.0 and float(ds.SpacingBetweenSlices) == 4.4
        assert all(len(str(v)) <= 16 for v in ds.ImagePositionPatient)
    display = np.stack([_display(ds) for ds in dss])  # [S, R, C]
    slope = float(dss[0].get("RescaleSlope", 1.0))
    fitted_gain = float((display * vol).sum() / (vol.astype(np.float64) ** 2).sum())  # display ~ gain * input
    gain = quantise(vol, _plan(vendor), _series(), SERIES_UID)[1].gain
    assert fitted_gain == pytest.approx(gain, rel=1e-4)
    # stored * slope reproduces gain * volume to within half a stored unit (rounding only)
    assert np.abs(display - gain * vol).max() <= 0.5 * slope + 1e-3
    p999_stored = np.percentile(display / slope, 99.9)
    if vendor == SIEMENS:
        assert "RescaleSlope" not in dss[0] and dss[0].BitsStored == 12 and dss[0].PixelRepresentation == 0
        assert 1000 <= p999_stored <= 2400
        assert _values(dss[0], "ImageType") == ["ORIGINAL", "PRIMARY", "M", "ND", "NORM"]
        assert dss[0].SequenceName == "*tse2d1_15"
    elif vendor == GE:
        assert float(dss[0].RescaleSlope) == 1.0 and dss[0].BitsStored == 16
        assert 1500 <= p999_stored <= 6000
        assert _values(dss[0], "ImageType") == ["ORIGINAL", "PRIMARY", "OTHER"]
    else:
        assert 1.3 <= slope <= 3.9 and slope != 1.0 and dss[0].RescaleType == "US" and dss[0].BitsStored == 12
        assert 1200 <= p999_stored <= 2400
        assert _values(dss[0], "ImageType") == ["ORIGINAL", "PRIMARY", "M_SE", "M", "SE"]
    assert "WindowCenter" in dss[0] and float(dss[0].WindowWidth) > 0


def test_enhanced_matches_single_frame(tmp_path):
    plan, series, vol = _plan(PHILIPS), _series(), _volume(1)
    single = [pydicom.dcmread(p) for p in _write(tmp_path, plan, series, vol, "single", sub="a")]
    (path,) = _write(tmp_path, plan, series, vol, "enhanced", sub="b")
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.4.1" and ds.NumberOfFrames == 5
    shared = ds.SharedFunctionalGroupsSequence[0]
    np.testing.assert_allclose([float(v) for v in shared.PixelMeasuresSequence[0].PixelSpacing], [1.1, 0.9])
    assert float(shared.PixelMeasuresSequence[0].SpacingBetweenSlices) == 4.4
    np.testing.assert_allclose([float(v) for v in shared.PlaneOrientationSequence[0].ImageOrientationPatient],
                               GEOM.row_dir + GEOM.col_dir, atol=1e-9)
    assert float(shared.MRTimingAndRelatedParametersSequence[0].RepetitionTime) == 4200.0
    frames = ds.PerFrameFunctionalGroupsSequence
    for k, fg in enumerate(frames):
        assert fg.FrameContentSequence[0].InStackPositionNumber == k + 1
        assert list(fg.FrameContentSequence[0].DimensionIndexValues) == [1, k + 1]
        np.testing.assert_allclose([float(v) for v in fg.PlanePositionSequence[0].ImagePositionPatient],
                                   GEOM.slice_positions()[k], atol=1e-6)
        assert float(fg.PixelValueTransformationSequence[0].RescaleSlope) == float(single[0].RescaleSlope)
    assert ds.pixel_array.shape == (5, 32, 40)
    np.testing.assert_array_equal(ds.pixel_array, np.stack([s.pixel_array for s in single]))


def _value_at(world_lps: np.ndarray, affine: np.ndarray, data: np.ndarray, ras: bool) -> float:
    """Value of the voxel whose centre is at ``world_lps`` under ``affine`` (index -> RAS or LPS)."""
    point = np.append(world_lps, 1.0)
    if ras:
        point = LPS_TO_RAS @ point
    idx = np.linalg.solve(affine, point)[:3]
    assert np.allclose(idx, np.round(idx), atol=1e-3), idx
    return float(data[tuple(int(i) for i in np.round(idx))])


def test_nifti_affine_agrees_with_dicom_readers(tmp_path):
    from monai.transforms import LoadImage

    plan, series, vol = _plan(PHILIPS), _series(), _volume(2)
    paths = _write(tmp_path, plan, series, vol, "single", "uid")
    nii_path, side_path = write_nifti_series(vol, plan, series, SERIES_UID, tmp_path / "nii" / "sub-01_T2w")
    nii = nib.load(nii_path)
    np.testing.assert_allclose(nii.affine, nifti_affine(series), atol=1e-4)
    assert nii.shape == (40, 32, 5) and nii.header.get_xyzt_units() == ("mm", "sec")
    assert int(nii.header["sform_code"]) == 1 and int(nii.header["qform_code"]) == 1
    np.testing.assert_allclose(nii.header.get_qform(), nii.affine, atol=1e-4)
    np.testing.assert_allclose(nii.header.get_zooms(), (0.9, 1.1, 4.4), atol=1e-6)

    img = LoadImage(reader="PydicomReader", image_only=True)(str(paths[0].parent))
    monai_affine = np.asarray(img.affine, dtype=np.float64)
    np.testing.assert_allclose(monai_affine, nii.affine, atol=1e-3)
    np.testing.assert_allclose(np.asarray(img), nii.get_fdata(), rtol=1e-5)
    # the same world position holds the same value in all three views of the series
    k, r, c = 3, 10, 25
    world = (GEOM.index_to_lps() @ np.array([c, r, k, 1.0]))[:3]
    expected = _display(pydicom.dcmread(paths[k]))[r, c]
    assert _value_at(world, nii.affine, nii.get_fdata(), ras=True) == pytest.approx(expected, rel=1e-5)
    assert _value_at(world, monai_affine, np.asarray(img), ras=True) == pytest.approx(expected, rel=1e-5)
    gain = quantise(vol, plan, series, SERIES_UID)[1].gain
    assert expected == pytest.approx(gain * vol[k, r, c], abs=float(pydicom.dcmread(paths[0]).RescaleSlope))


def test_enhanced_geometry_with_nibabel_wrapper(tmp_path):
    from nibabel.nicom.dicomwrappers import wrapper_from_data

    plan, series, vol = _plan(SIEMENS), _series(), _volume(3)
    (path,) = _write(tmp_path, plan, series, vol, "enhanced")
    wrapper = wrapper_from_data(pydicom.dcmread(path))
    data = wrapper.get_data()
    assert data.shape == (32, 40, 5)
    gain = quantise(vol, plan, series, SERIES_UID)[1].gain
    for k, r, c in [(0, 0, 0), (4, 31, 39), (2, 17, 5)]:
        world = (GEOM.index_to_lps() @ np.array([c, r, k, 1.0]))[:3]
        assert _value_at(world, wrapper.affine, data, ras=False) == pytest.approx(gain * vol[k, r, c], abs=0.5)


# ---------------------------------------------------------------------------------------------- determinism
def test_same_inputs_give_identical_bytes(tmp_path):
    plan = _plan(GE, study_uid=_uid_where(lambda u: unit_hash(u, "flat-naming") >= 0.5))  # random hex names
    series, vol = _series(), _volume(4)
    names = {}
    for layout in ("single", "enhanced"):
        a = _write(tmp_path, plan, series, vol, layout, "flat", seed=11, sub=f"{layout}1")
        b = _write(tmp_path, plan, series, vol, layout, "flat", seed=11, sub=f"{layout}2")
        assert [p.name for p in a] == [p.name for p in b]
        assert all(re.fullmatch(r"[0-9a-f]{8}\.dcm", p.name) for p in a)
        assert all(p.read_bytes() == q.read_bytes() for p, q in zip(a, b))
        names[layout] = [p.name for p in a]
    c = _write(tmp_path, plan, series, vol, "single", "flat", seed=12, sub="other-seed")
    assert [p.name for p in c] != names["single"]  # the names, and only the names, come from the rng
    n1 = write_nifti_series(vol, plan, series, SERIES_UID, tmp_path / "n1" / "x_T2w")
    n2 = write_nifti_series(vol, plan, series, SERIES_UID, tmp_path / "n2" / "x_T2w")
    assert all(p.read_bytes() == q.read_bytes() for p, q in zip(n1, n2))
    ds = pydicom.dcmread(c[0])
    assert ds.InstanceCreationDate == "20240611" and ds.SOPInstanceUID.startswith("2.25.")


# ---------------------------------------------------------------------------------------------- headers + paths
def test_header_content(tmp_path):
    plan = _plan(SIEMENS, body_part=None, laterality="left", contrast="gadobutrol (Gadovist)")
    flair = _series("FLAIR", "T2_FLAIR_2D", tr_ms=9000.0, te_ms=110.0, ti_ms=2500.0, flip_deg=150.0,
                    post_contrast=True, description="t2_tirm_tra_dark-fluid")
    ds = pydicom.dcmread(_write(tmp_path, plan, flair, _volume())[0])
    assert "BodyPartExamined" not in ds
    assert ds.PatientAge == "045Y" and ds.PatientName == "DOE^JANE" and ds.PatientSex == "F"
    assert ds.StudyInstanceUID == "1.2.3.4.5" and ds.SeriesInstanceUID == SERIES_UID and ds.SeriesNumber == 7
    assert ds.SeriesDescription == "t2_tirm_tra_dark-fluid" and ds.Laterality == "L"
    assert _values(ds, "ScanningSequence") == ["SE", "IR"] and "MP" in ds.SequenceVariant
    assert float(ds.InversionTime) == 2500.0 and float(ds.RepetitionTime) == 9000.0
    assert ds.SequenceName == "*tir2d1_15" and ds.MRAcquisitionType == "2D"
    assert float(ds.ImagingFrequency) == pytest.approx(42.577 * 3.0)
    assert ds.ContrastBolusAgent == "gadobutrol (Gadovist)"
    t2 = pydicom.dcmread(_write(tmp_path, _plan(SIEMENS), _series(), _volume(), sub="s2")[0])
    assert t2.BodyPartExamined == "HEAD" and "InversionTime" not in t2 and "ContrastBolusAgent" not in t2
    assert t2.FrameOfReferenceUID == ds.FrameOfReferenceUID  # one frame of reference per study
    other = pydicom.dcmread(_write(tmp_path, _plan(study_uid="1.2.3.9"), _series(), _volume(), sub="s3")[0])
    assert other.FrameOfReferenceUID != ds.FrameOfReferenceUID
    mprage = _series("T1", "T1_3D_IR_GRE", tr_ms=2300.0, te_ms=3.0, ti_ms=900.0, flip_deg=9.0, echo_train_length=1)
    m = pydicom.dcmread(_write(tmp_path, plan, mprage, _volume(), sub="s4")[0])
    assert _values(m, "ScanningSequence") == ["GR", "IR"] and m.MRAcquisitionType == "3D"


@pytest.mark.parametrize("style", ["dicomdir", "uid", "descriptive", "flat"])
def test_export_styles(tmp_path, style):
    study = tmp_path / "study"
    series = _series(description="Ax T2 FS/+C")
    paths = write_dicom_series(_volume(), _plan(), series, SERIES_UID, study, "single", style,
                               np.random.default_rng(0))
    assert len(paths) == 5 and all(p.is_file() for p in paths)
    rel = [p.relative_to(study).as_posix() for p in paths]
    sops = [pydicom.dcmread(p).SOPInstanceUID for p in paths]
    if style == "dicomdir":
        assert rel == [f"DICOM/PA000001/ST000001/SE000007/IM00000{k}" for k in range(1, 6)]
    elif style == "uid":
        assert rel == [f"{SERIES_UID}/{sop}.dcm" for sop in sops]
    elif style == "descriptive":
        assert rel == [f"007_Ax_T2_FS_+C/IMG000{k}.dcm" for k in range(1, 6)]
    else:
        assert all("/" not in r for r in rel)
        assert all(r == f"MR.{sop}" or re.fullmatch(r"[0-9a-f]{8}\.dcm", r) for r, sop in zip(rel, sops))
    assert [pydicom.dcmread(p).InstanceNumber for p in paths] == [1, 2, 3, 4, 5]
    assert len(set(sops)) == 5


# ---------------------------------------------------------------------------------------------- DWI / ADC
def test_dwi_single_frame_enhanced_and_nifti(tmp_path):
    plan = _plan(SIEMENS)
    dwi = _series("DWI", "DWI_SS_EPI", b_values=(0, 1000), te_ms=80.0, echo_train_length=1, description="ep2d_diff")
    b0 = _volume(5)
    vol = np.stack([b0, 0.4 * b0])  # [B, S, R, C]
    paths = _write(tmp_path, plan, dwi, vol)
    dss = [pydicom.dcmread(p) for p in paths]
    assert len(dss) == 10
    assert [float(ds.DiffusionBValue) for ds in dss] == [0.0] * 5 + [1000.0] * 5
    assert [ds.SequenceName for ds in (dss[0], dss[5])] == ["*ep_b0", "*ep_b1000t"]
    assert _values(dss[5], "ImageType")[:4] == ["DERIVED", "PRIMARY", "DIFFUSION", "TRACEW"]
    assert _values(dss[0], "ScanningSequence") == ["EP"]
    # one scaling for the whole series: the b1000/b0 ratio survives
    ratio = np.stack([ds.pixel_array for ds in dss[5:]]) / np.stack([ds.pixel_array for ds in dss[:5]])
    assert np.abs(ratio - 0.4).max() < 0.01
    (enh,) = _write(tmp_path, plan, dwi, vol, "enhanced", sub="enh")
    e = pydicom.dcmread(enh)
    assert e.NumberOfFrames == 10 and e.pixel_array.shape == (10, 32, 40)
    fgs = e.PerFrameFunctionalGroupsSequence
    assert [float(f.MRDiffusionSequence[0].DiffusionBValue) for f in fgs] == [0.0] * 5 + [1000.0] * 5
    assert list(fgs[7].FrameContentSequence[0].DimensionIndexValues) == [1, 3, 2]
    np.testing.assert_array_equal(e.pixel_array, np.stack([ds.pixel_array for ds in dss]))
    from nibabel.nicom.dicomwrappers import wrapper_from_data

    # nibabel drops ISOTROPIC (trace) frames by default, assuming directional frames exist; keep them all here
    assert wrapper_from_data(e, frame_filters=[]).get_data().shape == (32, 40, 5, 2)  # b-value: 4th dimension

    out = write_nifti_series(vol, plan, dwi, SERIES_UID, tmp_path / "dwi" / "sub-01_dwi")
    assert [p.name for p in out] == ["sub-01_dwi.nii.gz", "sub-01_dwi.json", "sub-01_dwi.bval", "sub-01_dwi.bvec"]
    nii = nib.load(out[0])
    assert nii.shape == (40, 32, 5, 2)
    np.testing.assert_array_equal(nii.get_fdata()[25, 10, 3, 1], dss[5 + 3].pixel_array[10, 25])
    assert out[2].read_text().split() == ["0", "1000"]
    bvec = np.loadtxt(out[3])
    np.testing.assert_array_equal(bvec, [[0, 1], [0, 0], [0, 0]])
    side = json.loads(out[1].read_text())
    assert "[1, 0, 0]" in side["BvecConvention"] and side["DiffusionDirectionality"] == "ISOTROPIC"


@pytest.mark.parametrize("vendor", [SIEMENS, PHILIPS])
def test_adc_stored_in_micro_units(tmp_path, vendor):
    adc = _series("ADC", "DWI_SS_EPI", description="ep2d_diff_ADC", derived_from=6, echo_train_length=1)
    vol = (0.3 + 2.7 * np.random.default_rng(6).random(GEOM.shape)).astype(np.float32)  # 1e-3 mm^2/s
    dss = [pydicom.dcmread(p) for p in _write(tmp_path, _plan(vendor), adc, vol)]
    display = np.stack([_display(ds) for ds in dss])
    np.testing.assert_array_equal(display, np.rint(vol.astype(np.float64) * 1000.0))
    assert _values(dss[0], "ImageType") == ["DERIVED", "PRIMARY", "DIFFUSION", "ADC"]


# ---------------------------------------------------------------------------------------------- vendors
def test_ge_signed_and_unsigned_pixels_round_trip(tmp_path):
    plan, series, vol = _plan(GE), _series(), _volume(7)
    signed_uid = _uid_where(lambda u: quantise(vol[:1, :1], plan, series, u)[1].signed)
    unsigned_uid = _uid_where(lambda u: not quantise(vol[:1, :1], plan, series, u)[1].signed)
    for uid, representation in ((signed_uid, 1), (unsigned_uid, 0)):
        dss = [pydicom.dcmread(p) for p in _write(tmp_path, plan, series, vol, uid=uid, sub=uid)]
        assert dss[0].PixelRepresentation == representation
        assert dss[0].pixel_array.dtype == (np.int16 if representation else np.uint16)
        gain = quantise(vol, plan, series, uid)[1].gain
        assert np.abs(np.stack([_display(ds) for ds in dss]) - gain * vol).max() <= 0.5 + 1e-3
        nii = nib.load(write_nifti_series(vol, plan, series, uid, tmp_path / f"n{representation}" / "x_T2w")[0])
        np.testing.assert_array_equal(nii.get_fdata(), np.stack([_display(ds) for ds in dss]).transpose(2, 1, 0))


def test_nifti_sidecar_units_and_fields(tmp_path):
    flair = _series("FLAIR", "T2_FLAIR_2D", tr_ms=9000.0, te_ms=110.0, ti_ms=2500.0, flip_deg=150.0)
    out = write_nifti_series(_volume(), _plan(PHILIPS, body_part=None), flair, SERIES_UID, tmp_path / "a" / "x_FLAIR")
    side = json.loads(out[1].read_text())
    assert (side["RepetitionTime"], side["EchoTime"], side["InversionTime"]) == (9.0, 0.11, 2.5)
    assert "BodyPartExamined" not in side and side["Manufacturer"] == PHILIPS
    assert side["ScanningSequence"] == "SE_IR" and side["MRAcquisitionType"] == "2D"
    assert side["ImageType"] == ["ORIGINAL", "PRIMARY", "M_IR", "M", "IR"]
    np.testing.assert_allclose(side["ImageOrientationPatientDICOM"], GEOM.row_dir + GEOM.col_dir)
    assert side["SeriesInstanceUID"] == SERIES_UID and side["SliceThickness"] == 4.0


def test_invalid_inputs_raise(tmp_path):
    plan, series = _plan(), _series()
    with pytest.raises(ValueError, match="shape"):
        _write(tmp_path, plan, series, _volume()[:, :, :30])
    with pytest.raises(ValueError, match=">= 0"):
        _write(tmp_path, plan, series, _volume() - 100.0)
    with pytest.raises(ValueError, match="layout"):
        _write(tmp_path, plan, series, _volume(), layout="mosaic")
    with pytest.raises(ValueError, match="export style"):
        _write(tmp_path, plan, series, _volume(), style="zip")
    with pytest.raises(ValueError, match="b_values"):
        _write(tmp_path, plan, _series("DWI", "DWI_SS_EPI"), _volume())

"""Write one acquired series as BIDS-style NIfTI: image, JSON sidecar, and .bval/.bvec for DWI.

The NIfTI holds exactly what dcm2niix would make of the same series' DICOM: the same stored integers (int16, or
uint16 when a GE series exceeds 32767) with ``scl_slope`` / ``scl_inter`` = RescaleSlope / RescaleIntercept. So
the two formats agree voxel for voxel, the file stays half the size of float32, and nothing is lost relative to
the DICOM. The data array is the ``[S, R, C]`` volume transposed to ``[C, R, S]`` (``[C, R, S, B]`` for DWI) with
the RAS affine ``diag(-1, -1, 1) @ geometry.index_to_lps()``.

DWI trace images have no gradient direction; by the convention used here (and stated in the sidecar's
``BvecConvention``) b > 0 volumes get the placeholder direction [1, 0, 0] and b = 0 volumes [0, 0, 0].
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import nibabel as nib
import numpy as np

from ..types import SeriesPlan, StudyPlan
from .dicom import as_stack
from .dicom_headers import (
    LARMOR_MHZ_PER_T, acquisition_codes, image_type, patient_position, phase_encoding_direction, quantise,
    series_datetime, software_versions, station_name,
)

log = logging.getLogger(__name__)

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
BVEC_CONVENTION = ("trace-weighted (isotropic) images carry no gradient direction: b>0 volumes use the "
                   "placeholder direction [1, 0, 0], b=0 volumes [0, 0, 0]")


def nifti_affine(series: SeriesPlan) -> np.ndarray:
    """4x4 RAS affine of the NIfTI array ``[C, R, S]`` (column, row, slice indices)."""
    return LPS_TO_RAS @ series.geometry.index_to_lps()


def write_nifti_series(volume: np.ndarray, plan: StudyPlan, series: SeriesPlan, series_uid: str,
                       path_stem: Path) -> list[Path]:
    """Write ``path_stem + ".nii.gz"`` and ``.json`` (plus ``.bval`` / ``.bvec`` for DWI).

    Args:
        volume: float32 >= 0, ``[S, R, C]``; DWI ``[B, S, R, C]``; ADC maps in 1e-3 mm^2/s (written as integers
            in 1e-6 mm^2/s, like the DICOM).
        plan: the study the series belongs to.
        series: the series plan.
        series_uid: SeriesInstanceUID (recorded in the sidecar; seeds the vendor scaling like the DICOM writer).
        path_stem: output path without extension, e.g. ``.../anat/sub-P0001_ses-01_acq-tra_T2w``.

    Returns:
        The files written: image, sidecar, then .bval and .bvec for DWI.
    """
    stack = as_stack(volume, series)  # [B, S, R, C]
    stored, storage = quantise(stack, plan, series, series_uid)
    data = np.transpose(stored, (3, 2, 1, 0))  # [C, R, S, B]
    if series.sequence != "DWI":
        data = data[..., 0]
    dtype = np.int16 if int(stored.max(initial=0)) <= np.iinfo(np.int16).max else np.uint16
    affine = nifti_affine(series)
    img = nib.Nifti1Image(np.ascontiguousarray(data, dtype=dtype), affine)
    hdr = img.header
    hdr.set_data_dtype(dtype)
    hdr.set_slope_inter(storage.slope, storage.intercept)
    img.set_sform(affine, code=1)
    img.set_qform(affine, code=1)
    hdr.set_xyzt_units("mm", "sec")
    hdr.set_dim_info(slice=2)
    g = series.geometry
    zooms = (g.pixel_spacing[1], g.pixel_spacing[0], g.slice_step)
    hdr.set_zooms(zooms + ((series.tr_ms / 1000.0,) if data.ndim == 4 else ()))
    hdr["descrip"] = f"TE={series.te_ms:g};TR={series.tr_ms:g}"[:79].encode()

    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    nii = stem.with_name(stem.name + ".nii.gz")
    img.to_filename(nii)
    side = stem.with_name(stem.name + ".json")
    side.write_text(json.dumps(sidecar(plan, series, series_uid), indent=2) + "\n")
    paths = [nii, side]
    if series.sequence == "DWI":
        bvals = [int(b) for b in series.b_values]
        bvec = np.array([[1.0 if b > 0 else 0.0 for b in bvals], [0.0] * len(bvals), [0.0] * len(bvals)])
        bval_path = stem.with_name(stem.name + ".bval")
        bvec_path = stem.with_name(stem.name + ".bvec")
        bval_path.write_text(" ".join(str(b) for b in bvals) + "\n")
        bvec_path.write_text("\n".join(" ".join(f"{v:g}" for v in row) for row in bvec) + "\n")
        paths += [bval_path, bvec_path]
    log.debug("series %d (%s): NIfTI %s", series.series_number, series.description, nii)
    return paths


def sidecar(plan: StudyPlan, series: SeriesPlan, series_uid: str) -> dict:
    """The BIDS JSON sidecar: dcm2niix-style keys, times in seconds, DICOM multi-values joined with "_"."""
    codes = acquisition_codes(plan, series, max(series.b_values) if series.sequence == "DWI" else None)
    _, time = series_datetime(plan, series)
    g = series.geometry
    out: dict = {
        "Modality": "MR",
        "MagneticFieldStrength": plan.field_strength,
        "ImagingFrequency": round(LARMOR_MHZ_PER_T * plan.field_strength, 6),
        "Manufacturer": plan.manufacturer,
        "ManufacturersModelName": plan.model_name,
        "InstitutionName": plan.institution,
        "StationName": station_name(plan),
        "SoftwareVersions": "\\".join(software_versions(plan)),
        "StudyDescription": plan.study_description,
        "PatientPosition": patient_position(plan),
    }
    if plan.body_part_examined is not None:
        out["BodyPartExamined"] = plan.body_part_examined
    if plan.laterality in ("left", "right"):
        out["Laterality"] = plan.laterality[0].upper()
    out.update({
        "SeriesDescription": series.description,
        "ProtocolName": series.protocol_name or series.description,
        "ScanningSequence": "_".join(codes.scanning_sequence),
        "SequenceVariant": "_".join(codes.sequence_variant),
        "ScanOptions": "_".join(codes.scan_options),
        "SequenceName": codes.sequence_name,
        "ImageType": image_type(plan, series, max(series.b_values) if series.sequence == "DWI" else None),
        "SeriesNumber": series.series_number,
        "AcquisitionTime": f"{time[:2]}:{time[2:4]}:{time[4:6]}.000000",
        "AcquisitionNumber": 1,
        "SliceThickness": g.slice_thickness,
        "SpacingBetweenSlices": g.slice_step,
        "EchoTime": round(series.te_ms / 1000.0, 6),
        "RepetitionTime": round(series.tr_ms / 1000.0, 6),
    })
    if codes.inversion:
        out["InversionTime"] = round(series.ti_ms / 1000.0, 6)
    out.update({
        "FlipAngle": series.flip_deg,
        "EchoTrainLength": int(series.echo_train_length),
        "MRAcquisitionType": codes.acquisition_type,
        "ImageOrientationPatientDICOM": [float(v) for v in (*g.row_dir, *g.col_dir)],
        "InPlanePhaseEncodingDirectionDICOM": phase_encoding_direction(plan, series),
        "SeriesInstanceUID": series_uid,
        "StudyInstanceUID": plan.study_uid,
    })
    if series.post_contrast and plan.contrast_agent:
        out["ContrastBolusIngredient"] = "GADOLINIUM"
        out["ContrastBolusAgent"] = plan.contrast_agent
    if series.sequence == "DWI":
        out["DiffusionDirectionality"] = "ISOTROPIC"
        out["BvecConvention"] = BVEC_CONVENTION
    if series.sequence == "ADC":
        out["Units"] = "1e-6 mm^2/s"
    out["ConversionSoftware"] = "mri-search synth"
    return out

"""Write one series' ground truth in its own geometry: tissue label map, lesion mask and DICOM SEG.

The label map holds, for every voxel of the series grid, the phantom tissue at the voxel centre (nearest-neighbour
sampling of the phantom at the centre of the slice; thick slices are not averaged, so a label map is the truth a
rater would draw on the image). Values are the labels of ``label_table.csv`` (``tissues.label_table()``); labels
from ``tissues.LESION_LABEL_MIN`` up are lesion tissues, and the lesion mask is exactly those voxels.

Files, under ``OUT/derivatives/labels/`` in the series' BIDS path (BIDS derivatives: ``_dseg`` is a discrete
segmentation, ``_mask`` a binary mask; scanners of raw data skip both):

- ``<stem>_dseg.nii.gz``: uint8 tissue labels, the series' NIfTI array order ``[C, R, S]`` and RAS affine;
- ``<stem>_desc-lesion_mask.nii.gz``: uint8 0/1 lesion mask, same grid;
- ``<stem>_dseg.dcm``: a DICOM Segmentation of the DICOM series (highdicom), of type LABELMAP (the 2024 Label Map
  Segmentation Storage: one frame per slice, each pixel a segment number), one segment per tissue present (lesion
  tissues in the category "Morphologically Abnormal Structure"); written for DICOM series except diffusion series
  (their frames repeat each position once per b-value). LABELMAP rather than BINARY: a BINARY SEG stores a frame
  per slice and segment, and writing its ~20 x slices frames took three quarters of a small archive's time.
"""

from __future__ import annotations

import logging
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage

from ..physics.acquisition import grid_points
from ..physics.phantom import Phantom
from ..physics.tissues import LESION_LABEL_MIN, tissue_table
from ..types import SeriesPlan, StudyPlan
from .dicom_headers import derived_uid
from .nifti import nifti_affine

log = logging.getLogger(__name__)

ALGORITHM_NAME = "mri-search synth phantom"  # the SEG's "algorithm": the generator's own ground truth


def series_labels(phantom: Phantom, series: SeriesPlan) -> np.ndarray:
    """``[S, R, C]`` uint8 tissue labels at the series' voxel centres (0 outside the phantom)."""
    idx = grid_points(series.geometry, 0.0, np.linalg.inv(phantom.affine()))
    return ndimage.map_coordinates(phantom.labels, idx, order=0, mode="constant", cval=0).astype(np.uint8)


def _nifti(volume: np.ndarray, series: SeriesPlan, path: Path) -> None:
    affine = nifti_affine(series)
    img = nib.Nifti1Image(np.ascontiguousarray(np.transpose(volume, (2, 1, 0))), affine)  # [C, R, S]
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    img.header.set_xyzt_units("mm")
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(img, path)


def write_label_files(phantom: Phantom, plan: StudyPlan, series: SeriesPlan, series_uid: str, stem: Path,
                      dicom_files: list[Path] | None = None) -> dict:
    """Write the label map and lesion mask (and a DICOM SEG when ``dicom_files`` are given).

    Args:
        phantom: the study's phantom.
        plan: the study.
        series: the series whose grid the labels follow.
        series_uid: its SeriesInstanceUID (the SEG's UIDs derive from it).
        stem: path stem of the outputs, e.g. ``OUT/derivatives/labels/sub-X/ses-Y/anat/<series stem>``.
        dicom_files: the series' DICOM files (slice order), or None for no SEG.

    Returns:
        ``{"label": path, "lesion_mask": path, "seg": path or None, "lesion_voxels": int}``.
    """
    lab = series_labels(phantom, series)  # [S, R, C]
    lesion = (lab >= LESION_LABEL_MIN).astype(np.uint8)
    label_path = stem.with_name(stem.name + "_dseg.nii.gz")
    mask_path = stem.with_name(stem.name + "_desc-lesion_mask.nii.gz")
    _nifti(lab, series, label_path)
    _nifti(lesion, series, mask_path)
    seg_path = None
    if dicom_files and not series.b_values and series.sequence != "ADC":
        seg_path = stem.with_name(stem.name + "_dseg.dcm")
        write_seg(lab, plan, series, series_uid, dicom_files, seg_path)
    return {"label": label_path, "lesion_mask": mask_path, "seg": seg_path, "lesion_voxels": int(lesion.sum())}


def write_seg(lab: np.ndarray, plan: StudyPlan, series: SeriesPlan, series_uid: str, dicom_files: list[Path],
              path: Path) -> None:
    """A DICOM Segmentation (LABELMAP, one segment per tissue present) of the series' DICOM images.

    Segment numbers run 1..N in label order; ``SegmentLabel`` is the tissue name of ``label_table.csv`` and
    ``TrackingID`` its label value, so a reader maps segments back to labels without this code.
    """
    import highdicom as hd
    from pydicom import dcmread
    from pydicom.sr.codedict import codes

    sources = [dcmread(p) for p in dicom_files]
    present = [int(v) for v in np.unique(lab) if v != 0]
    if not present:
        return
    names = {t.label: t.name for t in tissue_table().values()}
    algo = hd.AlgorithmIdentificationSequence(name=ALGORITHM_NAME, family=codes.cid7162.ArtificialIntelligence,
                                              version="1")
    descriptions = []
    for number, value in enumerate(present, start=1):
        abnormal = value >= LESION_LABEL_MIN
        descriptions.append(hd.seg.SegmentDescription(
            segment_number=number, segment_label=names.get(value, f"label_{value}"),
            segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure if abnormal else codes.SCT.Tissue,
            segmented_property_type=codes.SCT.Lesion if abnormal else codes.SCT.Tissue,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC, algorithm_identification=algo,
            tracking_uid=derived_uid(series_uid, "seg-segment", value), tracking_id=str(value)))
    numbers = np.zeros(256, np.uint16)
    numbers[present] = np.arange(1, len(present) + 1)
    pixels = numbers[lab]  # [S, R, C] segment numbers, one frame per slice
    seg = hd.seg.Segmentation(
        source_images=sources, pixel_array=pixels, segmentation_type=hd.seg.SegmentationTypeValues.LABELMAP,
        segment_descriptions=descriptions, series_instance_uid=derived_uid(series_uid, "seg-series"),
        series_number=1000 + series.series_number, sop_instance_uid=derived_uid(series_uid, "seg-instance"),
        instance_number=1, manufacturer="mri-search", manufacturer_model_name="synth", software_versions="1",
        device_serial_number="0", series_description=f"SEG {series.description}"[:64])
    # highdicom stamps the creation time; the archive must be the same for the same seed
    seg.ContentDate = seg.SeriesDate = plan.study_date
    seg.ContentTime = seg.SeriesTime = plan.study_time
    path.parent.mkdir(parents=True, exist_ok=True)
    seg.save_as(path)

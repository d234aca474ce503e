"""The generator's ground truth for dense tasks: label maps, lesion masks and DICOM SEG on each series' own grid."""

from __future__ import annotations

import csv

import nibabel as nib
import numpy as np
import pyarrow.parquet as pq
from pydicom import dcmread

from mri_search.ingest.archive import scan_archive
from mri_search.synth.physics.tissues import LESION_LABEL_MIN, label_of


def _rows(archive):
    return pq.read_table(archive / "manifest.parquet").to_pylist()


def test_label_map_and_lesion_mask_share_the_series_geometry(seg_archive):
    rows = [r for r in _rows(seg_archive) if r["label_path"]]
    assert len(rows) == 5  # every series but the derived ADC map
    table = {int(r["label"]): r for r in csv.DictReader(open(seg_archive / "label_table.csv"))}
    assert table[label_of("glioblastoma")]["kind"] == "lesion" and table[label_of("liver")]["kind"] == "anatomy"
    for r in rows:
        image = nib.load(seg_archive / r["nifti_path"])
        labels = nib.load(seg_archive / r["label_path"])
        mask = nib.load(seg_archive / r["lesion_mask_path"])
        assert labels.shape == mask.shape == image.shape[:3] == tuple(reversed(r["shape"]))
        np.testing.assert_allclose(labels.affine, image.affine, atol=1e-4)
        np.testing.assert_allclose(mask.affine, image.affine, atol=1e-4)
        lab = np.asarray(labels.dataobj)
        assert set(np.unique(lab)) <= set(table)
        assert np.array_equal(np.asarray(mask.dataobj), (lab >= LESION_LABEL_MIN).astype(np.uint8))
        assert r["lesion_voxels"] == int((lab >= LESION_LABEL_MIN).sum()) > 0  # the glioblastoma is in every series
        assert (lab == label_of("white_matter")).any()


def test_dicom_seg_holds_the_label_map(seg_archive):
    rows = [r for r in _rows(seg_archive) if r["seg_path"]]
    assert rows and all(r["sequence"] not in ("DWI", "ADC") for r in rows)
    r = rows[0]
    seg = dcmread(seg_archive / r["seg_path"])
    assert seg.Modality == "SEG" and seg.SegmentationType == "LABELMAP"
    lab = np.asarray(nib.load(seg_archive / r["label_path"]).dataobj)  # [C, R, S]
    by_number = {int(s.SegmentNumber): int(s.TrackingID) for s in seg.SegmentSequence
                 if int(s.SegmentNumber) > 0}  # segment 0: the background highdicom adds to a label map
    assert sorted(by_number.values()) == sorted(int(v) for v in np.unique(lab) if v)
    to_label = np.zeros(max(by_number) + 1, np.int64)
    for number, value in by_number.items():
        to_label[number] = value
    frames = to_label[seg.pixel_array.reshape(-1, *seg.pixel_array.shape[-2:])]  # [slices, rows, columns] labels
    counts = lambda a: {int(v): int(n) for v, n in zip(*np.unique(a, return_counts=True)) if v}  # noqa: E731
    assert counts(frames) == counts(lab)  # every labelled voxel, once (all-background slices are left out)
    slices = np.transpose(lab, (2, 1, 0))  # [S, R, C]
    affine_lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ nib.load(seg_archive / r["label_path"]).affine
    starts = np.array([(affine_lps @ [0, 0, k, 1])[:3] for k in range(slices.shape[0])])  # first voxel per slice
    for frame, item in zip(frames, seg.PerFrameFunctionalGroupsSequence):
        ipp = np.array(item.PlanePositionSequence[0].ImagePositionPatient, float)
        k = int(np.argmin(np.linalg.norm(starts - ipp, axis=1)))
        assert np.linalg.norm(starts[k] - ipp) < 0.01
        assert np.array_equal(frame, slices[k])  # each frame is its slice of the label map
    names = {s.SegmentLabel for s in seg.SegmentSequence}
    assert {"white_matter", "glioblastoma"} <= names


def test_scans_skip_label_files(seg_archive):
    scan = scan_archive(seg_archive)
    assert len(scan.series) == 2 * len(_rows(seg_archive))  # DICOM + NIfTI twins, no label map taken for an image
    assert not any("derivatives" in s.files[0].member for s in scan.series)
    seg_skips = [s for s in scan.skipped if s.path.endswith("_dseg.dcm")]
    assert seg_skips and all("segmentation" in s.reason for s in seg_skips)

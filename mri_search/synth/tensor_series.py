"""One acquired series -> the tensor ingestion + preprocessing would make of its written files, in memory.

The volume is stored exactly as the NIfTI/DICOM writers store it (``quantise``: vendor-typical integers with
RescaleSlope), rescaled as a reader rescales it, and put through ``deterministic_transforms`` (the very MONAI
pipeline indexing and pretraining use) with the series' own acquisition geometry. Nothing is written but the
result, so thick-slice partial volume, noise at the acquired voxel size, bias and ghosts reach the tensor exactly
as they reach it through the files.
"""

from __future__ import annotations

import numpy as np
import torch

from ..ingest.records import SeriesRecord
from ..preprocess import PreprocessConfig, deterministic_transforms, run_transforms
from .types import SeriesPlan, StudyPlan
from .writers.dicom import as_stack
from .writers.dicom_headers import quantise


def stored_volume(volume: np.ndarray, plan: StudyPlan, series: SeriesPlan, series_uid: str) -> np.ndarray:
    """What a reader gets back from the written series: float32 ``[S, R, C]`` (DWI ``[B, S, R, C]``)."""
    stack = as_stack(volume, series)  # [B, S, R, C]
    stored, storage = quantise(stack, plan, series, series_uid, window=False)
    out = stored.astype(np.float32) * np.float32(storage.slope) + np.float32(storage.intercept)
    return out if series.sequence == "DWI" else out[0]


def series_record(plan: StudyPlan, series: SeriesPlan, series_uid: str) -> SeriesRecord:
    """The in-memory record of a series: its geometry as ingestion reads it (LPS affine of (column, row, slice))."""
    g = series.geometry
    return SeriesRecord(
        key=series_uid, source="synth", layout="memory", files=(), study_key=plan.study_uid,
        series_uid_hash=series_uid, patient_key=plan.patient.patient_id, accession_hash=plan.accession,
        modality="MR", sequence=series.sequence, sequence_evidence="plan", post_contrast=series.post_contrast,
        fat_suppressed=bool(series.fat_suppression), plane=series.plane, shape=tuple(int(s) for s in g.shape),
        spacing=(float(g.slice_step), float(g.pixel_spacing[0]), float(g.pixel_spacing[1])),
        affine_lps=tuple(tuple(float(v) for v in row) for row in g.index_to_lps()),
        b_values=tuple(int(b) for b in series.b_values) if series.sequence == "DWI" else ())


class SeriesTensorizer:
    """Reusable deterministic pipeline for one PreprocessConfig (building the MONAI Compose once per worker)."""

    def __init__(self, cfg: PreprocessConfig) -> None:
        self.cfg = cfg
        self._volume: np.ndarray | None = None
        self.transforms = deterministic_transforms(cfg, loader=self._load)

    def _load(self, record: SeriesRecord) -> np.ndarray:
        return self._volume

    def __call__(self, volume: np.ndarray, plan: StudyPlan, series: SeriesPlan,
                 series_uid: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(float32 image [1, X, Y, Z] in [0, 1], float64 RAS affine [4, 4]) of one acquired series."""
        self._volume = stored_volume(volume, plan, series, series_uid)
        try:
            img = run_transforms(self.transforms, {"series": series_record(plan, series, series_uid)})["image"]
        finally:
            self._volume = None
        return img.as_tensor(), img.affine.to(torch.float64)

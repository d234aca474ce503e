"""MONAI dictionary transforms of our own: the load step (the one adapter between a ``SeriesRecord`` and MONAI)
and anti-aliasing before downsampling.

Array convention of the load step: the reader returns ``[S, R, C]`` (slice, row, column; DWI ``[B, S, R, C]``);
MONAI receives ``[1, C, R, S]``, the NIfTI convention, with the RAS affine ``diag(-1, -1, 1, 1) @ affine_lps``
(``affine_lps`` maps (column, row, slice) indices to LPS mm), so a DICOM series and its NIfTI twin enter MONAI
identically.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Mapping

import numpy as np
import torch
from monai.data import MetaTensor
from monai.transforms import MapTransform

from .ingest.records import SeriesRecord

log = logging.getLogger(__name__)

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
DWI_CHOICES = ("highest_b", "lowest_b", "first", "last")

Loader = Callable[[SeriesRecord], np.ndarray]


def default_loader(record: SeriesRecord) -> np.ndarray:
    """``mri_search.ingest.archive.load_series``, imported on first use (the readers import pydicom and nibabel)."""
    from .ingest.archive import load_series

    return load_series(record)


def ras_affine(record: SeriesRecord) -> np.ndarray:
    """4x4 RAS affine of the ``[C, R, S]`` array of a record, its axes made exactly orthogonal (``square_axes``)."""
    aff = np.asarray(record.affine_lps, dtype=np.float64)
    if aff.shape != (4, 4) or not np.all(np.isfinite(aff)) or abs(np.linalg.det(aff[:3, :3])) < 1e-9:
        raise ValueError(f"series {record.key}: affine_lps must be a finite, invertible 4x4 matrix, got {aff.tolist()}")
    return LPS_TO_RAS @ square_axes(aff, record.key)


def square_axes(aff: np.ndarray, key: str = "", max_shear: float = 1e-3) -> np.ndarray:
    """Replace the direction cosines of ``aff`` by the nearest orthonormal ones (polar decomposition), keeping the
    voxel sizes and the origin, when they are off by rounding only (|cos| between axes below ``max_shear``).

    Why: MONAI's ``Spacingd`` anchors its output grid at the input's first voxel only when no input corner lies
    outside the output frame by more than 1e-8 voxel; otherwise it centres the grid instead. A DICOM affine
    (6-decimal ImageOrientationPatient) and the float32 affine of its NIfTI twin differ by ~1e-6, which was enough
    to put their outputs on grids a sub-voxel to a whole voxel apart. A truly sheared affine is left as it is.
    """
    m = aff[:3, :3]
    zooms = np.linalg.norm(m, axis=0)
    unit = m / zooms
    cos = np.abs(unit.T @ unit - np.eye(3)).max()
    if cos > max_shear:
        log.warning("series %s: sheared affine (axes %.2g from orthogonal); resampled as it is", key, cos)
        return aff
    u, _, vt = np.linalg.svd(unit)
    out = aff.copy()
    out[:3, :3] = (u @ vt) * zooms
    return out


def select_dwi_volume(volume: np.ndarray, record: SeriesRecord, how: str) -> np.ndarray:
    """One ``[S, R, C]`` volume of a ``[B, S, R, C]`` DWI series.

    Args:
        volume: ``[B, S, R, C]``.
        record: its record; ``record.b_values`` (one per volume, when known) decides ``highest_b``/``lowest_b``.
        how: ``highest_b`` (the diagnostic trace image), ``lowest_b`` (b=0, T2-like), ``first`` or ``last``.
    """
    n = volume.shape[0]
    b = list(record.b_values)
    if how in ("highest_b", "lowest_b") and len(b) == n:
        # ties: the later volume for the highest b, the earlier for the lowest (argmax/argmin pick the first)
        idx = (n - 1 - int(np.argmax(b[::-1]))) if how == "highest_b" else int(np.argmin(b))
    elif how in ("highest_b", "last"):
        if how == "highest_b" and b:
            log.warning("series %s: %d b-values for %d volumes; using the last volume", record.key, len(b), n)
        idx = n - 1  # scanners store b-values in increasing order
    else:
        idx = 0
    return volume[idx]


def check_volume(volume: np.ndarray, record: SeriesRecord, lower: float, upper: float) -> None:
    """Raise ValueError (naming the series) for a volume that cannot be normalised: NaN/inf, empty or constant.

    The percentile check catches a volume whose ``upper`` percentile equals its ``lower`` one (fewer than
    ``100 - upper`` % of voxels hold signal): percentile scaling would divide by zero.
    """
    if volume.size == 0:
        raise ValueError(f"series {record.key}: empty volume {volume.shape}")
    if not np.all(np.isfinite(volume)):
        bad = int(volume.size - np.count_nonzero(np.isfinite(volume)))
        raise ValueError(f"series {record.key}: {bad} NaN or infinite voxels; the series is corrupt")
    lo_v, hi_v = float(volume.min()), float(volume.max())
    if hi_v <= lo_v:
        raise ValueError(f"series {record.key}: constant volume (every voxel = {lo_v:g}); nothing to normalise")
    flat = volume.ravel()
    lo, hi = np.percentile(flat[:: max(1, flat.size // 262144)], [lower, upper])  # a quick look at ~256 k voxels
    if hi <= lo:
        lo, hi = np.percentile(flat, [lower, upper])  # confirm on every voxel before refusing the series
    if hi <= lo:
        raise ValueError(f"series {record.key}: the {lower:g}th and {upper:g}th intensity percentiles are both "
                         f"{lo:g} (almost no signal); nothing to normalise")


class LoadSeriesd(MapTransform):
    """Read the series named by ``data[key]`` (a ``SeriesRecord``) into ``data[output_key]``.

    The output is a float32 ``MetaTensor`` ``[1, C, R, S]`` with its RAS affine; DWI series contribute one volume
    (``dwi_volume``). The record stays in the dict, so later steps (and the cache) can read its metadata.
    """

    def __init__(self, key: str = "series", output_key: str = "image", loader: Loader | None = None,
                 dwi_volume: str = "highest_b", percentiles: tuple[float, float] = (0.5, 99.5)) -> None:
        super().__init__(keys=key)
        if dwi_volume not in DWI_CHOICES:
            raise ValueError(f"dwi_volume must be one of {DWI_CHOICES}, got {dwi_volume!r}")
        self.key = key
        self.output_key = output_key
        self.loader = loader or default_loader
        self.dwi_volume = dwi_volume
        self.percentiles = percentiles

    def __call__(self, data: Mapping[Hashable, object]) -> dict:
        d = dict(data)
        record = d[self.key]
        if not isinstance(record, SeriesRecord):
            raise ValueError(f"data[{self.key!r}] must be a SeriesRecord, got {type(record).__name__}")
        volume = np.asarray(self.loader(record), dtype=np.float32)
        if volume.ndim == 4:
            volume = select_dwi_volume(volume, record, self.dwi_volume)
        if volume.ndim != 3:
            raise ValueError(f"series {record.key}: expected a [S, R, C] volume, the loader returned {volume.shape}")
        if tuple(volume.shape) != tuple(record.shape):
            raise ValueError(f"series {record.key}: the loader returned {volume.shape}, the record says {record.shape}")
        check_volume(volume, record, *self.percentiles)
        arr = np.ascontiguousarray(np.transpose(volume, (2, 1, 0)))[None]  # [1, C, R, S]
        meta = {"filename_or_obj": record.key, "series_key": record.key, "sequence": record.sequence,
                "original_channel_dim": "no_channel", "space": "RAS"}
        d[self.output_key] = MetaTensor(torch.from_numpy(arr), affine=torch.as_tensor(ras_affine(record)), meta=meta)
        return d


def antialias_sigmas(affine: np.ndarray, target_mm: tuple[float, float, float]) -> list[float]:
    """Gaussian sigma per array axis (voxels) before resampling to ``target_mm``: ``(factor - 1) / 2`` where the
    axis is downsampled by ``factor = target / voxel size`` (the rule of ``skimage.transform.rescale``), else 0."""
    vox = np.linalg.norm(np.asarray(affine, dtype=np.float64)[:3, :3], axis=0)
    return [max(0.0, (t / v - 1.0) / 2.0) for t, v in zip(target_mm, vox)]


class AntiAliasd(MapTransform):
    """Low-pass the axes that ``Spacingd`` will downsample, so a 0.5 mm matrix resampled to 3 mm is an average of
    its voxels rather than every sixth voxel with its noise and aliasing. Run after ``Orientationd`` (array axis i
    is then nearest to world axis i, which ``Spacingd``'s ``pixdim[i]`` refers to)."""

    def __init__(self, keys: str, target_mm: tuple[float, float, float]) -> None:
        super().__init__(keys=keys)
        self.target_mm = tuple(float(t) for t in target_mm)

    def __call__(self, data: Mapping[Hashable, object]) -> dict:
        from scipy.ndimage import gaussian_filter

        d = dict(data)
        for key in self.key_iterator(d):
            img = d[key]
            sigmas = antialias_sigmas(img.affine.numpy(), self.target_mm)
            if max(sigmas) < 0.3:  # a kernel this narrow changes nothing measurable
                continue
            arr = img.detach().cpu().numpy()  # [1, X, Y, Z]
            out = gaussian_filter(arr.astype(np.float32), sigma=[0.0, *sigmas], mode="nearest", truncate=3.0)
            img.set_array(torch.from_numpy(out))
        return d

"""Label files: the label table they follow, and loading one label map onto its series with every check a user
needs (a label file that does not fit its series is an error naming the file, never a silent misalignment).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from ..ingest.records import SeriesRecord
from ..preprocess_transforms import ras_affine

LABEL_TABLE = "label_table.csv"


def builtin_label_table() -> dict[str, int]:
    """The generator's label table, tissue name -> label (``mri_search.synth.physics.tissues.label_table``)."""
    from ..synth.physics.tissues import label_table

    return {row["name"]: int(row["label"]) for row in label_table()}


def read_label_table(archive: Path | None) -> dict[str, int]:
    """``archive/label_table.csv`` as tissue name -> label, or the built-in table when the archive has none.

    Raises:
        ValueError: the file lacks the ``label`` and ``name`` columns, or a label is not an integer in 0-255.
    """
    path = Path(archive) / LABEL_TABLE if archive is not None else None
    if path is None or not path.is_file():
        return builtin_label_table()
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or not {"label", "name"} <= set(rows[0]):
        raise ValueError(f"{path}: a label table needs 'label' and 'name' columns")
    out: dict[str, int] = {}
    for row in rows:
        try:
            value = int(row["label"])
        except ValueError:
            raise ValueError(f"{path}: label {row['label']!r} of {row['name']!r} is not an integer") from None
        if not 0 <= value <= 255:
            raise ValueError(f"{path}: label {value} of {row['name']!r} is outside 0-255")
        out[row["name"]] = value
    return out


def load_label_map(path: Path, record: SeriesRecord, known: set[int] | None = None):
    """A label file as a MONAI ``MetaTensor`` ``[1, C, R, S]`` uint8 on its series' grid (the series' RAS affine).

    Args:
        path: NIfTI label map (or 0/1 mask) written on the series' own grid.
        record: the series it annotates.
        known: the label values allowed (None: any 0-255 integer).

    Raises:
        ValueError: unreadable file, not a 3D volume, non-integer values, a shape or position that differs from
            the series, or labels outside ``known``; the message names the file.
    """
    import nibabel as nib
    from monai.data import MetaTensor

    path = Path(path)
    try:
        img = nib.load(str(path))
        data = np.asanyarray(img.dataobj)
    except Exception as exc:  # noqa: BLE001 - any reader failure is the user's file
        raise ValueError(f"label file {path}: unreadable ({type(exc).__name__}: {exc})") from None
    data = np.squeeze(data, axis=tuple(range(3, data.ndim))) if data.ndim > 3 else data
    if data.ndim != 3:
        raise ValueError(f"label file {path}: expected a 3D label volume, got shape {tuple(data.shape)}")
    want = tuple(reversed(record.shape))  # NIfTI array order [C, R, S]
    if tuple(data.shape) != want:
        raise ValueError(f"label file {path}: shape {tuple(data.shape)} differs from its series' {want} "
                         f"(columns, rows, slices); a label map must be written on the series' own grid")
    if not np.all(np.isfinite(data)) or np.any(data != np.round(data)) or data.min() < 0 or data.max() > 255:
        raise ValueError(f"label file {path}: labels must be integers in 0-255")
    series_affine = ras_affine(record)
    shift = _corner_shift(img.affine, series_affine, want)
    voxel = float(np.linalg.norm(series_affine[:3, :3], axis=0).min())
    if shift > 0.5 * voxel:
        raise ValueError(f"label file {path}: not on its series' grid (voxel corners {shift:.2f} mm apart); "
                         "write it with the series' affine")
    data = data.astype(np.uint8)
    if known is not None:
        unknown = sorted(set(np.unique(data).tolist()) - set(known))
        if unknown:
            raise ValueError(f"label file {path}: labels {unknown[:10]} are not in the label table "
                             f"({LABEL_TABLE}); known labels: {sorted(known)[:8]}...")
    return MetaTensor(torch.from_numpy(data[None].copy()), affine=torch.as_tensor(series_affine),
                      meta={"filename_or_obj": str(path), "space": "RAS"})


def _corner_shift(a: np.ndarray, b: np.ndarray, shape: tuple[int, ...]) -> float:
    """Largest distance (mm) between the world positions of the grid's corner voxels under affines a and b."""
    corners = np.array([[i, j, k, 1.0] for i in (0, shape[0] - 1) for j in (0, shape[1] - 1)
                        for k in (0, shape[2] - 1)])
    return float(np.abs(corners @ np.asarray(a, float).T - corners @ np.asarray(b, float).T)[:, :3].max())

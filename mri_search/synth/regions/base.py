"""The contract every body-region module fulfils.

A region module (``brain.py``, ``head_neck.py``, ...) exposes three things:

- ``SUBREGIONS``: the protocol variants it covers (e.g. ``("cervical_spine", "lumbar_spine")``).
- ``sample_findings(patient, subregion, rng) -> (lesions, incidentals)``: draw what is wrong with this patient,
  with prevalences and size ranges taken from ``data/head_neck_tumours.csv`` / ``data/other_lesions.csv``.
  Geometry fields of the returned ``Lesion`` records are left empty.
- ``build(patient, subregion, lesions, incidentals, rng, side=None) -> Phantom``: paint the anatomy of this
  patient (for unilateral exams, the ``side`` "left"/"right" joint, placed on that side of the body) on a
  ``Canvas``, then paint each lesion at its site and fill in its ``center_lps``, ``size_mm`` (AP x TR x CC, measured
  from the painted voxels), ``laterality`` and ``tissue``.

The phantom must record the landmark ``"fov_center"`` (LPS mm): where a technologist centres the field of view for
this subregion. The canvas must extend at least 30 mm beyond the largest field of view and slice coverage the
subregion's protocol uses (see ``data/protocols.csv``), except where the body itself ends (air), so that no
acquisition ever sees the edge of the canvas. Lesions whose site cannot be painted are removed from the lists.

Regions share nothing but ``physics.phantom.Canvas`` and ``physics.tissues``; each is free to model its anatomy its
own way.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ..physics.phantom import Phantom
from ..physics.tissues import label_of
from ..types import Lesion, Patient


class RegionModule(Protocol):
    """Structural type of a region module (see the module docstring)."""

    SUBREGIONS: tuple[str, ...]

    def sample_findings(self, patient: Patient, subregion: str,
                        rng: np.random.Generator) -> tuple[list[Lesion], list[Lesion]]: ...

    def build(self, patient: Patient, subregion: str, lesions: list[Lesion], incidentals: list[Lesion],
              rng: np.random.Generator, side: str | None = None) -> Phantom: ...


def measure_lesion(canvas, lesion: Lesion, tissue_names: tuple[str, ...]) -> None:
    """Fill ``lesion.center_lps`` and ``lesion.size_mm`` (AP x TR x CC) from the painted voxels.

    Leaves the lesion untouched when nothing was painted (e.g. the site fell outside the canvas), so the caller can
    drop it rather than report a lesion that is not in the image.
    """
    set_geometry(canvas, lesion, np.isin(canvas.labels, [label_of(n) for n in tissue_names]))


def set_geometry(canvas, lesion: Lesion, mask: np.ndarray) -> bool:
    """Fill ``lesion.center_lps`` and ``size_mm`` (AP x TR x CC) from a voxel mask; False when it is empty."""
    ext = canvas.mask_extent(mask)
    if ext is None:
        return False
    centre, size_xyz = ext
    lesion.center_lps = tuple(float(v) for v in centre)
    # LPS x = transverse (TR), y = anteroposterior (AP), z = craniocaudal (CC)
    lesion.size_mm = (float(size_xyz[1]), float(size_xyz[0]), float(size_xyz[2]))
    return True


def side_of(x_lps: float, tol: float = 3.0) -> str:
    """Patient side of an LPS x coordinate: +x is the patient's left."""
    if x_lps > tol:
        return "left"
    if x_lps < -tol:
        return "right"
    return "midline"

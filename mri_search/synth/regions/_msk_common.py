"""Helpers shared by the breast, pelvis, knee and shoulder phantoms.

- ``Frame``: a joint's local coordinate system (``u`` lateral, ``y`` posterior, ``z`` superior) mirrored onto the
  imaged side, so the knee and shoulder are drawn once for both sides.
- bone painting (cortical shell + marrow) and lesion measurement from the voxels a lesion actually changed (the
  same tissue may exist elsewhere in the phantom: an effusion and a Baker's cyst are both ``joint_fluid``).
"""

from __future__ import annotations

import numpy as np

from ..physics.phantom import Canvas, rotation
from ..physics.tissues import label_of
from ..types import Lesion
from .base import set_geometry

# Soft tissues a lesion or a ligament may displace; bone, air and organs with their own capsule are left alone.
SOFT = ("fat", "muscle", "ligament_fat_pad", "joint_fluid", "lymph_node", "vein", "artery")


def spacing_for(lo, hi, max_voxels: int = 215, finest: float = 1.0) -> float:
    """Isotropic voxel size that keeps the longest canvas axis at or under ``max_voxels``."""
    longest = float(np.max(np.asarray(hi, float) - np.asarray(lo, float)))
    return max(finest, round(longest / (max_voxels - 1) + 0.005, 2))


class Frame:
    """Local joint coordinates -> LPS mm: ``u`` lateral (mirrored to the imaged side), ``y`` posterior, ``z`` up.

    Args:
        origin: LPS mm of the local origin (the joint centre).
        side: "left" or "right": for a left joint lateral is +x, for a right joint -x.
        rot: extra rotation of the whole segment about the origin (e.g. knee flexion), applied after mirroring.
    """

    def __init__(self, origin, side: str, rot: np.ndarray | None = None):
        if side not in ("left", "right"):
            raise ValueError(f"side must be 'left' or 'right' for a unilateral joint, got {side!r}")
        self.origin = np.asarray(origin, float)
        self.lat = 1.0 if side == "left" else -1.0
        self.mirror = np.diag([self.lat, 1.0, 1.0])
        self.r = np.eye(3) if rot is None else np.asarray(rot, float)

    def p(self, u: float, y: float, z: float) -> tuple[float, float, float]:
        """LPS point of local (u, y, z)."""
        return tuple(self.origin + self.r @ (self.mirror @ np.array([u, y, z], float)))

    def local(self, points: np.ndarray) -> np.ndarray:
        """Local (u, y, z) of LPS points [N, 3] (inverse of ``p``)."""
        return (np.asarray(points, float) - self.origin) @ self.r @ self.mirror

    def pts(self, points) -> np.ndarray:
        """LPS polyline of local points."""
        return np.array([self.p(*q) for q in points])

    def rot(self, rx: float = 0.0, ry: float = 0.0, rz: float = 0.0) -> np.ndarray:
        """World rotation of a shape rotated by (rx, ry, rz) degrees in the local (unmirrored) frame."""
        return self.r @ self.mirror @ rotation(rx, ry, rz) @ self.mirror


def bone(cv: Canvas, center, radii, rot=None, cortex: float = 2.0, marrow: str = "marrow_yellow",
         power: float = 2.0, restrict=None) -> None:
    """An ellipsoidal bone: cortical shell of ``cortex`` mm around ``marrow``."""
    cv.ellipsoid("cortical_bone", center, radii, rot, restrict=restrict, power=power)
    inner = tuple(max(r - cortex, 0.5) for r in radii)
    cv.ellipsoid(marrow, center, inner, rot, restrict=("cortical_bone",), power=power)


def tube_bone(cv: Canvas, points, radius, cortex: float = 2.5, marrow: str = "marrow_yellow") -> None:
    """A tubular bone (shaft, ramus, rib): cortex around a marrow core."""
    rad = np.asarray(radius, float)
    cv.tube("cortical_bone", points, rad)
    cv.tube(marrow, points, np.maximum(rad - cortex, 0.5), restrict=("cortical_bone",))


def vessel_pair(cv: Canvas, points, r_artery: float, r_vein: float, vein_offset) -> None:
    """An artery along ``points`` and its companion vein displaced by ``vein_offset`` (LPS mm)."""
    pts = np.asarray(points, float)
    cv.tube("vein", pts + np.asarray(vein_offset, float), r_vein)
    cv.tube("artery", pts, r_artery)


def grid_coords(cv: Canvas, index: np.ndarray) -> np.ndarray:
    """[N, 3] LPS mm of voxel indices [N, 3] (no warp: for sector tests only)."""
    return cv.origin + index * cv.spacing


def keep_changes_where(cv: Canvas, before: np.ndarray, keep) -> None:
    """Undo the voxels changed since ``before`` whose LPS point fails ``keep(points [N, 3]) -> bool [N]``.

    Lets a shape be limited to a sector (the superior half of a cuff, the anterior recess) without a new primitive.
    """
    idx = np.argwhere(cv.labels != before)
    if len(idx) == 0:
        return
    bad = idx[~keep(grid_coords(cv, idx))]
    cv.labels[tuple(bad.T)] = before[tuple(bad.T)]


def paint_lesion(cv: Canvas, lesion: Lesion, tissues: tuple[str, ...], paint) -> bool:
    """Run ``paint()``, then measure ``lesion`` from the voxels it turned into ``tissues``.

    Fills ``center_lps`` and ``size_mm`` (AP x TR x CC) and returns True, or returns False when nothing was painted
    (the caller then drops the lesion: a report never describes what the image does not show).
    """
    before = cv.labels.copy()
    paint()
    return set_geometry(cv, lesion, (cv.labels != before) & np.isin(cv.labels, [label_of(t) for t in tissues]))


def severity_of(size_mm: float, small_below: float, large_from: float) -> str:
    """'small' / 'moderate' / 'large' from a measured dimension."""
    if size_mm < small_below:
        return "small"
    return "large" if size_mm >= large_from else "moderate"

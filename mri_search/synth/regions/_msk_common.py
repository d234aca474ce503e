"""Helpers shared by the breast, pelvis, knee and shoulder phantoms.

- ``FastCanvas``: the ``phantom.Canvas`` with a cheaper warp and a float32 ellipsoid. The trunk canvases hold
  5-9 million voxels; the base class's cubic ``ndimage.zoom`` warp alone takes ~5 s there, far over the ~3 s
  budget of a build. A separable Gaussian-weighted interpolation of the same coarse noise is just as smooth.
- ``Frame``: a joint's local coordinate system (``u`` lateral, ``y`` posterior, ``z`` superior) mirrored onto the
  imaged side, so the knee and shoulder are drawn once for both sides.
- bone painting (cortical shell + marrow) and lesion measurement from the voxels a lesion actually changed (the
  same tissue may exist elsewhere in the phantom: an effusion and a Baker's cyst are both ``joint_fluid``).
"""

from __future__ import annotations

import numpy as np

from ..phantom import Canvas, rotation
from ..tissues import label_of
from ..types import Lesion

# Soft tissues a lesion or a ligament may displace; bone, air and organs with their own capsule are left alone.
SOFT = ("fat", "muscle", "ligament_fat_pad", "joint_fluid", "lymph_node", "vein", "artery")


class FastCanvas(Canvas):
    """``Canvas`` with a separable smooth warp and a float32 ellipsoid (same shapes, ~5x faster on big grids)."""

    def _make_warp(self, shape: np.ndarray, amp: float, scale: float) -> np.ndarray:
        """[3, X, Y, Z] smooth displacement (mm): coarse noise interpolated with Gaussian tensor-product weights."""
        coarse = np.maximum(2, np.ceil(shape * self.spacing / scale).astype(int) + 1)
        field_ = self._rng.normal(0.0, amp, size=(3, *coarse)).astype(np.float32)
        weights = []
        for n, c in zip(shape, coarse):
            pos = np.linspace(0.0, c - 1.0, int(n))[:, None]  # fine voxel position in coarse-node units
            w = np.exp(-0.5 * ((pos - np.arange(c)[None, :]) / 0.6) ** 2)
            weights.append((w / w.sum(1, keepdims=True)).astype(np.float32))  # [n, c]
        # averaging neighbouring nodes shrinks the amplitude (~3x): restore the requested one
        field_ *= np.float32(1.0 / np.sqrt(np.prod([float(np.mean(np.sum(w**2, 1))) for w in weights])))
        out = np.einsum("dabc,ia->dibc", field_, weights[0])
        out = np.einsum("dibc,jb->dijc", out, weights[1])
        return np.matmul(out, weights[2].T)  # [3, X, Y, Z], the big contraction done by BLAS

    def _block(self, lo: np.ndarray, hi: np.ndarray):
        """As ``Canvas._block`` but in float32 (the base class promotes to float64) and without a meshgrid."""
        i0 = np.clip(np.floor((lo - self.origin) / self.spacing).astype(int) - 1, 0, self.labels.shape)
        i1 = np.clip(np.ceil((hi - self.origin) / self.spacing).astype(int) + 2, 0, self.labels.shape)
        if np.any(i1 <= i0):
            return None, None
        sl = tuple(slice(a, b) for a, b in zip(i0, i1))
        shape = tuple(int(b - a) for a, b in zip(i0, i1))
        axes = [np.float32(self.origin[d]) + np.float32(self.spacing) * np.arange(i0[d], i1[d], dtype=np.float32)
                for d in range(3)]
        grids = [axes[0][:, None, None], axes[1][None, :, None], axes[2][None, None, :]]
        if self._warp is None:
            return sl, tuple(np.broadcast_to(g, shape) for g in grids)
        return sl, tuple(g + self._warp[d][sl] for d, g in enumerate(grids))

    def tube(self, tissue_name, points, radius, restrict=None) -> None:
        """As ``Canvas.tube``, in float32 without stacking the offsets."""
        pts = np.asarray(points, np.float32)
        rad = np.broadcast_to(np.asarray(radius, np.float32), (len(pts),))
        for a, b, ra, rb in zip(pts[:-1], pts[1:], rad[:-1], rad[1:]):
            reach = float(max(ra, rb)) + 2
            sl, xyz = self._block(np.minimum(a, b) - reach, np.maximum(a, b) + reach)
            if sl is None:
                continue
            ab = b - a
            p = [xyz[k] - a[k] for k in range(3)]
            t = np.clip((p[0] * ab[0] + p[1] * ab[1] + p[2] * ab[2]) / np.float32(max(float(ab @ ab), 1e-9)), 0, 1)
            d2 = sum(np.square(p[k] - t * ab[k]) for k in range(3))
            self._paint(tissue_name, sl, d2 <= np.square(ra + t * (rb - ra)), restrict)

    def ellipsoid(self, tissue_name, center, radii, rot=None, restrict=None, power: float = 2.0) -> None:
        """As ``Canvas.ellipsoid``, computed in float32 without stacking the offsets."""
        c, r = np.asarray(center, np.float32), np.asarray(radii, np.float32)
        reach = float(r.max()) * (1.3 if power > 2 else 1.0) + 4
        sl, xyz = self._block(c - reach, c + reach)
        if sl is None:
            return
        d = [xyz[a] - c[a] for a in range(3)]
        if rot is not None:
            m = np.asarray(rot, np.float32)
            d = [d[0] * m[0, b] + d[1] * m[1, b] + d[2] * m[2, b] for b in range(3)]  # d @ rot: into shape frame
        if power == 2.0:
            q = np.square(d[0] / r[0]) + np.square(d[1] / r[1]) + np.square(d[2] / r[2])
        else:
            q = sum(_abs_pow(d[a] / r[a], power) for a in range(3))
        self._paint(tissue_name, sl, q <= 1.0, restrict)

    def layers(self, shells: list[tuple[str, tuple[float, float, float]]], center, rot=None,
               power: float = 2.0) -> None:
        """Paint nested (super)ellipsoids sharing a centre, outermost first: skin, fat, muscle, cavity...

        ``shells`` is a list of (tissue, radii). The powers of the offsets are computed once for all layers,
        which makes a body envelope cost one ellipsoid instead of four.
        """
        c = np.asarray(center, np.float32)
        r_out = np.asarray(shells[0][1], np.float32)
        reach = float(r_out.max()) * (1.3 if power > 2 else 1.0) + 4
        sl, xyz = self._block(c - reach, c + reach)
        if sl is None:
            return
        d = [xyz[a] - c[a] for a in range(3)]
        if rot is not None:
            m = np.asarray(rot, np.float32)
            d = [d[0] * m[0, b] + d[1] * m[1, b] + d[2] * m[2, b] for b in range(3)]
        dp = [_abs_pow(v, power) for v in d]
        for tissue_name, radii in shells:
            r = np.asarray(radii, np.float64)
            q = dp[0] * np.float32(r[0] ** -power) + dp[1] * np.float32(r[1] ** -power) \
                + dp[2] * np.float32(r[2] ** -power)
            self._paint(tissue_name, sl, q <= 1.0, None)


def _abs_pow(v: np.ndarray, power: float) -> np.ndarray:
    """|v| ** power, with multiplications for the powers phantoms use (a float pow is ~10x slower)."""
    a = np.abs(v)
    if power == 3.0:
        return a * a * a
    if power == 2.5:
        return a * a * np.sqrt(a)
    return a**power


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
    mask = (cv.labels != before) & np.isin(cv.labels, [label_of(t) for t in tissues])
    if not mask.any():
        return False
    idx = np.argwhere(mask)
    lo, hi = idx.min(0), idx.max(0)
    centre = cv.origin + (lo + hi) / 2.0 * cv.spacing
    size = (hi - lo + 1) * cv.spacing
    lesion.center_lps = tuple(float(v) for v in centre)
    lesion.size_mm = (float(size[1]), float(size[0]), float(size[2]))  # AP (y) x TR (x) x CC (z)
    return True


def severity_of(size_mm: float, small_below: float, large_from: float) -> str:
    """'small' / 'moderate' / 'large' from a measured dimension."""
    if size_mm < small_below:
        return "small"
    return "large" if size_mm >= large_from else "moderate"

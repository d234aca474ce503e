"""A labelled 3D canvas in patient space, and the shape primitives regions paint with.

A region builds its anatomy by painting shapes in order (later shapes overwrite earlier ones, so skin, then fat,
then muscle, then organs, then lesions). Every shape is evaluated in patient coordinates (LPS mm) on a regular
grid, through a smooth per-patient warp, so that two patients never have exactly the same organ outlines.
``restrict`` limits a shape to voxels that currently hold given tissues (marrow only inside bone, a tumour only
inside soft tissue, ...). Shapes only touch the sub-block of the grid that their bounding box covers, which keeps a
200^3 canvas with a hundred shapes to about a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from .tissues import label_of

Vec = tuple[float, float, float]


def rotation(rx_deg: float = 0.0, ry_deg: float = 0.0, rz_deg: float = 0.0) -> np.ndarray:
    """3x3 rotation matrix from rotations about x, then y, then z (degrees)."""
    ax, ay, az = np.deg2rad([rx_deg, ry_deg, rz_deg])
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return rz @ ry @ rx


@dataclass
class Phantom:
    """The result of a region builder: a label volume on a regular LPS grid plus named landmarks."""

    labels: np.ndarray  # [X, Y, Z] uint8 tissue labels, axis i along +x (left), j along +y (posterior), k along +z
    origin: np.ndarray  # LPS mm of voxel (0, 0, 0)
    spacing: float  # isotropic voxel size mm
    landmarks: dict[str, np.ndarray] = field(default_factory=dict)  # named LPS points (organ centres, sub-sites)
    texture_seed: int = 0  # seed of the per-tissue smooth heterogeneity

    def affine(self) -> np.ndarray:
        """4x4 index (i, j, k) -> LPS mm."""
        a = np.eye(4)
        a[:3, :3] *= self.spacing
        a[:3, 3] = self.origin
        return a

    def extent(self) -> tuple[np.ndarray, np.ndarray]:
        """(min corner, max corner) of the grid in LPS mm."""
        return self.origin, self.origin + (np.asarray(self.labels.shape) - 1) * self.spacing

    def volume_ml(self, tissue_name: str) -> float:
        """Volume of one tissue in millilitres."""
        return float((self.labels == label_of(tissue_name)).sum()) * self.spacing**3 / 1000.0


class Canvas:
    """A painter over a label grid.

    Args:
        lo: LPS mm of the grid's minimum corner.
        hi: LPS mm of the grid's maximum corner.
        spacing: voxel size mm.
        rng: the patient's random generator (drives the warp).
        warp_mm: amplitude of the smooth per-patient deformation (0 disables it).
        warp_scale_mm: correlation length of the deformation.
    """

    def __init__(self, lo: Vec, hi: Vec, spacing: float, rng: np.random.Generator,
                 warp_mm: float = 3.0, warp_scale_mm: float = 60.0):
        self.origin = np.asarray(lo, float)
        self.spacing = float(spacing)
        shape = np.floor((np.asarray(hi, float) - self.origin) / spacing).astype(int) + 1
        self.labels = np.zeros(tuple(shape), np.uint8)
        self.landmarks: dict[str, np.ndarray] = {}
        self._rng = rng
        self._warp = self._make_warp(shape, warp_mm, warp_scale_mm) if warp_mm > 0 else None

    # ---- grid helpers -------------------------------------------------------------------------------------
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
        """Index slices covering the LPS box [lo, hi] (clipped) and its (warped) LPS coordinates, float32, broadcast."""
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

    @staticmethod
    def _local(xyz, c: np.ndarray, rot: np.ndarray | None) -> list[np.ndarray]:
        """Coordinates relative to ``c`` in the shape's own frame (``d @ rot``), component by component."""
        d = [xyz[a] - np.float32(c[a]) for a in range(3)]
        if rot is None:
            return d
        r = np.asarray(rot, np.float32)
        return [d[0] * r[0, a] + d[1] * r[1, a] + d[2] * r[2, a] for a in range(3)]

    def _paint(self, tissue_name: str, sl, mask: np.ndarray, restrict: tuple[str, ...] | None) -> None:
        target = self.labels[sl]
        if restrict is not None:
            allowed = np.isin(target, [label_of(r) for r in restrict])
            mask = mask & allowed
        target[mask] = label_of(tissue_name)

    # ---- primitives ---------------------------------------------------------------------------------------
    def ellipsoid(self, tissue_name, center, radii, rot=None, restrict=None, power: float = 2.0) -> None:
        """Fill an (optionally rotated) ellipsoid; ``power`` > 2 gives a superellipsoid (boxier organ)."""
        c, r = np.asarray(center, np.float32), np.asarray(radii, np.float32)
        reach = float(r.max()) * (1.3 if power > 2 else 1.0) + 4
        sl, xyz = self._block(c - reach, c + reach)
        if sl is None:
            return
        d = self._local(xyz, c, rot)
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
        d = self._local(xyz, c, rot)
        dp = [_abs_pow(v, power) for v in d]
        for tissue_name, radii in shells:
            r = np.asarray(radii, np.float64)
            q = dp[0] * np.float32(r[0] ** -power) + dp[1] * np.float32(r[1] ** -power) \
                + dp[2] * np.float32(r[2] ** -power)
            self._paint(tissue_name, sl, q <= 1.0, None)

    def box(self, tissue_name: str, center: Vec, half: Vec, rot: np.ndarray | None = None,
            restrict: tuple[str, ...] | None = None) -> None:
        """Fill an (optionally rotated) box with half-sizes ``half``."""
        c, h = np.asarray(center, float), np.asarray(half, float)
        reach = np.linalg.norm(h) + 2
        sl, xyz = self._block(c - reach, c + reach)
        if sl is None:
            return
        d = self._local(xyz, c, rot)
        mask = (np.abs(d[0]) <= h[0]) & (np.abs(d[1]) <= h[1]) & (np.abs(d[2]) <= h[2])
        self._paint(tissue_name, sl, mask, restrict)

    def tube(self, tissue_name, points, radius, restrict=None) -> None:
        """Fill a tube of (per-point, linearly interpolated) radius along a polyline: vessels, cord, airway."""
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

    def shell(self, tissue_name: str, center: Vec, radii: Vec, thickness: float, rot: np.ndarray | None = None,
              restrict: tuple[str, ...] | None = None) -> None:
        """Fill the shell between an ellipsoid and the same ellipsoid shrunk by ``thickness`` mm."""
        c, r = np.asarray(center, float), np.asarray(radii, float)
        sl, xyz = self._block(c - r.max() - 4, c + r.max() + 4)
        if sl is None:
            return
        d = self._local(xyz, c, rot)
        outer = sum((d[a] / np.float32(r[a])) ** 2 for a in range(3)) <= 1.0
        ri = np.maximum(r - thickness, 0.5)
        inner = sum((d[a] / np.float32(ri[a])) ** 2 for a in range(3)) <= 1.0
        self._paint(tissue_name, sl, outer & ~inner, restrict)

    def blob(self, tissue_name: str, center: Vec, radius: float, irregularity: float = 0.3,
             restrict: tuple[str, ...] | None = None, elongation: Vec = (1.0, 1.0, 1.0)) -> None:
        """Fill an irregular lobulated mass: a sphere whose radius is modulated by smooth angular noise.

        Used for tumours (``irregularity`` ~0.3-0.5: infiltrative) and benign lesions (~0.05: circumscribed).
        """
        c = np.asarray(center, float)
        e = np.asarray(elongation, float)
        reach = radius * e.max() * (1 + irregularity) + 3
        sl, xyz = self._block(c - reach, c + reach)
        if sl is None:
            return
        d = np.stack([(xyz[a] - c[a]) / e[a] for a in range(3)], axis=-1)
        rr = np.linalg.norm(d, axis=-1) + 1e-6
        u = d / rr[..., None]
        # a few random low-order lobes on the unit sphere
        k = self._rng.normal(size=(5, 3))
        k /= np.linalg.norm(k, axis=1, keepdims=True)
        amp = self._rng.uniform(0.3, 1.0, size=5) * irregularity
        mod = 1.0 + sum(a * np.maximum(u @ kk, 0) ** 2 - a * 0.3 for a, kk in zip(amp, k))
        self._paint(tissue_name, sl, rr <= radius * mod, restrict)

    def dilate_label(self, tissue_name: str, around: str, mm: float, restrict: tuple[str, ...] | None = None) -> None:
        """Paint ``tissue_name`` in a rim of ``mm`` around every voxel of ``around`` (oedema, capsule, fat rim)."""
        src = self.labels == label_of(around)
        if not src.any():
            return
        it = max(1, int(round(mm / self.spacing)))
        rim = ndimage.binary_dilation(src, iterations=it) & ~src
        full = tuple(slice(0, s) for s in self.labels.shape)
        self._paint(tissue_name, full, rim, restrict)

    def mark(self, name: str, point: Vec) -> None:
        """Record a named landmark (LPS mm) for lesion placement and reports."""
        self.landmarks[name] = np.asarray(point, float)

    def finish(self, texture_seed: int) -> Phantom:
        """Freeze the canvas into a ``Phantom``."""
        return Phantom(self.labels, self.origin.copy(), self.spacing, dict(self.landmarks), texture_seed)

    def lesion_extent(self, tissue_names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray] | None:
        """(centre LPS, size mm along x, y, z) of all voxels holding the given tissues, or None if absent.

        Regions call this after painting a lesion so that the size a report quotes is the size in the image.
        """
        return self.mask_extent(np.isin(self.labels, [label_of(n) for n in tissue_names]))

    def mask_extent(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(centre LPS, size mm along x, y, z) of the bounding box of a voxel mask, or None if it is empty."""
        if not mask.any():
            return None
        idx = np.argwhere(mask)
        lo, hi = idx.min(0), idx.max(0)
        return self.origin + (lo + hi) / 2.0 * self.spacing, (hi - lo + 1) * self.spacing

def _abs_pow(v: np.ndarray, power: float) -> np.ndarray:
    """|v| ** power, with multiplications for the powers phantoms use (a float pow is ~10x slower)."""
    a = np.abs(v)
    if power == 3.0:
        return a * a * a
    if power == 2.5:
        return a * a * np.sqrt(a)
    return a**power

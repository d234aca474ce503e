"""Shared head-and-neck anatomy: one continuous head, face, neck and thoracic inlet for brain and head_neck.

Both regions paint the same body in a common *head frame* (LPS mm): x = 0 is the midsagittal plane, z = 0 the
level of the hard palate, y = 0 roughly the posterior pharyngeal wall. A brain study opens a canvas window on the
cranium (and still shows the face and upper neck at its bottom), a neck study one from the orbits to the thoracic
inlet (and still shows the lower brain at its top). Reference positions and sizes are those of an average adult
(Gray's Anatomy; Som & Curtin, Head and Neck Imaging; radiology normal values) [R], scaled per patient.

``_head_neck_anatomy.paint_head_and_neck`` is the one entry point for the normal anatomy: ``_cranium`` paints the
outline, skull and brain, ``_head_neck_anatomy`` the face and neck; this module holds the frame and the helpers
both use. The region modules paint their findings on top and use
``snapshot``/``changed_extent`` to measure each lesion on its own voxels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..physics.phantom import Canvas
from ..physics.tissues import label_of
from ..types import Lesion, Patient

BRAIN = ("csf", "grey_matter", "white_matter")  # tissues of the cranial cavity (restrict targets)
SOFT = ("muscle", "fat")  # plain neck soft tissue a node or compartment may replace

# Vertebral body centres (head frame z, mm): C2 body then C3..T4 every 19 mm (13-14 mm body + 5-6 mm disc [R]).
VERT_Z = {"C2": -22.0, **{n: -43.0 - 19.0 * k for k, n in enumerate(("C3", "C4", "C5", "C6", "C7", "T1", "T2",
                                                                       "T3", "T4"))}}

# Cervical node stations, left side (x > 0), head frame [R: Som 1999 imaging-based level classification].
NODE_LEVELS: dict[str, tuple[float, float, float]] = {
    "Ib": (20, -48, -50), "IIa": (30, -14, -40), "IIb": (40, 12, -28), "III": (33, -12, -75),
    "IV": (32, -10, -125), "V": (48, 22, -85), "VI": (8, -34, -130), "retropharyngeal": (14, -1, 5),
}


@dataclass
class HeadShape:
    """Per-patient variation of the head-and-neck anatomy (drawn once from the patient's rng)."""

    s: np.ndarray  # (sx, sy, sz) linear scale of the reference anatomy
    fat_mm: float  # subcutaneous fat of face and neck
    marrow: str  # calvarial/mandibular marrow: red in the young, yellow in adults
    ventricle: float  # lateral/third ventricle size factor (grows with age: atrophy)
    sulcal_mm: float  # subarachnoid CSF thickness over the convexity
    tonsil: float  # palatine tonsil size factor (involutes with age)
    adenoid: float  # adenoid size factor (small in adults)
    gland: float  # salivary gland size factor
    thyroid: float  # thyroid lobe size factor
    neck: float  # neck length factor (z below the hard palate)
    midline_shift: float = 0.0  # mm, signed x: subfalcine shift of the deep midline (brain mass effect)

    def p(self, x: float, y: float, z: float) -> tuple[float, float, float]:
        """Reference point -> this patient's LPS mm."""
        zs = z * self.s[2] * (self.neck if z < 0 else 1.0)
        return (x * self.s[0], y * self.s[1], zs)

    def r(self, a: float, b: float, c: float) -> tuple[float, float, float]:
        """Reference radii -> this patient's radii."""
        return (a * self.s[0], b * self.s[1], c * self.s[2])

    def t(self, radius: float) -> float:
        """Reference tube radius -> this patient's."""
        return float(radius * self.s.mean())


def draw_head_shape(patient: Patient, rng: np.random.Generator) -> HeadShape:
    """Draw this patient's head-and-neck habitus.

    Head size varies less than body size (adult head breadth CV ~4%), so ``size_scale`` is damped for the head;
    women's heads are ~4% smaller [R]. Fat follows BMI; atrophy and lymphoid involution follow age.
    """
    if patient.height_m <= 0:
        raise ValueError(f"patient height must be positive, got {patient.height_m} m")
    base = 1.0 + 0.4 * (patient.size_scale - 1.0) - (0.04 if patient.sex == "F" else 0.0)
    s = base * (1.0 + rng.normal(0.0, 0.025, 3))
    bmi = patient.weight_kg / patient.height_m**2
    age = patient.age
    return HeadShape(
        s=s, fat_mm=float(np.clip(3.0 + 0.6 * (bmi - 18.0) + rng.normal(0, 1.0), 2.5, 16.0)),
        marrow="marrow_red" if age < 25 else "marrow_yellow",
        ventricle=float(np.clip(0.85 + 0.012 * max(0, age - 35) + rng.normal(0, 0.08), 0.75, 1.7)),
        sulcal_mm=float(np.clip(2.0 + 0.04 * max(0, age - 35) + rng.normal(0, 0.4), 1.5, 5.5)),
        tonsil=float(np.clip(1.25 - 0.008 * age + rng.normal(0, 0.12), 0.6, 1.4)),
        adenoid=float(np.clip(1.3 - 0.02 * age, 0.35, 1.0)),
        gland=float(np.clip(rng.normal(1.0, 0.1), 0.75, 1.3)),
        thyroid=float(np.clip(rng.normal(1.0, 0.12), 0.7, 1.4)),
        neck=float(np.clip(rng.normal(1.0, 0.04), 0.9, 1.1)),
    )


# ---- painting helpers ---------------------------------------------------------------------------------------
# Canvas has no lofted-section or multi-layer primitive; these use its block/paint internals so a neck outline
# (one elliptic section per height) and the nested scalp/skull/CSF layers cost one grid evaluation each.

def loft(cv: Canvas, sections, layers) -> None:
    """Paint elliptic sections interpolated along z: ``sections`` [(z, cx, cy, rx, ry)], ``layers``
    [(tissue, inset_mm, restrict)] painted outermost first (skin, fat, muscle...)."""
    sec = np.asarray(sorted(sections), float)
    lo = (np.min(sec[:, 1] - sec[:, 3]), np.min(sec[:, 2] - sec[:, 4]), sec[0, 0])
    hi = (np.max(sec[:, 1] + sec[:, 3]), np.max(sec[:, 2] + sec[:, 4]), sec[-1, 0])
    sl, xyz = cv._block(np.asarray(lo), np.asarray(hi))
    if sl is None:
        return
    zax = cv.origin[2] + cv.spacing * np.arange(sl[2].start, sl[2].stop)
    cx, cy, rx, ry = (np.interp(zax, sec[:, 0], sec[:, k])[None, None, :] for k in (1, 2, 3, 4))
    inz = ((zax >= sec[0, 0]) & (zax <= sec[-1, 0]))[None, None, :]
    dx, dy = xyz[0] - cx, xyz[1] - cy
    for tissue, inset, restrict in layers:
        m = (dx / np.maximum(rx - inset, 0.5)) ** 2 + (dy / np.maximum(ry - inset, 0.5)) ** 2 <= 1.0
        cv._paint(tissue, sl, m & inz, restrict)


def ellipsoid_layers(cv: Canvas, shapes, layers) -> None:
    """Paint nested ellipsoid layers over several shapes, layer by layer so that unions nest correctly.

    ``shapes`` [(centre, radii)], ``layers`` [(tissue, offset_mm added to the radii, restrict)].
    """
    grow = max(off for _, off, _ in layers)
    blocks = []
    for c, r in shapes:
        c, r = np.asarray(c, float), np.asarray(r, float)
        sl, xyz = cv._block(c - r - grow - 2, c + r + grow + 2)
        if sl is not None:
            blocks.append((sl, [(xyz[a] - c[a]) ** 2 for a in range(3)], r))
    for tissue, off, restrict in layers:
        for sl, d2, r in blocks:
            m = d2[0] / (r[0] + off) ** 2 + d2[1] / (r[1] + off) ** 2 + d2[2] / (r[2] + off) ** 2 <= 1.0
            cv._paint(tissue, sl, m, restrict)


def ellipsoid_mask(cv: Canvas, center, radii) -> np.ndarray:
    """Full-canvas boolean mask of an ellipsoid, through the same warp as the anatomy (zone tests)."""
    out = np.zeros(cv.labels.shape, bool)
    c, r = np.asarray(center, float), np.asarray(radii, float)
    sl, xyz = cv._block(c - r, c + r)
    if sl is not None:
        out[sl] = sum(((xyz[a] - c[a]) / r[a]) ** 2 for a in range(3)) <= 1.0
    return out


def snapshot(cv: Canvas, center, reach: float):
    """(slices, copy of the labels there) of the box of half-size ``reach`` mm around ``center``: the "before" a
    lesion is painted, kept small so that measuring one lesion among many costs little."""
    c = np.asarray(center, float)
    i0 = np.clip(np.floor((c - reach - cv.origin) / cv.spacing).astype(int), 0, cv.labels.shape)
    i1 = np.clip(np.ceil((c + reach - cv.origin) / cv.spacing).astype(int) + 1, 0, cv.labels.shape)
    sl = tuple(slice(a, b) for a, b in zip(i0, i1))
    return sl, cv.labels[sl].copy()


def changed_extent(cv: Canvas, snap, tissues: tuple[str, ...]):
    """(full-grid mask, bounding-box centre LPS, size mm along x, y, z) of voxels newly painted with ``tissues``
    since ``snap`` was taken.

    Like ``Canvas.lesion_extent`` but blind to the same tissue elsewhere (a second metastasis, a nodal necrosis),
    so each lesion's reported size is the size of that lesion alone. None when nothing was painted.
    """
    sl, before = snap
    now = cv.labels[sl]
    local = (now != before) & np.isin(now, [label_of(t) for t in tissues])
    if not local.any():
        return None
    mask = np.zeros(cv.labels.shape, bool)
    mask[sl] = local
    idx = np.argwhere(local)
    lo = idx.min(0) + [s.start for s in sl]
    hi = idx.max(0) + [s.start for s in sl]
    return mask, cv.origin + (lo + hi) / 2.0 * cv.spacing, (hi - lo + 1) * cv.spacing


def side_x(cv: Canvas, mask: np.ndarray) -> float:
    """LPS x of the centroid of a lesion mask: where most of it lies (laterality of small near-midline lesions)."""
    return float(cv.origin[0] + cv.spacing * np.nonzero(mask)[0].mean())


def set_geometry(lesion: Lesion, centre: np.ndarray, size_xyz: np.ndarray) -> None:
    """Fill centre and AP x TR x CC size exactly as ``base.measure_lesion`` does."""
    lesion.center_lps = tuple(float(v) for v in centre)
    lesion.size_mm = (float(size_xyz[1]), float(size_xyz[0]), float(size_xyz[2]))

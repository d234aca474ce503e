"""Shared builders of the trunk regions (spine, chest, abdomen): body habitus, the body wall, the vertebral column.

The three trunk regions paint one continuous torso in a common *trunk frame* (LPS mm): x = 0 is the midline,
y = 0 the centre of the torso's AP extent, z = 0 the top of the T1 vertebral body (so everything below T1 is
negative z). Each region then opens a different canvas window on that torso, so a lumbar spine study shows the same
kidneys and aorta an abdomen study would. ``_torso.paint_trunk`` is the one entry point; ``_thorax`` and ``_viscera``
contribute the thoracic and abdominal organs.

Reference sizes are adult averages (Gray's Anatomy / radiology normal values, [R]) scaled by ``patient.size_scale``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import catalog
from ..physics.phantom import Canvas, rotation
from ..physics.tissues import label_of
from ..types import Lesion, Patient
from .base import set_geometry

# Vertebral dimensions, reference adult [R: Panjabi 1991/1992 morphometry, rounded]:
# name -> (body height, disc height below, body width TR, body depth AP) mm
LEVEL_DIMS: dict[str, tuple[float, float, float, float]] = {
    "C2": (22, 5, 18, 15), "C3": (13, 5, 19, 15), "C4": (13, 5.5, 20, 16), "C5": (13, 5.5, 21, 16),
    "C6": (13, 5.5, 23, 17), "C7": (14, 5, 26, 17),
    "T1": (16, 4, 28, 18), "T2": (17, 4, 28, 19), "T3": (17.5, 4, 28, 20), "T4": (18, 4.5, 28, 22),
    "T5": (18.5, 4.5, 29, 24), "T6": (19, 5, 30, 26), "T7": (19.5, 5, 31, 27), "T8": (20, 5, 32, 28),
    "T9": (21, 5.5, 34, 29), "T10": (22, 6, 36, 30), "T11": (23, 7, 38, 31), "T12": (24, 8, 41, 32),
    "L1": (25, 9, 43, 33), "L2": (26, 10, 45, 34), "L3": (27, 11, 47, 35), "L4": (27, 11.5, 49, 35),
    "L5": (26, 11, 50, 35), "S1": (24, 0, 48, 32),
}
TRUNK_LEVELS = tuple(n for n in LEVEL_DIMS if not n.startswith("C"))


def bmi(patient: Patient) -> float:
    """Body-mass index kg/m^2 (drives fat thickness and girth)."""
    if patient.height_m <= 0:
        raise ValueError(f"patient height must be positive, got {patient.height_m} m")
    return patient.weight_kg / patient.height_m**2


@dataclass
class Body:
    """Per-patient habitus shared by the trunk builders (drawn once from the patient's rng)."""

    scale: float  # linear scale of skeleton and organs
    sc_fat: float  # subcutaneous fat thickness mm
    visceral: float  # visceral fat factor 0 (lean) .. 1 (obese): organ spacing and girth
    kyphosis: float  # mm of thoracic posterior bulge
    lordosis: float  # mm of lumbar anterior bulge
    sex: str
    age: int
    jitter: dict[str, np.ndarray] = field(default_factory=dict)  # per-organ position offsets mm
    levels: dict[str, "Level"] = field(default_factory=dict)  # filled by paint_trunk
    geo: dict = field(default_factory=dict)  # organ geometry handed to the lesion painters (heart frame, ...)
    _rng: np.random.Generator | None = field(default=None, repr=False)

    def j(self, name: str, sd: float = 6.0) -> np.ndarray:
        """Stable random offset of a named structure (drawn lazily, so order of first use fixes it)."""
        if name not in self.jitter:
            self.jitter[name] = self._rng.normal(0.0, sd, 3)
        return self.jitter[name]

    def spine_y(self, z: float | np.ndarray) -> float | np.ndarray:
        """AP position of the vertebral-body centre line at height z (kyphosis, lordosis, sacral tilt)."""
        s = self.scale
        z = np.asarray(z, float) / s
        y = 18 + self.kyphosis * np.exp(-((z + 150) / 120) ** 2) - self.lordosis * np.exp(-((z + 420) / 70) ** 2)
        y = y + np.where(z < -500, 0.9 * (-500 - z), 0.0)  # the sacrum tilts backwards
        return y * s


def draw_body(patient: Patient, rng: np.random.Generator) -> Body:
    """Draw the habitus of a patient: fat from BMI and sex, spinal curves, organ jitter."""
    b = bmi(patient)
    sc = np.clip(4.0 + 1.4 * (b - 18.0) + (5.0 if patient.sex == "F" else 0.0) + rng.normal(0, 3), 4.0, 50.0)
    body = Body(scale=float(patient.size_scale), sc_fat=float(sc), visceral=float(np.clip((b - 20) / 15, 0, 1)),
                kyphosis=float(rng.uniform(8, 18)), lordosis=float(rng.uniform(8, 20)), sex=patient.sex,
                age=int(patient.age), _rng=rng)
    return body


# ---- generic painting helpers --------------------------------------------------------------------------------
def paint_prism(canvas: Canvas, tissue_name: str, keys: np.ndarray, grow: float = 0.0, power: float = 2.0,
                restrict: tuple[str, ...] | None = None, bounded: bool = False) -> None:
    """Fill a body outline (or organ) whose elliptical cross-section varies along z.

    Args:
        canvas: the canvas.
        tissue_name: tissue to paint.
        keys: [K, 4] rows (z, half-width x, half-depth y, centre y) mm, z increasing; an optional 5th column is the
            centre x (default 0).
        grow: mm added to both half axes (negative shrinks: nested layers skin/fat/muscle).
        power: superellipse exponent of the cross-section (2 = ellipse, larger = boxier).
        restrict: only overwrite these tissues.
        bounded: paint only between the first and last key's z (else the end sections extend to the canvas edge).

    A separable (x, y, z) evaluation rather than ``Canvas.ellipsoid`` because a torso is not an ellipsoid and this
    is ~20x faster on a full canvas; the smooth warp is not applied (it is negligible against a 300 mm outline).
    """
    keys = np.asarray(keys, float)
    keys = keys[np.argsort(keys[:, 0])]
    shape = canvas.labels.shape
    z = canvas.origin[2] + canvas.spacing * np.arange(shape[2])
    k0, k1 = 0, shape[2]
    if bounded:
        k0, k1 = np.searchsorted(z, keys[0, 0]), np.searchsorted(z, keys[-1, 0], side="right")
        if k1 <= k0:
            return
    z = z[k0:k1]
    x = (canvas.origin[0] + canvas.spacing * np.arange(shape[0]))[:, None, None]
    y = (canvas.origin[1] + canvas.spacing * np.arange(shape[1]))[None, :, None]
    a = np.maximum(np.interp(z, keys[:, 0], keys[:, 1]) + grow, 1.0)[None, None, :]
    b = np.maximum(np.interp(z, keys[:, 0], keys[:, 2]) + grow, 1.0)[None, None, :]
    yc = np.interp(z, keys[:, 0], keys[:, 3])[None, None, :]
    xc = np.interp(z, keys[:, 0], keys[:, 4])[None, None, :] if keys.shape[1] > 4 else 0.0
    u, v = ((x - xc) / a).astype(np.float32), ((y - yc) / b).astype(np.float32)
    q = u * u + v * v if power == 2.0 else np.abs(u) ** power + np.abs(v) ** power
    mask = q <= 1.0
    target = canvas.labels[:, :, k0:k1]
    if restrict is not None:
        mask &= np.isin(target, [label_of(r) for r in restrict])
    target[mask] = label_of(tissue_name)


def axis_ellipsoid(canvas: Canvas, tissue_name: str, center, radii, restrict: tuple[str, ...] | None = None) -> None:
    """Axis-aligned ellipsoid evaluated separably (no warp): for the large smooth shapes (domes, mediastinum)."""
    c, r = np.asarray(center, float), np.asarray(radii, float)
    i0 = np.clip(np.floor((c - r - canvas.origin) / canvas.spacing).astype(int), 0, canvas.labels.shape)
    i1 = np.clip(np.ceil((c + r - canvas.origin) / canvas.spacing).astype(int) + 1, 0, canvas.labels.shape)
    if np.any(i1 <= i0):
        return
    ax = [((canvas.origin[d] + canvas.spacing * np.arange(i0[d], i1[d]) - c[d]) / r[d]) ** 2 for d in range(3)]
    mask = ax[0][:, None, None] + ax[1][None, :, None] + ax[2][None, None, :] <= 1.0
    target = canvas.labels[i0[0]:i1[0], i0[1]:i1[1], i0[2]:i1[2]]
    if restrict is not None:
        mask &= np.isin(target, [label_of(t) for t in restrict])
    target[mask] = label_of(tissue_name)


def frame(axis: np.ndarray, hint: np.ndarray) -> np.ndarray:
    """Rotation whose third column is ``axis`` and first column lies towards ``hint`` (shape frame for Canvas)."""
    e3 = np.asarray(axis, float) / np.linalg.norm(axis)
    e1 = np.asarray(hint, float) - np.dot(hint, e3) * e3
    e1 /= np.linalg.norm(e1)
    return np.stack([e1, np.cross(e3, e1), e3], axis=1)


def measure_changed(canvas: Canvas, lesion: Lesion, before: np.ndarray, tissue_names: tuple[str, ...]) -> bool:
    """Fill ``center_lps``/``size_mm`` (AP x TR x CC) from voxels that now hold the lesion's tissues but did not.

    Unlike ``base.measure_lesion`` this measures one lesion even when another lesion (or normal anatomy, e.g.
    marrow_yellow of a haemangioma) uses the same tissue. Returns False when nothing was painted.
    """
    return set_geometry(canvas, lesion, np.isin(canvas.labels, [label_of(n) for n in tissue_names])
                        & (canvas.labels != before))


def draw_site_in(kind: str, allowed: tuple[str, ...], rng: np.random.Generator) -> str:
    """``catalog.draw_site`` restricted to the sites a subregion can show (catalog weights renormalised)."""
    if not any(s in allowed for s in catalog.KINDS[kind].sites):
        raise ValueError(f"no site of {kind!r} among {allowed}")
    for _ in range(200):
        site = catalog.draw_site(kind, rng)
        if site in allowed:
            return site
    return next(s for s in catalog.KINDS[kind].sites if s in allowed)


# ---- vertebral column ----------------------------------------------------------------------------------------
@dataclass
class Level:
    """One painted vertebra: centre of its body, its frame and dimensions (mm)."""

    name: str
    center: np.ndarray
    rot: np.ndarray  # columns: body's x (TR), y (AP), z (axial) axes in LPS
    height: float
    disc: float  # height of the disc below
    width: float
    depth: float
    canal_r: float  # thecal-sac radius behind this body

    def point(self, dx: float, dy: float, dz: float) -> np.ndarray:
        """LPS point at offsets (TR, AP, CC) in the vertebra's own frame."""
        return self.center + self.rot @ np.array([dx, dy, dz])

    def disc_center(self) -> np.ndarray:
        return self.point(0, 0, -(self.height + self.disc) / 2)


def layout_column(body: Body, names: tuple[str, ...], z_top: float, y_of_z,
                  disc_scale: dict[str, float] | None = None) -> dict[str, Level]:
    """Stack vertebral bodies and discs downward from ``z_top`` along the curve ``y_of_z`` (no painting)."""
    s = body.scale
    disc_scale = disc_scale or {}
    out: dict[str, Level] = {}
    z = z_top
    for n in names:
        h, dh, w, d = (v * s for v in LEVEL_DIMS[n])
        dh *= disc_scale.get(n, 1.0)
        zc = z - h / 2
        slope = (y_of_z(zc + 5) - y_of_z(zc - 5)) / 10.0
        rot = rotation(rx_deg=-np.rad2deg(np.arctan(slope)))
        canal = (7.5 if n.startswith("C") else 6.5 if n.startswith("T") else 8.0) * s
        out[n] = Level(n, np.array([0.0, float(y_of_z(zc)), zc]), rot, h, dh, w, d, canal)
        z = z - h - dh
    return out


def paint_column(canvas: Canvas, body: Body, levels: dict[str, Level], cord_end: str | None,
                 degenerate: dict[str, float] | None = None) -> None:
    """Paint vertebral bodies, discs, posterior elements, canal, cord and cauda equina.

    Args:
        canvas: the canvas.
        body: habitus (age drives marrow fat and disc desiccation).
        levels: from ``layout_column``, top to bottom.
        cord_end: level whose lower endplate the conus reaches (None: cord runs through the whole column).
        degenerate: level above a degenerated disc -> remaining nucleus fraction (desiccated nucleus).
    """
    rng = body._rng
    degenerate = degenerate or {}
    names = list(levels)
    cort = max(1.5, canvas.spacing)
    nucleus_f = float(np.clip(1.15 - 0.006 * body.age, 0.6, 1.0))  # nucleus dries and shrinks with age [R]
    for n in names:
        lv = levels[n]
        r = (lv.width / 2, lv.depth / 2, lv.height / 2)
        canvas.ellipsoid("cortical_bone", lv.center, r, rot=lv.rot, power=3.0)
        canvas.ellipsoid("marrow_red", lv.center, tuple(v - cort for v in r), rot=lv.rot, power=3.0,
                         restrict=("cortical_bone",))
        # fatty islands multiply with age (red -> yellow conversion) [R]
        for _ in range(rng.poisson(body.age / 20.0)):
            off = rng.uniform(-0.5, 0.5, 3) * np.array(r)
            canvas.blob("marrow_yellow", lv.point(*off), rng.uniform(2, 5) * body.scale, 0.3,
                        restrict=("marrow_red",))
        if lv.disc > 0 and n != names[-1]:
            c = lv.disc_center()
            canvas.ellipsoid("disc_annulus", c, (lv.width / 2 * 0.97, lv.depth / 2 * 0.97, lv.disc / 2 + 0.8),
                             rot=lv.rot, power=2.5, restrict=("background", "fat", "muscle", "cortical_bone"))
            f = nucleus_f * degenerate.get(n, 1.0)
            canvas.ellipsoid("disc_nucleus", c + lv.rot @ np.array([0, 2.0 * body.scale, 0]),
                             (lv.width * 0.27 * f, lv.depth * 0.25 * f, max(lv.disc * 0.32 * f, 1.0)), rot=lv.rot,
                             restrict=("disc_annulus",))
    _posterior_elements(canvas, body, levels)
    _canal(canvas, body, levels, cord_end)


def _posterior_elements(canvas: Canvas, body: Body, levels: dict[str, Level]) -> None:
    """Pedicles, laminae, spinous and transverse processes and facet columns of each vertebra."""
    for n, lv in levels.items():
        if n == "S1":
            continue
        s = body.scale
        cerv, thor = n.startswith("C"), n.startswith("T")
        rp = (2.5 if cerv else 3.5 if thor else 4.5) * s
        back = lv.depth / 2
        cw = lv.canal_r + 3 * s  # half width of the bony canal
        cd = 2 * lv.canal_r + 2 * s
        sp_len = (18 if cerv else 35 if thor else 30) * s
        droop = (8 if cerv else 25 if thor else 6) * s
        tp = (8 if cerv else 18 if thor else 22) * s
        for sx in (-1, 1):
            ped0, ped1 = lv.point(sx * lv.width * 0.3, back - 2, lv.height * 0.1), lv.point(sx * cw, back + cd * 0.55,
                                                                                        lv.height * 0.1)
            lam = lv.point(0, back + cd + 2 * s, -lv.height * 0.05)
            for tissue, rr in (("cortical_bone", rp), ("marrow_red", rp - 1.6)):
                res = ("cortical_bone",) if tissue == "marrow_red" else None
                canvas.tube(tissue, [ped0, ped1, lam], rr, restrict=res)
                canvas.tube(tissue, [ped1, lv.point(sx * (cw + tp), back + cd * 0.5 + (0 if thor else -4 * s),
                                                    lv.height * 0.05)], rr * 0.8, restrict=res)
            canvas.ellipsoid("cortical_bone", lv.point(sx * (cw + 2 * s), back + cd * 0.75, -lv.height * 0.45),
                             (5 * s, 6 * s, 7 * s), rot=lv.rot)
        tip = lv.point(0, back + cd + sp_len, -lv.height * 0.2 - droop)
        canvas.tube("cortical_bone", [lv.point(0, back + cd, 0), tip], [rp, rp * 0.8])
        canvas.tube("marrow_red", [lv.point(0, back + cd, 0), tip], rp * 0.8 - 1.5, restrict=("cortical_bone",))


def _canal(canvas: Canvas, body: Body, levels: dict[str, Level], cord_end: str | None) -> None:
    """Epidural fat, thecal sac (CSF), cord to the conus, and the cauda equina below it."""
    s = body.scale
    names = list(levels)
    pts, radii = [], []
    for n in names:
        lv = levels[n]
        for dz in (lv.height / 2 + lv.disc / 2, 0.0):
            pts.append(lv.point(0, lv.depth / 2 + lv.canal_r + 1.2 * s, dz))
            radii.append(lv.canal_r)
    last = levels[names[-1]]
    pts.append(last.point(0, last.depth / 2 + last.canal_r, -last.height * 1.5))
    radii.append(last.canal_r * 0.6)
    pts, radii = np.array(pts), np.array(radii)
    canvas.tube("ligament_fat_pad", pts, radii + 1.8 * s)
    sac_end = len(pts) - 1 if names[-1] != "S1" else len(pts) - 2  # thecal sac ends near S2
    canvas.tube("csf", pts[:sac_end], radii[:sac_end])
    if cord_end is None or cord_end not in levels:
        end = len(pts)
        conus = None
    else:
        end = 2 * names.index(cord_end) + 2
        ce = levels[cord_end]
        conus = ce.point(0, ce.depth / 2 + ce.canal_r, -ce.height / 2)
    cr = np.array([(5.0 if names[min(i // 2, len(names) - 1)].startswith("C") else 4.2) * s for i in range(end)])
    cord_pts = pts[:end] + np.array([0, -0.5 * s, 0])  # cord lies slightly anterior in the sac
    if conus is not None:
        cord_pts = np.vstack([cord_pts, conus])
        cr = np.append(cr, 1.0)
        cr[-3:-1] *= (0.8, 0.55)
        # cauda equina: roots hang dorsally in the sac of a supine patient [R]
        for k, dx in enumerate((-4.5, -1.5, 1.5, 4.5)):
            root = pts[end - 1:sac_end] + np.array([dx * s, 3.5 * s, 0])
            canvas.tube("spinal_cord", np.vstack([conus, root]), 1.1 * s, restrict=("csf",))
    canvas.tube("spinal_cord", cord_pts, cr, restrict=("csf", "ligament_fat_pad"))


# ---- torso ---------------------------------------------------------------------------------------------------
# Lean (outer surface of the muscle wall) outline of a reference adult in the trunk frame:
# rows (z, half-width, half-depth, centre y) mm: pelvis, waist, lower/upper thorax, shoulders, neck [R].
_LEAN_KEYS = np.array([(-760, 160, 98, 8), (-600, 158, 98, 8), (-470, 146, 94, 6), (-400, 136, 94, 2),
                       (-300, 142, 100, 2), (-180, 148, 100, 2), (-60, 150, 92, 4), (0, 140, 84, 8),
                       (25, 62, 56, 20), (200, 58, 56, 20)], float)
WALL_MM = 13.0  # chest/abdominal wall muscle (+ ribs) thickness [R]
MAX_VOXELS = 220  # longest canvas axis (keeps a build to ~2-3 s on one core)


def lean_keys(body: Body) -> np.ndarray:
    """Lean outline scaled to the patient; the abdomen widens with visceral fat."""
    k = _LEAN_KEYS.copy()
    k[:, 0] *= body.scale
    k[:, 1:] *= body.scale
    belly = np.clip((-k[:, 0] - 250 * body.scale) / (150 * body.scale), 0, 1) * 0.18 * body.visceral
    k[:, 1] *= 1 + belly
    k[:, 2] *= 1 + 1.4 * belly
    return k


def body_half_extent(body: Body) -> tuple[float, float, float, float]:
    """(max half-width, min y, max y) of the skin outline over the trunk frame, and the skin thickness margin."""
    k = lean_keys(body)
    g = body.sc_fat + 2.0
    breasts = 80.0 * body.scale if body.sex == "F" else 0.0  # supine breasts rise in front of the chest wall
    return (float(k[:, 1].max() + g), float((k[:, 3] - k[:, 2]).min() - g - breasts),
            float((k[:, 3] + k[:, 2]).max() + g), g)


def paint_wall(canvas: Canvas, body: Body) -> None:
    """Skin, subcutaneous fat, the muscle wall and the (fat-filled) body cavity."""
    k = lean_keys(body)
    paint_prism(canvas, "skin", k, grow=body.sc_fat + 2.0)
    paint_prism(canvas, "fat", k, grow=body.sc_fat)
    paint_prism(canvas, "muscle", k)
    paint_prism(canvas, "fat", cavity_keys(body))


# Half-width cap of the thoracic cavity near the inlet (the first ribs ring a ~110 mm wide inlet) [R]
_INLET_CAP = np.array([(-90, 130), (-30, 98), (0, 62), (12, 20), (200, 1)], float)


def cavity_keys(body: Body) -> np.ndarray:
    """Outline of the body cavity (inner surface of the wall: ribs, intercostals, abdominal muscles)."""
    cav = lean_keys(body)
    cav[:, 1:3] -= WALL_MM * body.scale
    cav[:, 3] -= 4 * body.scale  # thicker posterior wall (ribs + back muscles)
    zs = np.union1d(cav[:, 0], _INLET_CAP[:, 0] * body.scale)
    out = np.stack([zs] + [np.interp(zs, cav[:, 0], cav[:, c]) for c in (1, 2, 3)], axis=1)
    cap = np.interp(zs, _INLET_CAP[:, 0] * body.scale, _INLET_CAP[:, 1] * body.scale, left=1e9)
    out[:, 1] = np.minimum(out[:, 1], cap)
    out[:, 2] = np.where(zs > 12 * body.scale, 1.0, out[:, 2])
    return out


def paint_back(canvas: Canvas, body: Body, levels: dict[str, Level]) -> None:
    """Paraspinal muscles along the whole column, psoas and quadratus lumborum, and the iliac wings."""
    s = body.scale
    names = list(levels)
    for sx in (-1, 1):
        es, mf = [], []
        for n in names:
            lv = levels[n]
            big = 1.0 if n.startswith("L") else 0.75 if n.startswith("T") else 0.6
            es.append((lv.point(sx * 36 * s * big, lv.depth / 2 + 2 * lv.canal_r + 22 * s, 0), 22 * s * big))
            mf.append((lv.point(sx * 15 * s, lv.depth / 2 + 2 * lv.canal_r + 20 * s, 0), 12 * s * big))
        for chain in (es, mf):
            canvas.tube("muscle", [p for p, _ in chain], [r for _, r in chain])
        if "L1" in levels and "L5" in levels:
            l1, l3, l5 = levels["L1"], levels["L3"], levels["L5"]
            canvas.tube("muscle", [l1.point(sx * 22 * s, 2 * s, 0), l3.point(sx * 32 * s, -2 * s, 0),
                                   l5.point(sx * 45 * s, -10 * s, 0), l5.point(sx * 65 * s, -38 * s, -90 * s)],
                        [8 * s, 13 * s, 18 * s, 18 * s])  # psoas, widening caudally [R]
            canvas.tube("muscle", [l1.point(sx * 55 * s, 40 * s, 0), l5.point(sx * 62 * s, 40 * s, 0)],
                        [7 * s, 11 * s])  # quadratus lumborum, behind the kidney
            # iliac wing: flared plate lateral to the sacrum, crest at ~L4; gluteus medius behind it
            c = l5.point(sx * 90 * s, 20 * s, -45 * s)
            rot = rotation(ry_deg=sx * 25, rz_deg=sx * 30)  # wings run forward-outward and flare up
            canvas.ellipsoid("muscle", c + np.array([sx * 22 * s, 12 * s, -10 * s]), (26 * s, 60 * s, 55 * s),
                             rot=rot, restrict=("fat", "muscle"))
            canvas.ellipsoid("cortical_bone", c, (9 * s, 62 * s, 58 * s), rot=rot)
            canvas.ellipsoid("marrow_red", c, (6 * s, 59 * s, 55 * s), rot=rot, restrict=("cortical_bone",))
    if "S1" in levels:  # sacral segments curving backwards below S1
        s1 = levels["S1"]
        for i, f in enumerate((0.85, 0.7, 0.55, 0.4)):
            zc = s1.center[2] - (i + 1) * 24 * s
            c = np.array([0.0, float(body.spine_y(zc)) + 6 * s, zc])
            r = (s1.width / 2 * f * 1.8, s1.depth / 2 * 0.8, 15 * s)
            canvas.ellipsoid("cortical_bone", c, r, rot=s1.rot)
            canvas.ellipsoid("marrow_red", c, tuple(v - 2 for v in r), rot=s1.rot, restrict=("cortical_bone",))


def trunk_levels(body: Body, disc_scale: dict[str, float] | None = None) -> dict[str, Level]:
    """Lay out C2..S1 so that the top of T1 is at z = 0."""
    names = ("C2", "C3", "C4", "C5", "C6", "C7") + TRUNK_LEVELS
    above = sum((LEVEL_DIMS[n][0] + LEVEL_DIMS[n][1]) for n in names[:6]) * body.scale
    return layout_column(body, names, above, body.spine_y, disc_scale)


def trunk_canvas(body: Body, rng: np.random.Generator, center_z: float, half_z: float, spacing: float,
                 half_x: float | None = None, warp_mm: float = 3.0) -> Canvas:
    """A canvas over the torso: the whole body outline in x/y (plus 10 mm of air), ``center_z +- half_z`` in z.

    ``half_x`` caps the lateral extent where a protocol's largest FOV needs less than the whole body width.
    """
    hw, ylo, yhi, _ = body_half_extent(body)
    hx = hw + 10.0 if half_x is None else min(hw + 10.0, half_x)
    lo, hi = np.array([-hx, ylo - 10.0, center_z - half_z]), np.array([hx, yhi + 10.0, center_z + half_z])
    spacing = max(spacing, float((hi - lo).max()) / (MAX_VOXELS - 1))  # large patients: coarser, same cost
    return Canvas(tuple(lo), tuple(hi), spacing, rng, warp_mm=warp_mm)


def fraction_of(canvas: Canvas, center: np.ndarray, radius: float, tissues: tuple[str, ...]) -> float:
    """Fraction of the voxels within ``radius`` of ``center`` that hold one of ``tissues`` (0 outside the grid)."""
    c = (np.asarray(center, float) - canvas.origin) / canvas.spacing
    r = max(radius / canvas.spacing, 0.6)
    lo = np.floor(c - r).astype(int)
    hi = np.ceil(c + r).astype(int) + 1
    if np.any(lo < 0) or np.any(hi > canvas.labels.shape):
        return 0.0
    sub = canvas.labels[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    g = np.stack(np.meshgrid(*[np.arange(a, b) for a, b in zip(lo, hi)], indexing="ij"), -1) - c
    inside = (g**2).sum(-1) <= r**2
    return float(np.isin(sub[inside], [label_of(t) for t in tissues]).mean())


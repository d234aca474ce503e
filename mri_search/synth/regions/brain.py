"""Brain MRI phantom: scalp, skull, CSF spaces, cortex, white matter, deep grey nuclei, posterior fossa, vessels.

The anatomy is the shared head-and-neck body (``_head_common``); this module opens a cranial window on it and plants
the findings of data/other_lesions.csv: glioblastoma (enhancing rim round necrosis, with vasogenic oedema), diffuse
low-grade glioma (homogeneous, cortical-subcortical, no oedema), meningioma (extra-axial, dural-based, with a dural
tail), metastases (1-4 at the grey-white junction with oedema out of proportion to size), acute infarcts (MCA
wedge or lacune) and periventricular white-matter hyperintensities graded by Fazekas. Large supratentorial masses
shift the deep midline structures away from themselves, and the shift painted is the shift reported.
"""

from __future__ import annotations

import numpy as np

from .. import catalog
from ..physics.phantom import Canvas, Phantom
from ..types import Lesion, Patient
from ._head_common import changed_extent, draw_head_shape, set_geometry, side_x, snapshot
from ._head_neck_anatomy import paint_head_and_neck
from .base import side_of

SUBREGIONS: tuple[str, ...] = ("brain",)

P_LESION = 0.5  # tumour/stroke referral population; with age-related WMH (~30% overall) ~35% stay normal [E]
P_TUMOUR_GIVEN_LESION = 0.65  # the rest are acute infarcts [E]
SPACING = 1.3  # mm: 262 mm canvas axis -> ~200 voxels
MARGIN = 30.0  # mm beyond the largest FOV (base.py contract)
HALF_FOV = 125.0  # mm: FOV up to 250 mm (protocols.csv brain)
INFARCT_TISSUE = "acute_infarct"  # DWI-bright, ADC ~0.4 (physics/tissues.py)
# Lobe centres, left side, head frame (x, y, z) mm [R: Talairach-like positions shifted to this frame]
LOBES = {"frontal_lobe": (30, -42, 104), "temporal_lobe": (45, 0, 58), "parietal_lobe": (32, 36, 120),
         "occipital_lobe": (22, 74, 86), "cerebellum": (24, 56, 36)}
CEREBRUM = ((0, 8, 88), (66, 84, 68))  # inner-table ellipsoid of the supratentorial cavity (centre, radii)
FOSSA = ((0, 52, 40), (50, 33, 24))  # posterior fossa
PERIVENTRICULAR = ((14, -28, 97), (28, 40, 95), (18, 0, 104), (18, 25, 104), (26, 10, 112), (30, -12, 108))


def _check(subregion: str) -> None:
    if subregion not in SUBREGIONS:
        raise ValueError(f"brain builds {SUBREGIONS}, not {subregion!r}")


def sample_findings(patient: Patient, subregion: str, rng: np.random.Generator) -> tuple[list[Lesion], list[Lesion]]:
    """Draw at most one tumour or infarct, and age-dependent white-matter hyperintensities as an incidental."""
    _check(subregion)
    lesions, incidentals = [], []
    if rng.random() < P_LESION:
        kind = "brain_tumour" if rng.random() < P_TUMOUR_GIVEN_LESION else "acute_infarct"
        site = catalog.draw_site(kind, rng)
        hist = catalog.draw_histology(kind, site, rng)
        d = catalog.draw_size(kind, rng)
        lesions.append(Lesion(kind, site, hist, tissue=catalog.HISTOLOGY_TISSUE.get(hist, INFARCT_TISSUE),
                              size_mm=(d, d, d)))
    # small-vessel disease: rare under 50, present in most people over 65 (other_lesions.csv) [R]
    p_wmh = 0.08 if patient.age < 50 else (0.35 if patient.age < 65 else 0.65)
    if rng.random() < p_wmh:
        fz = 1 if patient.age < 60 else int(rng.choice([1, 2, 3], p=[0.45, 0.4, 0.15]))
        incidentals.append(Lesion("white_matter_hyperintensities", "periventricular", tissue="edema",
                                  attributes={"fazekas": fz}))
    return lesions, incidentals


def _unit(v) -> np.ndarray:
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


def _along(h, cav, u: np.ndarray, f: float) -> np.ndarray:
    """Point at fraction ``f`` from the cavity centre to its inner table along direction ``u`` (patient mm)."""
    c, r = np.asarray(h.p(*cav[0])), np.asarray(h.r(*cav[1]))
    return c + f * u / np.sqrt(np.sum((u / r) ** 2))


def _plan(h, les: Lesion, rng: np.random.Generator) -> dict:
    """Where and how big a lesion will be, decided before the anatomy so its mass effect can shape the midline."""
    sgn = 1.0 if rng.random() < 0.5 else -1.0
    d = float(max(les.size_mm)) if max(les.size_mm) > 0 else 25.0
    if les.kind == "acute_infarct":
        if les.site == "lacunar_basal_ganglia":
            d = float(np.clip(d * 0.35, 4.0, 15.0))  # lacunes are < 15-20 mm by definition [R: STRIVE]
        return dict(sgn=sgn, d=d, shift=0.0)
    site = les.site if les.site in LOBES else "frontal_lobe"
    cav = FOSSA if site == "cerebellum" else CEREBRUM
    x, y, z = LOBES[site]
    u = _unit(np.asarray(h.p(sgn * x, y, z)) - np.asarray(h.p(*cav[0])) + rng.normal(0, 4, 3))
    if les.histology == "metastasis":
        d = float(np.clip(d * 0.5, 6.0, 30.0))  # metastases are smaller (csv 2-30 mm) than the kind's range
    mass = {"glioblastoma": 1.7, "meningioma": 1.0, "metastasis": 2.0, "low_grade_glioma": 0.8}.get(les.histology, 1)
    shift = 0.0 if site == "cerebellum" else float(np.clip(0.2 * (d * mass - 28.0), 0.0, 12.0))
    shift = round(shift * 2) / 2 if shift >= 2.0 else 0.0
    return dict(sgn=sgn, d=d, u=u, cav=cav, shift=shift)


def build(patient: Patient, subregion: str, lesions: list[Lesion], incidentals: list[Lesion],
          rng: np.random.Generator, side: str | None = None) -> Phantom:
    """Paint the head phantom and its findings (``side`` is ignored: the brain is imaged whole)."""
    _check(subregion)
    h = draw_head_shape(patient, rng)
    plans = [_plan(h, les, rng) for les in lesions]
    shifts = [p["shift"] * -p["sgn"] for p in plans if p["shift"] > 0]  # the midline moves away from the mass
    h.midline_shift = max(shifts, key=abs) if shifts else 0.0
    fc = np.asarray(h.p(0, 8, 88))  # centre of the brain
    half = HALF_FOV + MARGIN
    lo = (fc[0] - 105.0, h.p(0, -135, 0)[1], fc[2] - half)  # LR/AP and the vertex: the body ends in air
    hi = (fc[0] + 105.0, h.p(0, 132, 0)[1], h.p(0, 0, 195)[2])
    cv = Canvas(lo, hi, SPACING, rng, warp_mm=2.5, warp_scale_mm=60.0)
    paint_head_and_neck(cv, h, rng)
    cv.mark("fov_center", fc)
    for name, (x, y, z) in LOBES.items():
        cv.mark(f"{name}_L", h.p(x, y, z))
        cv.mark(f"{name}_R", h.p(-x, y, z))
    keep = []
    for les, plan in zip(lesions, plans):
        painter = _paint_infarct if les.kind == "acute_infarct" else _paint_tumour
        if les.kind in ("acute_infarct", "brain_tumour") and painter(cv, h, les, plan, rng):
            keep.append(les)
    lesions[:] = keep
    incidentals[:] = [les for les in incidentals
                      if les.kind == "white_matter_hyperintensities" and _paint_wmh(cv, h, les, rng)]
    return cv.finish(int(rng.integers(2**31)))


def _measure(cv: Canvas, les: Lesion, snap, tissues: tuple[str, ...]) -> bool:
    ext = changed_extent(cv, snap, tissues)
    if ext is None:
        return False
    mask, c, size = ext
    set_geometry(les, c, size)
    les.laterality = side_of(side_x(cv, mask))
    return True


def _paint_tumour(cv: Canvas, h, les: Lesion, plan: dict, rng: np.random.Generator) -> bool:
    hist, u, cav, d = les.histology, plan["u"], plan["cav"], plan["d"]
    r = d / 2.0
    parenchyma = ("grey_matter", "white_matter", "csf")
    les.tissue = catalog.HISTOLOGY_TISSUE.get(hist or "", "glioblastoma")
    shift = abs(h.midline_shift) if plan["shift"] else 0.0  # the shift painted into the anatomy
    attrs: dict = {"necrotic": False, "edema": False, "midline_shift_mm": shift}
    if hist == "meningioma":  # dural-based: centred just inside the inner table, flattened against it
        base = _along(h, cav, u, 1.0)
        c = base - u * r * 0.55
        snap = snapshot(cv, c, 2 * r + 10)
        cv.blob("meningioma", c, r, 0.08, restrict=parenchyma)
        ok = _measure(cv, les, snap, ("meningioma",))
        e1 = _unit(np.cross(u, [0.0, 0.0, 1.0]) if abs(u[2]) < 0.9 else np.cross(u, [1.0, 0.0, 0.0]))
        rot = np.stack([e1, np.cross(u, e1), u], axis=1)  # columns: two tangents and the normal
        cv.ellipsoid("meningioma", base - u * 1.5, (r * 1.5, r * 1.5, 1.6), rot=rot, restrict=("csf",))  # dural tail
        if d > 30 and rng.random() < 0.4:
            cv.dilate_label("edema", "meningioma", 6.0, restrict=("white_matter",))
            attrs["edema"] = True
    elif hist == "metastasis":
        n = 1 if rng.random() < 0.5 else int(rng.integers(2, 5))  # multiple in about half (csv)
        ok, painted = False, 0
        for k in range(n):
            if k == 0:
                c, rk = _along(h, cav, u, 0.82), r
            else:  # further deposits at other grey-white junctions, smaller
                v = _unit(rng.normal(0, 1, 3) + (0, 0, 0.5))
                c, rk = _along(h, CEREBRUM, v, 0.8), r * rng.uniform(0.3, 0.7)
            snap = snapshot(cv, c, 4 * rk + 25)
            cv.blob("edema", c, rk * 2.5 + 5, 0.45, restrict=("white_matter",))  # disproportionate oedema
            cv.blob("metastasis", c, rk, 0.12, restrict=parenchyma + ("edema",))
            if rk > 7:
                cv.blob("necrosis", c, rk * 0.45, 0.1, restrict=("metastasis",))  # ring enhancement
            if changed_extent(cv, snap, ("metastasis",)) is not None:
                painted += 1
                ok = _measure(cv, les, snap, ("metastasis", "necrosis")) if k == 0 else ok
        attrs.update(count=painted, edema=True, necrotic=r > 7)
    else:  # intra-axial glioma: GBM deep in the white matter, low-grade glioma cortical-subcortical
        gbm = hist == "glioblastoma"
        c = _along(h, cav, u, 0.55 if gbm else 0.78)
        snap = snapshot(cv, c, 2.2 * r + 25)
        if gbm:
            cv.blob("edema", c, r * 1.7 + 6, 0.45, restrict=("white_matter", "grey_matter"))
            attrs["edema"] = True
        tissue = "glioblastoma" if gbm else "low_grade_glioma"
        cv.blob(tissue, c, r, 0.35 if gbm else 0.2, restrict=parenchyma + ("edema",))
        if gbm:
            cv.blob("necrosis", c, r * 0.5, 0.3, restrict=("glioblastoma",))
            attrs["necrotic"] = True
        ok = _measure(cv, les, snap, (tissue, "necrosis"))
    les.attributes.update(attrs)
    return ok


def _paint_infarct(cv: Canvas, h, les: Lesion, plan: dict, rng: np.random.Generator) -> bool:
    """MCA-territory wedge (apex at the lentiform nucleus, base on the lateral cortex) or a deep lacune."""
    sgn, d = plan["sgn"], plan["d"]
    les.tissue = INFARCT_TISSUE
    if les.site == "lacunar_basal_ganglia":
        x, y, z = ((24, -2, 82), (10, 18, 84), (18, 4, 86))[int(rng.integers(3))]  # lentiform, thalamus, capsule
        c = np.asarray(h.p(sgn * x, y, z))
        snap = snapshot(cv, c, d + 8)
        cv.blob(INFARCT_TISSUE, c, d / 2.0, 0.1, restrict=("grey_matter", "white_matter"))
        return _measure(cv, les, snap, (INFARCT_TISSUE,))
    d = max(d, 15.0)
    u = _unit((sgn, rng.uniform(-0.45, 0.35), rng.uniform(-0.1, 0.35)))
    base = _along(h, CEREBRUM, u, 0.97)
    apex = base - u * d * 0.9
    snap = snapshot(cv, base, 1.2 * d + 10)
    cv.tube(INFARCT_TISSUE, [apex, base], [2.0, d / 2.0], restrict=("grey_matter", "white_matter"))
    return _measure(cv, les, snap, (INFARCT_TISSUE,))


def _paint_wmh(cv: Canvas, h, les: Lesion, rng: np.random.Generator) -> bool:
    """Periventricular caps/halo and deep foci, more and larger with the Fazekas grade."""
    fz = int(les.attributes.get("fazekas", 1))
    n = int(rng.integers(*{1: (3, 8), 2: (8, 16), 3: (15, 26)}[fz]))
    size = {1: (3.0, 7.0), 2: (4.0, 11.0), 3: (6.0, 15.0)}[fz]
    best, count = None, 0
    for _ in range(n):
        x, y, z = PERIVENTRICULAR[int(rng.integers(len(PERIVENTRICULAR)))]
        sgn = 1.0 if rng.random() < 0.5 else -1.0
        c = np.asarray(h.p(sgn * x + h.midline_shift, y, z)) + rng.normal(0, 4.0, 3)
        dd = float(rng.uniform(*size))
        snap = snapshot(cv, c, dd + 6)
        cv.blob("edema", c, dd / 2.0, 0.2, restrict=("white_matter",), elongation=(1.0, 1.3, 1.0))
        ext = changed_extent(cv, snap, ("edema",))
        if ext is None:
            continue
        count += 1
        if best is None or max(ext[2]) > max(best[2]):
            best = ext
    if best is None:
        return False
    set_geometry(les, best[1], best[2])
    les.laterality = None  # catalog: not lateralised (diffuse, both hemispheres)
    les.attributes.update(count=count, fazekas=fz)
    return True

"""Prone bilateral breast MRI phantom: both breasts, chest wall, anterior thorax, axillae.

The patient lies prone in a dedicated breast coil (data/protocols.csv), so the breasts hang anteriorly (towards -y
in LPS). Each breast is fat with a lobulated fibroglandular core ("breast_fgt") whose amount follows the BI-RADS
density category a-d; skin thickens into a nipple-areola complex. Behind them: subcutaneous fat, pectoral and
intercostal muscle, ribs and sternum, the internal mammary vessels, the anterior lungs, heart and great vessels, the
spine; the axillae hold fat and a few benign nodes.

Assumption: the study planner sends breast exams for female patients only. A male patient is still built (with
small breasts and little glandular tissue) rather than refused, so an odd plan degrades instead of crashing.
"""

from __future__ import annotations

import numpy as np

from .. import catalog
from ..physics.phantom import Canvas, Phantom
from ..physics.tissues import label_of
from ..types import Lesion, Patient
from ._msk_common import keep_changes_where, paint_lesion, tube_bone
from .base import side_of

SUBREGIONS: tuple[str, ...] = ("breast",)

P_NORMAL = 0.40  # diagnostic/screening breast MRI: roughly 40% of studies without a reportable mass (brief, [E])
P_CYST = 0.25  # simple cysts are a frequent incidental finding in women 35-55 (other_lesions.csv "common") [E]
DENSITY_P = {"a": 0.10, "b": 0.40, "c": 0.40, "d": 0.10}  # ACR BI-RADS 5th ed. population distribution [R]
_FGT_SCALE = {"a": 0.35, "b": 0.5, "c": 0.62, "d": 0.75}  # FGT core radius / breast radius per density [E]
_FAT_HOLES = {"a": 10, "b": 8, "c": 4, "d": 1}  # fat lobules punched into the FGT core: scattered vs dense [E]
_QUADRANT_RIGHT = {  # clock-face centre (degrees clockwise from 12, seen facing the patient) per quadrant, right breast
    "upper_outer_quadrant": 315.0, "upper_inner_quadrant": 45.0,
    "lower_outer_quadrant": 225.0, "lower_inner_quadrant": 135.0,
}


def sample_findings(patient: Patient, subregion: str, rng: np.random.Generator) -> tuple[list[Lesion], list[Lesion]]:
    """Draw at most one breast mass (carcinoma or fibroadenoma) and an incidental simple cyst."""
    _check(subregion)
    lesions, incidentals = [], []
    if rng.random() >= P_NORMAL:
        site = catalog.draw_site("breast_mass", rng)
        histology = catalog.draw_histology("breast_mass", site, rng)
        lesions.append(Lesion("breast_mass", site, histology, tissue=catalog.HISTOLOGY_TISSUE[histology],
                              size_mm=(catalog.draw_size("breast_mass", rng),) * 3))
    if rng.random() < P_CYST:
        incidentals.append(Lesion("breast_cyst", "any", None, tissue="simple_cyst",
                                  size_mm=(catalog.draw_size("breast_cyst", rng),) * 3))
    return lesions, incidentals


def _check(subregion: str) -> None:
    if subregion not in SUBREGIONS:
        raise ValueError(f"breast builds {SUBREGIONS}, not {subregion!r}")


def clock_of(dx: float, dz: float) -> str:
    """Clock face position of an offset from the nipple (dx = LPS x, dz = LPS z), as seen facing the patient.

    The viewer's right is the patient's left (+x), so lateral is 9 o'clock in the right breast and 3 o'clock in
    the left breast.
    """
    ang = np.degrees(np.arctan2(dx, dz)) % 360.0
    hour = int(round(ang / 30.0)) % 12
    return f"{12 if hour == 0 else hour} o'clock"


def _quadrant_of(dx: float, dz: float, side: str) -> str:
    outer = dx < 0 if side == "right" else dx > 0
    return f"{'upper' if dz >= 0 else 'lower'}_{'outer' if outer else 'inner'}_quadrant"


def build(patient: Patient, subregion: str, lesions: list[Lesion], incidentals: list[Lesion],
          rng: np.random.Generator, side: str | None = None) -> Phantom:
    """Paint the prone breast phantom and its findings (``side`` is ignored: the exam is bilateral)."""
    _check(subregion)
    s = patient.size_scale
    bmi = patient.weight_kg / max(patient.height_m, 1.0) ** 2
    a = 150 * s * rng.uniform(0.93, 1.07)  # torso half-width (LR) at the breasts
    b = 100 * s * rng.uniform(0.92, 1.08)  # torso half-depth (AP)
    fat = float(np.clip(4 + 0.9 * (bmi - 18), 5, 35))  # subcutaneous fat thickness grows with BMI [E]
    female = patient.sex != "M"
    proj = (rng.uniform(45, 130) * (0.8 + 0.02 * max(bmi - 18, 0))) if female else rng.uniform(12, 22)
    breast_r = np.array([rng.uniform(58, 78), proj, rng.uniform(58, 72)]) * np.array([s, 1.0, s])
    cz = rng.uniform(-15, 5)
    lo = (-(a + 14), -(0.85 * b + proj * 1.1 + 18), -150.0)
    hi = (a + 14, b + 12, 150.0)
    cv = Canvas(lo, hi, 2.0, rng, warp_mm=3.0)

    def surface_y(x: float) -> float:  # anterior skin of the torso ellipse at x
        return -b * float(np.sqrt(max(1 - (x / a) ** 2, 0.0)))

    big = 5000.0  # z radius that turns an ellipsoid into an elliptic cylinder along the body axis
    breasts = {}
    for sd, sign in (("right", -1.0), ("left", 1.0)):
        bx = sign * 0.52 * a + rng.uniform(-5, 5)
        r = breast_r * rng.uniform(0.95, 1.05, 3)
        breasts[sd] = dict(c=np.array([bx, surface_y(bx) + 6, cz]), r=r, rot=None)
    am, bm = a - 2 - fat, b - 2 - fat  # deep surface of the subcutaneous fat: chest wall muscle below
    cv.layers([("skin", (a, b, big)), ("fat", (a - 2, b - 2, big)), ("muscle", (am, bm, big))], (0, 0, 0))
    for br in breasts.values():  # the mounds only claim what lies outside the torso (and its skin line)
        cv.ellipsoid("skin", br["c"], br["r"] + 2.5, restrict=("background",))
        cv.ellipsoid("fat", br["c"], br["r"], restrict=("background", "skin"))
    for sd, br in breasts.items():
        _glandular(cv, br, sd, rng, female, patient.age, surface_y)
    _chest(cv, am, bm, rng, s)
    for sd, br in breasts.items():
        cv.mark(f"breast_{sd}", br["c"] - np.array([0, br["r"][1] * 0.5, 0]))
    mid_y = float(np.mean([br["c"][1] - 0.4 * br["r"][1] for br in breasts.values()]))
    cv.mark("fov_center", (0.0, mid_y, cz))

    kept = [les for les in lesions if _paint_breast_lesion(cv, les, breasts, rng, patient.age)]
    lesions[:] = kept
    incidentals[:] = [les for les in incidentals if _paint_breast_lesion(cv, les, breasts, rng, patient.age)]
    return cv.finish(int(rng.integers(2**31)))


def _glandular(cv: Canvas, br: dict, side: str, rng, female: bool, age: int, surface_y) -> None:
    """FGT core (density a-d), retromammary fat plane, nipple-areola complex and the nipple landmark."""
    c, r = br["c"], br["r"]
    dens_p = dict(DENSITY_P)
    if age < 45:  # younger breasts are denser [R]
        dens_p.update(a=0.05, b=0.3, c=0.45, d=0.2)
    density = list(dens_p)[int(rng.choice(4, p=list(dens_p.values())))] if female else "a"
    br["density"] = density
    core_c = c - np.array([0, 0.45 * r[1], 0])
    core_r = _FGT_SCALE[density] * r
    before = cv.labels.copy()
    cv.blob("breast_fgt", core_c, float(core_r.mean()), irregularity=0.5, restrict=("fat",),
            elongation=tuple(core_r / core_r.mean()))
    for _ in range(_FAT_HOLES[density]):
        off = rng.uniform(-0.8, 0.8, 3) * core_r
        cv.blob("fat", core_c + off, float(core_r.mean()) * rng.uniform(0.15, 0.3), irregularity=0.4,
                restrict=("breast_fgt",))
    # the glandular cone stays inside the breast mound, clear of the chest wall (retromammary fat)
    keep_changes_where(cv, before, lambda p: p[:, 1] < np.array([surface_y(x) for x in p[:, 0]]) - 8)
    nipple = c - np.array([0, r[1] + 2.5, 0])
    cv.ellipsoid("skin", nipple + np.array([0, 2.0, 0]), (13, 3.5, 13), restrict=("fat", "breast_fgt", "skin"))
    cv.ellipsoid("skin", nipple - np.array([0, 2.0, 0]), (5, 5, 5))
    cv.mark(f"nipple_{side}", nipple - np.array([0, 5.0, 0]))
    br["nipple"] = nipple


def _chest(cv: Canvas, am: float, bm: float, rng, s: float) -> None:
    """Chest wall muscle, axillae, rib cage and sternum, internal mammary vessels, lungs, heart, spine."""
    big = 5000.0  # the torso muscle ring (pectoralis, serratus, back muscles) is already painted
    for sign in (-1, 1):  # axillary fat pads with benign nodes (fatty hilum), lateral to the chest wall
        ax = np.array([sign * (am - 14), -0.15 * bm, 90 * s])
        cv.ellipsoid("fat", ax, (20, 32, 55), restrict=("muscle",))
        for _ in range(int(rng.integers(2, 5))):
            nc = ax + rng.uniform(-1, 1, 3) * np.array([8, 18, 35])
            nr = np.array([4.0, 4.5, 7.0]) * rng.uniform(0.8, 1.2)
            cv.ellipsoid("lymph_node", nc, nr, restrict=("fat",))
            cv.ellipsoid("fat", nc, nr * 0.4, restrict=("lymph_node",))
        cv.mark(f"axilla_{'left' if sign > 0 else 'right'}", ax)
    yc = -10.0  # rib cage centred a little anterior: the back muscles are thicker than the pectorals
    ar, brr = am - 16, bm - 16
    cv.layers([("cortical_bone", (ar, brr, big)), ("marrow_red", (ar - 2, brr - 2, big)),
               ("cortical_bone", (ar - 6, brr - 6, big)), ("lung", (ar - 8, brr - 8, big))], (0, yc, 0))
    # cut the ring into ribs: 11 mm of bone every 25 mm, sloping down anteriorly; the rest is intercostal muscle
    ring = np.argwhere(np.isin(cv.labels, [label_of("cortical_bone"), label_of("marrow_red")]))
    p = cv.origin + ring * cv.spacing
    phase = (p[:, 2] - 0.35 * p[:, 1] + rng.uniform(0, 25)) % 25.0
    gap = ring[phase > 11.0]
    cv.labels[tuple(gap.T)] = label_of("muscle")
    y_ant = yc - brr
    cv.box("cortical_bone", (0, y_ant + 5, 0), (13, 5, 400))  # sternum
    cv.box("marrow_red", (0, y_ant + 5, 0), (11, 3, 400), restrict=("cortical_bone",))
    ai = ar - 8
    for sign in (-1, 1):  # internal mammary artery and vein, parasternal, just deep to the costal cartilages
        x = sign * 25.0
        y = yc - (brr - 8) * np.sqrt(1 - (x / ai) ** 2) + 4
        cv.tube("artery", [(x, y, -200), (x, y, 200)], 1.5)
        cv.tube("vein", [(x + sign * 5, y, -200), (x + sign * 5, y, 200)], 2.0)
    # mediastinum, heart and great vessels, spine
    cv.ellipsoid("fat", (0, yc + 10, 0), (0.22 * ai + 8, brr - 8, big), restrict=("lung",))
    heart = np.array([0.18 * ai, yc - 0.3 * brr, -70 * s])
    cv.ellipsoid("myocardium", heart, np.array([62, 48, 55]) * s, restrict=("lung", "fat"))
    cv.ellipsoid("artery", heart + np.array([12, 8, 0]) * s, np.array([22, 18, 32]) * s, restrict=("myocardium",))
    cv.ellipsoid("vein", heart + np.array([-20, -18, 0]) * s, np.array([25, 10, 30]) * s, restrict=("myocardium",))
    y_sp = yc + brr - 8 - 14
    cv.tube("artery", [(8, heart[1] + 20, heart[2] + 40), (5, yc - 10, 60), (15, yc + 20, 95),
                       (22, y_sp - 8, 75), (22, y_sp - 8, -200)], [14, 15, 13, 12, 11])
    cv.tube("vein", [(-28, yc - 5, 200), (-28, yc - 5, heart[2] + 45)], 9)
    tube_bone(cv, [(0, y_sp, -200), (0, y_sp, 200)], 16, 2.0, "marrow_red")
    body = np.argwhere(np.isin(cv.labels, [label_of("cortical_bone"), label_of("marrow_red")]))
    pb = cv.origin + body * cv.spacing
    disc = body[(np.hypot(pb[:, 0], pb[:, 1] - y_sp) <= 16.5) & ((pb[:, 2] % 26.0) < 5.0)]
    cv.labels[tuple(disc.T)] = label_of("disc_annulus")
    cv.tube("csf", [(0, y_sp + 27, -200), (0, y_sp + 27, 200)], 9)
    cv.tube("spinal_cord", [(0, y_sp + 27, -200), (0, y_sp + 27, 200)], 5)
    cv.mark("heart", heart)


def _paint_breast_lesion(cv: Canvas, les: Lesion, breasts: dict, rng, age: int) -> bool:
    """Place a mass or cyst in its quadrant (clock angle) and depth; measure; set clock, site and BI-RADS."""
    side = "left" if rng.random() < 0.5 else "right"
    br = breasts[side]
    r, nipple = br["r"], br["nipple"]
    radius = max(les.size_mm[0], 4.0) / 2.0
    if les.site == "retroareolar":
        ang, dist = rng.uniform(0, 360), rng.uniform(0, 6)
        depth = 12 + radius
    else:
        centre = _QUADRANT_RIGHT.get(les.site, rng.uniform(0, 360))
        ang = centre + rng.uniform(-30, 30)
        if side == "left":
            ang = -ang  # mirror: lateral is 3 o'clock on the left
        dist = rng.uniform(0.3, 0.55) * min(r[0], r[2])
        depth = rng.uniform(0.25, 0.6) * r[1] + radius * 0.3
    t = np.radians(ang)
    cen = nipple + np.array([dist * np.sin(t), depth, dist * np.cos(t)])
    if les.kind == "breast_mass" and les.histology == "invasive_ductal_carcinoma":
        def paint():  # irregular spiculated mass: lobulated core plus thin radiating strands
            cv.blob(les.tissue, cen, radius * 0.85, irregularity=0.45, restrict=("fat", "breast_fgt"))
            for _ in range(int(rng.integers(4, 8))):
                u = rng.normal(size=3)
                u /= np.linalg.norm(u)
                cv.tube(les.tissue, [cen, cen + u * radius * rng.uniform(1.0, 1.3)], 1.1,
                        restrict=("fat", "breast_fgt"))
    elif les.kind == "breast_mass":
        def paint():  # fibroadenoma: oval, circumscribed, long axis parallel to the chest wall
            cv.blob(les.tissue, cen, radius, irregularity=0.05, restrict=("fat", "breast_fgt"),
                    elongation=(1.0, 0.7, 0.85))
    else:
        def paint():  # simple cyst: round/oval, sharp wall
            cv.ellipsoid(les.tissue, cen, (radius, radius * 0.85, radius * 0.95), restrict=("fat", "breast_fgt"))
    if not paint_lesion(cv, les, (les.tissue,), paint):
        return False
    dx, dz = les.center_lps[0] - nipple[0], les.center_lps[2] - nipple[2]
    les.laterality = side_of(les.center_lps[0])
    les.attributes["clock"] = clock_of(dx, dz)
    if les.kind == "breast_mass":
        if les.site != "retroareolar":
            les.site = _quadrant_of(dx, dz, side)  # the site the painted centre really lies in
        malignant = les.histology == "invasive_ductal_carcinoma"
        les.attributes["birads"] = (5 if rng.random() < 0.7 else 4) if malignant else (2 if age < 40 else 3)
        les.attributes["necrotic"] = False
    else:
        les.attributes["birads"] = 2
    return True

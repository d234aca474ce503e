"""Pelvis phantom: bony pelvis, pelvic muscles, bladder, rectum and either the prostate or the uterus and ovaries.

Local frame: the origin is midway between the femoral head centres; LPS axes. The bony pelvis is built from
cortical shells around marrow (red in the ilium, sacrum and spine, yellow in the femora); the soft tissues are a
skin/fat envelope with a muscle wall, and a fat-filled pelvic cavity holding the viscera, iliac vessels and a few
bowel loops. Sex decides the subregion: ``pelvis_prostate`` for male patients (peripheral and transition zones,
the transition zone enlarging with age as benign prostatic hyperplasia, seminal vesicles, urethra), and
``pelvis_female`` for female patients (uterus with myometrium, junctional zone, endometrium and cervix, vagina,
ovaries; smaller after the menopause).
"""

from __future__ import annotations

import numpy as np

from .. import catalog
from ..physics.phantom import Canvas, Phantom, rotation
from ..types import Lesion, Patient
from ._msk_common import Frame, keep_changes_where, paint_lesion, vessel_pair
from .base import side_of

SUBREGIONS: tuple[str, ...] = ("pelvis_prostate", "pelvis_female")

P_NORMAL = 0.35  # mpMRI for raised PSA: ~1/3 of studies PI-RADS 1-2; female pelvis referrals similar [E]
P_FIBROID = 0.7  # among abnormal female studies: fibroids are the commonest finding (20-40% of women, csv) [R]
P_OVARIAN_CYST = 0.4  # among abnormal female studies: an adnexal cyst as (part of) the question [E]
P_INCIDENTAL_CYST = 0.2  # functional/simple ovarian cyst seen incidentally in premenopausal women [E]
_SOFT_PELVIS = ("fat", "bowel_wall", "bowel_content", "air", "vein", "artery")


def _check(patient: Patient, subregion: str) -> None:
    if subregion not in SUBREGIONS:
        raise ValueError(f"pelvis builds {SUBREGIONS}, not {subregion!r}")
    want = "M" if subregion == "pelvis_prostate" else "F"
    if patient.sex != want:
        raise ValueError(f"{subregion} needs a patient of sex {want!r}, got {patient.sex!r}: plan pelvis_prostate "
                         "for male and pelvis_female for female patients")


def sample_findings(patient: Patient, subregion: str, rng: np.random.Generator) -> tuple[list[Lesion], list[Lesion]]:
    """Draw a peripheral-zone cancer (male), or a fibroid and/or ovarian cyst (female), plus incidentals."""
    _check(patient, subregion)
    lesions, incidentals = [], []
    abnormal = rng.random() >= P_NORMAL

    def new(kind: str, size_cap: float | None = None) -> Lesion:
        site = catalog.draw_site(kind, rng)
        hist = catalog.draw_histology(kind, site, rng)
        tissue = catalog.HISTOLOGY_TISSUE[hist] if hist else "simple_cyst"
        size = catalog.draw_size(kind, rng)
        return Lesion(kind, site, hist, tissue=tissue, size_mm=(min(size, size_cap or size),) * 3)

    if subregion == "pelvis_prostate":
        if abnormal:
            lesions.append(new("prostate_lesion"))
        return lesions, incidentals
    if abnormal:
        fibroid = rng.random() < P_FIBROID
        if fibroid:
            lesions.append(new("uterine_fibroid"))
        if not fibroid or rng.random() < P_OVARIAN_CYST:
            lesions.append(new("ovarian_cyst"))
    if patient.age < 52 and not any(les.kind == "ovarian_cyst" for les in lesions) \
            and rng.random() < P_INCIDENTAL_CYST:
        incidentals.append(new("ovarian_cyst", size_cap=30.0))
    return lesions, incidentals


def build(patient: Patient, subregion: str, lesions: list[Lesion], incidentals: list[Lesion],
          rng: np.random.Generator, side: str | None = None) -> Phantom:
    """Paint the pelvis of ``patient`` and its findings (``side`` is ignored: the exam is midline)."""
    _check(patient, subregion)
    s = patient.size_scale * (1.04 if patient.sex == "F" else 1.0)  # wider female pelvis
    bmi = patient.weight_kg / max(patient.height_m, 1.0) ** 2
    fat = float(np.clip(6 + 1.1 * (bmi - 18), 6, 45))
    half_w = 172 * s * rng.uniform(0.95, 1.05) + 0.5 * fat
    half_ap = 118 * s * rng.uniform(0.93, 1.07) + 0.5 * fat
    half_x = max(half_w, 176 * s) + 12  # the thighs (tubes of radius 80 at x = +-96) reach past the hips
    lo, hi = (-half_x, -(half_ap + 12), -200.0), (half_x, half_ap + 14, 230.0)
    cv = Canvas(lo, hi, 2.0, rng, warp_mm=3.0)
    _envelope(cv, s, half_w, half_ap, fat)
    _muscles_vessels(cv, s)
    _bones(cv, s, rng)
    _bowel(cv, s, rng)
    male = subregion == "pelvis_prostate"
    anat = _prostate(cv, patient, s, rng) if male else _uterus_ovaries(cv, patient, s, rng)
    cv.mark("fov_center", anat["centre"])
    paint = _paint_male if male else _paint_female
    lesions[:] = [les for les in lesions if paint(cv, anat, les, rng)]
    incidentals[:] = [les for les in incidentals if paint(cv, anat, les, rng)]
    return cv.finish(int(rng.integers(2**31)))


def _envelope(cv: Canvas, s: float, half_w: float, half_ap: float, fat: float) -> None:
    """Skin, subcutaneous fat, the muscle wall (abdominal wall, glutei, thighs) and the fat-filled cavity."""
    torso_c, torso_r = (0, 3, 120 * s), np.array([half_w, half_ap, 200 * s])
    thighs = [[(sg * 88 * s, 0, 10), (sg * 96 * s, -8, -260)] for sg in (-1, 1)]
    cv.layers([("skin", torso_r), ("fat", torso_r - 2), ("muscle", torso_r - 2 - fat)], torso_c, power=3)
    for t in thighs:  # each layer only claims what lies outside the deeper torso layers
        cv.tube("skin", t, 80 * s, restrict=("background",))
        cv.tube("fat", t, 80 * s - 2, restrict=("background", "skin"))
        cv.tube("muscle", t, 80 * s - 2 - fat, restrict=("background", "skin", "fat"))
    cv.ellipsoid("fat", (0, -2 * s, 95 * s), np.array([122, 90, 150]) * s, power=2.5)  # pelvic/abdominal cavity
    cv.mark("symphysis", (0, -62 * s, -28 * s))


def _muscles_vessels(cv: Canvas, s: float) -> None:
    """Iliopsoas, iliacus, obturator internus, levator ani; aorta/IVC to the iliac and femoral vessels."""
    for side in ("left", "right"):
        f = Frame((0, 0, 0), side)
        k = lambda pts: f.pts([[q * s for q in p] for p in pts])  # noqa: E731 - local scaled polyline
        cv.tube("muscle", k([(30, 30, 240), (40, 28, 140), (60, -10, 50), (72, -32, 5), (74, -28, -45)]),
                [17 * s, 21 * s, 22 * s, 18 * s, 14 * s], restrict=("fat", "muscle"))  # psoas into iliopsoas
        cv.ellipsoid("muscle", f.p(72 * s, 8 * s, 78 * s), np.array([52, 10, 38]) * s, rot=f.rot(rz=-54),
                     restrict=("fat",))  # iliacus on the inner iliac wing
        cv.ellipsoid("muscle", f.p(60 * s, 12 * s, -22 * s), np.array([9, 32, 24]) * s, restrict=("fat",))
        cv.ellipsoid("muscle", f.p(48 * s, -28 * s, -32 * s), np.array([12, 22, 16]) * s, restrict=("fat",))
        art = k([(0, 12, 175), (28, 30, 122), (52, 14, 72), (68, -22, 22), (80, -38, -30), (86, -42, -200)])
        vessel_pair(cv, art, 5.5 * s, 6.5 * s,
                    np.array([-f.lat * 7 * s, 9 * s, 0]))
        vessel_pair(cv, k([(28, 30, 122), (44, 52, 82), (50, 50, 40)]), 4 * s, 5 * s, np.array([0, 7 * s, 0]))
    cv.tube("vein", [(-20 * s, 16 * s, 240), (-8 * s, 22 * s, 170 * s)], 10 * s)  # IVC to its confluence
    cv.tube("artery", [(0, 8 * s, 240), (0, 12 * s, 175 * s)], 9 * s)  # aorta to its bifurcation (L4)
    before = cv.labels.copy()
    cv.shell("muscle", (0, 22 * s, -8 * s), np.array([50, 48, 52]) * s, 4.0, restrict=("fat",))
    keep_changes_where(cv, before, lambda p: p[:, 2] < -22 * s)  # levator ani: the funnel's lower half only


def _bones(cv: Canvas, s: float, rng) -> None:
    """Ilia, acetabula, femora, pubic rami and symphysis, ischia, sacrum, lower lumbar spine."""
    sc = lambda v: np.asarray(v, float) * s  # noqa: E731
    femur_cortex, pelvis_cortex = [], []
    for side in ("left", "right"):
        f = Frame((0, 0, 0), side)
        wing = (f.p(*sc((90, 25, 75))), sc((62, 7, 48)), f.rot(rz=-54))
        acet = (f.p(*sc((74, 4, 6))), sc((28, 32, 34)), None)
        tuber = (f.p(*sc((55, 30, -55))), sc((14, 16, 16)), None)
        pubis = (f.p(*sc((12, -62, -28))), sc((10, 12, 22)), None)
        pelvis_cortex += [("e",) + wing, ("e",) + acet, ("e",) + tuber, ("e",) + pubis,
                          ("t", f.pts([sc((60, -20, 5)), sc((14, -60, -20))]), 11 * s),
                          ("t", f.pts([sc((14, -56, -45)), sc((52, 22, -55))]), 9 * s),
                          ("t", f.pts([sc((72, 25, -5)), sc((58, 30, -50))]), 15 * s)]
        head = f.p(*sc((88, 0, 0)))
        femur_cortex += [("e", head, sc((24.5, 24.5, 24.5)), None),
                         ("t", f.pts([sc((88, 0, 0)), sc((122, 8, -38))]), 16 * s),
                         ("e", f.p(*sc((128, 12, -35))), sc((16, 22, 26)), None),
                         ("t", f.pts([sc((124, 6, -45)), sc((112, -5, -260))]), 14 * s)]
        cv.mark(f"femoral_head_{side}", head)
    _bone_group(cv, pelvis_cortex, "marrow_red", 2.0)
    for side in ("left", "right"):  # joint cartilage carves the acetabular cup before the femoral heads go in
        cv.ellipsoid("cartilage", Frame((0, 0, 0), side).p(*sc((88, 0, 0))), sc((27, 27, 27)),
                     restrict=("cortical_bone", "marrow_red", "muscle", "fat"))
    _bone_group(cv, femur_cortex, "marrow_yellow", 2.5)
    cv.box("meniscus", sc((0, -62, -28)), sc((2.5, 10, 18)), restrict=("cortical_bone", "marrow_red", "fat"))
    # sacrum (upper end anterior), lumbar bodies L2-L5 with discs, canal
    tilt = 30.0 + rng.uniform(-6, 6)
    _bone_group(cv, [("e", sc((0, 70, 60)), sc((56, 17, 56)), rotation(rx_deg=tilt))], "marrow_red", 2.0)
    for i, (y, z) in enumerate([(34, 133), (31, 163), (30, 193), (30, 223)]):
        _bone_group(cv, [("e", sc((0, y, z)), sc((26, 18, 12.5)), None),
                         ("e", sc((0, y + 38, z)), sc((14, 12, 10)), None)], "marrow_red", 1.5)
        cv.ellipsoid("disc_annulus", sc((0, y + 1, z - 15)), sc((24, 16, 3)))
        cv.ellipsoid("disc_nucleus", sc((0, y + 1, z - 15)), sc((14, 9, 2)), restrict=("disc_annulus",))
    cv.tube("csf", [sc((0, 58, 240)), sc((0, 60, 125)), sc((0, 84, 70)), sc((0, 96, 30))], [8 * s, 8 * s, 5 * s, 3 * s])
    cv.mark("sacral_promontory", sc((0, 44, 110)))


def _bone_group(cv: Canvas, shapes: list, marrow: str, cortex: float) -> None:
    """Paint every cortical outline of a bone first and the marrow cores after, so joined parts share one cavity."""
    for kind, *geo in shapes:
        if kind == "e":
            cv.ellipsoid("cortical_bone", geo[0], geo[1], geo[2])
        else:
            cv.tube("cortical_bone", geo[0], geo[1])
    for kind, *geo in shapes:
        if kind == "e":
            cv.ellipsoid(marrow, geo[0], np.maximum(np.asarray(geo[1]) - cortex, 0.5), geo[2],
                         restrict=("cortical_bone",))
        else:
            cv.tube(marrow, geo[0], max(geo[1] - cortex - 1.0, 0.5), restrict=("cortical_bone",))


def _bowel(cv: Canvas, s: float, rng) -> None:
    """Rectum along the sacral curve (wall, content, a gas bubble) and a few small-bowel/sigmoid loops above."""
    rect = np.array([(0, 20, 115), (0, 36, 70), (0, 44, 35), (0, 34, 0), (0, 18, -30), (0, 12, -55),
                     (0, 16, -80)]) * s
    rect[:, 0] += rng.uniform(-6, 6)
    rad = rng.uniform(13, 18) * s
    cv.tube("bowel_wall", rect, rad, restrict=_SOFT_PELVIS + ("muscle",))
    cv.tube("bowel_content", rect[:-1], rad - 3, restrict=("bowel_wall",))
    cv.ellipsoid("air", rect[2] - np.array([0, rad * 0.5, 0]), (7, 4, 9), restrict=("bowel_content",))
    cv.mark("rectum", rect[4])
    for _ in range(int(rng.integers(4, 8))):
        p = np.array([rng.uniform(-70, 70), rng.uniform(-50, 10), rng.uniform(70, 200)]) * s
        pts = [p]
        for _ in range(4):
            step = rng.normal(size=3)
            pts.append(pts[-1] + 28 * s * step / np.linalg.norm(step))
        r = rng.uniform(9, 13) * s
        cv.tube("bowel_wall", pts, r, restrict=("fat",))
        cv.tube("bowel_content", pts, r - 2.5, restrict=("bowel_wall",))


def _prostate(cv: Canvas, patient: Patient, s: float, rng) -> dict:
    """Prostate (PZ around an age-enlarged TZ, anterior stroma, urethra), seminal vesicles, bladder; its geometry."""
    vol = float(np.clip((20 + 0.55 * max(patient.age - 40, 0)) * rng.lognormal(0, 0.15), 18, 60))
    r = (3 * vol * 1000 / (4 * np.pi * 1.35 * 1.25)) ** (1 / 3) * np.array([1.35, 1.0, 1.25])  # a:b:c gland
    pc = np.array([rng.uniform(-3, 3), -22 * s, -12 * s - r[2]])
    rot = rotation(rx_deg=rng.uniform(10, 25))  # apex points anterior-inferior
    cv.ellipsoid("prostate_pz", pc, r, rot, restrict=_SOFT_PELVIS + ("muscle",))
    tz_frac = float(np.clip(0.25 + (vol - 20) / 40 * 0.35, 0.2, 0.62))  # BPH: the TZ takes over with age [R]
    k = tz_frac ** (1 / 3)
    tz_c = pc + rot @ np.array([0, -(1 - k) * r[1] * 0.7, (1 - k) * r[2] * 0.5])
    cv.ellipsoid("prostate_tz", tz_c, r * k, rot, restrict=("prostate_pz",))
    cv.ellipsoid("muscle", pc + rot @ np.array([0, -0.9 * r[1], 0.1 * r[2]]), r * [0.55, 0.3, 0.75], rot,
                 restrict=("prostate_pz", "prostate_tz"))  # anterior fibromuscular stroma
    axis = rot @ np.array([0, 0.15 * r[1], r[2]])
    cv.tube("urine", [tz_c - 0.3 * r[1] * rot[:, 1] + axis, pc - axis], 1.8,
            restrict=("prostate_pz", "prostate_tz", "muscle"))
    for sg in (-1, 1):  # neurovascular bundles at 5 and 7 o'clock; seminal vesicles above the base
        nvb = pc + np.array([sg * 0.8 * r[0], 0.75 * r[1], 0])
        cv.tube("vein", [nvb + [0, 0, r[2]], nvb - [0, 0, r[2]]], 2.5, restrict=("fat",))
        f = Frame((0, 0, 0), "left" if sg > 0 else "right")
        sv = pc + np.array([sg * 19 * s, 17 * s, r[2] + 8 * s])
        cv.ellipsoid("seminal_vesicle", sv, np.array([21, 5.5, 8]) * s * rng.uniform(0.8, 1.2),
                     f.rot(ry=-25), restrict=_SOFT_PELVIS)
    top = pc[2] + r[2] * 0.9
    _bladder(cv, s, rng, np.array([0, pc[1] - 12 * s, top]))
    base, apex = pc + rot @ np.array([0, 0, 0.6 * r[2]]), pc - rot @ np.array([0, 0, 0.6 * r[2]])
    for name, p in (("prostate_base", base), ("prostate_mid", pc), ("prostate_apex", apex)):
        cv.mark(name, p)
    return dict(centre=pc, radii=r, rot=rot)


def _bladder(cv: Canvas, s: float, rng, neck: np.ndarray) -> None:
    """Bladder resting on ``neck`` (wall of smooth muscle around urine), behind the symphysis."""
    fill = rng.uniform(0.6, 1.2)
    rb = np.array([42, 32, 32]) * s * fill ** (1 / 3)
    c = neck + np.array([0, -0.25 * rb[1], rb[2] * 0.95])
    cv.ellipsoid("bowel_wall", c, rb + 3, restrict=_SOFT_PELVIS + ("muscle",))
    cv.ellipsoid("urine", c, rb, restrict=("bowel_wall",))
    cv.mark("bladder", c)


def _uterus_ovaries(cv: Canvas, patient: Patient, s: float, rng) -> dict:
    """Vagina, cervix, anteverted uterus (myometrium, junctional zone, endometrium), ovaries, bladder; geometry."""
    post = patient.age >= 52  # postmenopausal atrophy of uterus, endometrium and ovaries [R]
    k = (0.7 if post else 1.0) * s * rng.uniform(0.9, 1.1)
    soft = _SOFT_PELVIS + ("muscle",)
    vag = [np.array(p) * s for p in [(0, 14, -80), (0, 10, -45), (0, 8, -12)]]
    cv.tube("bowel_wall", vag, 9 * s, restrict=soft)
    cv.tube("mucosa", vag, 2.5, restrict=("bowel_wall",))
    ver = rng.uniform(25, 75)  # anteversion of the uterine axis from vertical, degrees
    rot = rotation(rx_deg=ver)
    axis = rot @ np.array([0, 0, 1.0])
    cx = np.array([rng.uniform(-4, 4), 9 * s, 2 * s])
    cv.ellipsoid("cervix", cx, np.array([15, 14, 16]) * k, rot, restrict=soft)
    cv.ellipsoid("mucosa", cx, np.array([3, 2.5, 12]) * k, rot, restrict=("cervix",))
    body_r = np.array([25, 20, 28]) * k
    bc = cx + axis * (14 * k + body_r[2])
    cv.ellipsoid("myometrium", bc, body_r, rot, restrict=soft)
    endo_half = 1.5 if post else rng.uniform(2.5, 6.5)
    endo_r = np.array([0.45 * body_r[0], endo_half, 0.7 * body_r[2]])
    cv.ellipsoid("cervix", bc, endo_r + [4, 4, 4], rot, restrict=("myometrium",))  # junctional zone: T2-dark
    cv.ellipsoid("endometrium", bc, endo_r, rot, restrict=("myometrium", "cervix"))
    cv.mark("uterus", bc)
    cv.mark("cervix", cx)
    ovaries = {}
    for side in ("left", "right"):
        f = Frame((0, 0, 0), side)
        oc = np.asarray(f.p(48 * s, 16 * s, bc[2] - 5 * s)) + rng.uniform(-5, 5, 3)
        cv.ellipsoid("ovary", oc, np.array([14, 9, 11]) * (0.65 if post else 1.0) * s, restrict=_SOFT_PELVIS)
        cv.mark(f"ovary_{side}", oc)
        ovaries[side] = oc
    _bladder(cv, s, rng, np.array([0, -32 * s, -8 * s]))
    return dict(centre=bc, radii=body_r, endo_radii=endo_r, rot=rot, ovaries=ovaries)


def _paint_male(cv: Canvas, anat: dict, les: Lesion, rng) -> bool:
    """A peripheral-zone cancer in its sector (base/mid/apex), posterolateral on a random side."""
    pc, r, rot = anat["centre"], anat["radii"], anat["rot"]
    level = {"peripheral_zone_base": 0.5, "peripheral_zone_mid": 0.0, "peripheral_zone_apex": -0.55}[les.site]
    sg = 1.0 if rng.random() < 0.5 else -1.0
    cen = pc + rot @ np.array([sg * 0.5 * r[0], 0.55 * r[1], level * r[2]])
    radius = les.size_mm[0] / 2.0
    if not paint_lesion(cv, les, (les.tissue,), lambda: cv.blob(les.tissue, cen, radius, irregularity=0.25,
                                                                restrict=("prostate_pz",))):
        return False
    les.laterality = side_of(les.center_lps[0], tol=1.0)
    big = max(les.size_mm)
    les.attributes.update(zone="peripheral", pirads=5 if big >= 15 else (4 if big >= 8 else 3), necrotic=False)
    return True


def _paint_female(cv: Canvas, anat: dict, les: Lesion, rng) -> bool:
    """A fibroid at its depth in the uterine wall, or a simple cyst in one ovary."""
    radius = les.size_mm[0] / 2.0
    if les.kind == "uterine_fibroid":
        bc, body_r, endo_r, rot = anat["centre"], anat["radii"], anat["endo_radii"], anat["rot"]
        u = rng.normal(size=3)
        u /= np.linalg.norm(u)
        depth = {"submucosal": 0.35, "intramural": 0.7, "subserosal": 1.0}[les.site]
        wall = endo_r + (body_r - endo_r) * depth  # from the cavity (0) to the serosa (1)
        cen = bc + rot @ (u * wall)
        # only a submucosal fibroid indents the cavity; the others keep endometrium and junctional zone intact
        allowed = ("myometrium", "ovary") + _SOFT_PELVIS + (("endometrium", "cervix") if depth < 0.5 else ())

        def paint():  # the stretched myometrium wraps the fibroid, so a big one enlarges the uterus
            cv.ellipsoid("myometrium", cen, (radius + 4,) * 3, restrict=_SOFT_PELVIS)
            cv.blob(les.tissue, cen, radius, irregularity=0.05, restrict=allowed)

        ok = paint_lesion(cv, les, (les.tissue,), paint)
        if ok:
            les.laterality = None  # the catalogue treats fibroids as unlateralised
            les.attributes.update(count=1, necrotic=False)
        return ok
    side = "left" if rng.random() < 0.5 else "right"
    oc = anat["ovaries"][side]
    f = Frame((0, 0, 0), side)
    cen = oc + np.asarray(f.p(radius * 0.3, 0, radius * 0.2))

    def paint():  # a rim of ovarian stroma around a round unilocular cyst
        cv.ellipsoid("ovary", cen, (radius + 2.5,) * 3, restrict=_SOFT_PELVIS + ("ovary",))
        cv.ellipsoid(les.tissue, cen, (radius, radius * 0.9, radius * 0.95), restrict=("ovary",))

    if not paint_lesion(cv, les, (les.tissue,), paint):
        return False
    les.laterality = side_of(les.center_lps[0])
    return True

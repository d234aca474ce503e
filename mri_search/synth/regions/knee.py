"""Knee phantom: one knee (the imaged ``side``), slightly flexed, in a dedicated knee coil.

Local frame (``_msk_common.Frame``): origin on the joint line between the femoral and tibial cartilage, ``u``
lateral, ``y`` posterior, ``z`` up; the femur and the tibia each tilt a few degrees posteriorly away from the knee
(the knee rests flexed ~5-20 degrees on a pad, data/protocols.csv). Structures: distal femur (shaft, metaphysis,
condyles with the intercondylar notch), proximal tibia and tuberosity, fibular head, patella, hyaline cartilage,
C-shaped menisci (medial wider open, posterior horn largest), ACL/PCL, MCL/LCL, quadriceps and patellar tendons,
Hoffa's fat pad, a physiological film of joint fluid, quadriceps/hamstring/gastrocnemius/soleus/popliteus
muscles with the semimembranosus and biceps tendons, popliteal artery and vein, great saphenous vein, subcutaneous
fat and skin. The other knee lies ~20 cm away, outside the coil and outside the canvas.

Deep soft tissue is first painted with a placeholder label (``_DEEP``) so muscles, ligaments and fluid can be
confined to it without eating into the subcutaneous fat; what is left of it becomes fat at the end.
"""

from __future__ import annotations

import numpy as np

from .. import catalog
from ..physics.phantom import Canvas, Phantom, rotation
from ..physics.tissues import label_of
from ..types import Lesion, Patient
from ._msk_common import Frame, keep_changes_where, paint_lesion, severity_of, spacing_for

SUBREGIONS: tuple[str, ...] = ("knee",)

P_NORMAL = 0.30  # knee MRI for pain/injury: ~30% without a structural finding (brief; OAI-type cohorts) [E]
P_BAKER = 0.15  # popliteal cysts in ~5-20% of knee MRIs, commoner with age [R]
_DEEP = "mucosa"  # placeholder for deep knee soft tissue; never left in the finished phantom
_TEAR_TYPES = {"oblique": 0.35, "horizontal": 0.25, "vertical": 0.1, "radial": 0.15, "complex": 0.15}
_CONTUSION_SITE = {  # subchondral point of each contusion site (local, mm; scaled by body size)
    "lateral_femoral_condyle": ("f", (24, 0, 9)),
    "medial_femoral_condyle": ("f", (-24, 2, 9)),
    "lateral_tibial_plateau": ("t", (22, 16, -10)),
}


def _lesion(kind: str, rng, site: str | None = None, tissue: str = "") -> Lesion:
    site = site or catalog.draw_site(kind, rng)
    return Lesion(kind, site, None, tissue=tissue, size_mm=(catalog.draw_size(kind, rng),) * 3)


def sample_findings(patient: Patient, subregion: str, rng: np.random.Generator) -> tuple[list[Lesion], list[Lesion]]:
    """Draw meniscal/ACL injuries with their usual companions (contusions, effusion) and an incidental Baker's cyst."""
    if subregion not in SUBREGIONS:
        raise ValueError(f"knee builds {SUBREGIONS}, not {subregion!r}")
    lesions, incidentals = [], []
    if rng.random() >= P_NORMAL:
        u = rng.random()
        if u < 0.6:  # degenerative or traumatic meniscal tear
            lesions.append(_lesion("meniscal_tear", rng, tissue="meniscal_tear"))
            if rng.random() < 0.3:
                lesions.append(_lesion("joint_effusion", rng, tissue="joint_fluid"))
        elif u < 0.85:  # ACL tear: pivot-shift contusions, effusion, lateral meniscal tear (other_lesions.csv)
            lesions.append(_lesion("acl_tear", rng, tissue="tendon_tear"))
            for site in ("lateral_femoral_condyle", "lateral_tibial_plateau"):
                if rng.random() < 0.6:
                    lesions.append(_lesion("bone_contusion", rng, site, "marrow_edema"))
            if rng.random() < 0.7:
                lesions.append(_lesion("joint_effusion", rng, tissue="joint_fluid"))
            if rng.random() < 0.3:
                lesions.append(_lesion("meniscal_tear", rng, "lateral_meniscus_posterior_horn", "meniscal_tear"))
        elif u < 0.95:
            lesions.append(_lesion("bone_contusion", rng, tissue="marrow_edema"))
        else:
            lesions.append(_lesion("joint_effusion", rng, tissue="joint_fluid"))
    if rng.random() < P_BAKER * (1.4 if patient.age > 45 else 0.7):
        incidentals.append(_lesion("baker_cyst", rng, tissue="joint_fluid"))
    return lesions, incidentals


def build(patient: Patient, subregion: str, lesions: list[Lesion], incidentals: list[Lesion],
          rng: np.random.Generator, side: str | None = None) -> Phantom:
    """Paint the ``side`` ("left"/"right") knee and its findings."""
    if subregion not in SUBREGIONS:
        raise ValueError(f"knee builds {SUBREGIONS}, not {subregion!r}")
    if side not in ("left", "right"):
        raise ValueError(f"the knee exam is unilateral: pass side='left' or 'right', got {side!r}")
    s = patient.size_scale * rng.uniform(0.94, 1.06)
    joint = np.array([(1 if side == "left" else -1) * 95 * s, 0.0, 0.0])
    flex = rng.uniform(3, 10)
    ff = Frame(joint, side, rotation(rx_deg=-flex))  # femur: shaft runs up and back
    ft = Frame(joint, side, rotation(rx_deg=flex))  # tibia: shaft runs down and back
    fov = joint + np.array([0, 0, 8 * s])  # centred between the top of the patella and the tibial tuberosity
    half = np.array([100, 100, 113]) * max(s, 1.0) + np.array([0, 0, 8])  # FOV 160/2 + 30 mm; air beyond x, y
    cv = Canvas(fov - half, fov + half, spacing_for(-half, half, 215, 1.0), rng, warp_mm=2.0)
    S = lambda v: tuple(np.asarray(v, float) * s)  # noqa: E731 - scale local mm by body size
    F = lambda *v: ff.p(*S(v))  # noqa: E731
    T = lambda *v: ft.p(*S(v))  # noqa: E731
    bmi = patient.weight_kg / max(patient.height_m, 1.0) ** 2
    fat = float(np.clip(3 + 0.7 * (bmi - 18), 4, 20))

    # envelope: skin, subcutaneous fat, deep placeholder
    axis = [F(0, 10, 140), F(0, 6, 40), tuple(joint + [0, 5 * s, 0]), T(0, 6, -40), T(0, 16, -140)]
    radii = np.array([72, 60, 56, 54, 56]) * s + 0.4 * fat
    for tissue, r in (("skin", radii), ("fat", radii - 2), (_DEEP, radii - 2 - fat)):
        cv.tube(tissue, axis, r)
    _muscles(cv, F, T, S, ff, ft)
    lm = _bones_joint(cv, F, T, S, ff, ft, rng)
    cv.mark("fov_center", tuple(fov))
    for name, p in lm.items():
        cv.mark(name, p)

    kept = []
    for les in lesions + incidentals:
        if _paint_finding(cv, les, lm, F, T, S, ff, ft, rng):
            les.laterality = side  # the report names the imaged knee
            kept.append(les)
    lesions[:] = [les for les in lesions if les in kept]
    incidentals[:] = [les for les in incidentals if les in kept]
    cv.labels[cv.labels == label_of(_DEEP)] = label_of("fat")
    return cv.finish(int(rng.integers(2**31)))


def _muscles(cv, F, T, S, ff, ft) -> None:
    d = (_DEEP,)
    cv.ellipsoid("muscle", F(0, -6, 125), S((55, 42, 85)), restrict=d)  # quadriceps
    cv.ellipsoid("muscle", F(-26, -4, 62), S((24, 24, 32)), restrict=d)  # vastus medialis obliquus
    cv.ellipsoid("muscle", F(-24, 36, 115), S((22, 20, 80)), restrict=d)  # semimembranosus / semitendinosus
    cv.ellipsoid("muscle", F(28, 36, 115), S((22, 20, 80)), restrict=d)  # biceps femoris
    cv.ellipsoid("muscle", T(-21, 44, -62), S((21, 17, 62)), restrict=d)  # gastrocnemius medial head
    cv.ellipsoid("muscle", T(21, 42, -62), S((18, 15, 58)), restrict=d)  # gastrocnemius lateral head
    cv.ellipsoid("muscle", T(0, 36, -110), S((40, 18, 50)), restrict=d)  # soleus
    cv.ellipsoid("muscle", T(-4, 28, -36), S((24, 6, 11)), ft.rot(ry=-20), restrict=d)  # popliteus
    cv.ellipsoid("muscle", T(26, -8, -95), S((14, 14, 50)), restrict=d)  # tibialis anterior / extensors
    cv.tube("tendon", [F(-28, 36, 45), T(-30, 24, -18)], 4.5, restrict=d + ("muscle",))
    cv.tube("tendon", [F(34, 32, 45), T(42, 24, -36)], 4.5, restrict=d + ("muscle",))  # biceps to fibular head


def _bones_joint(cv, F, T, S, ff, ft, rng) -> dict:
    """Bones, cartilage, menisci, ligaments, tendons, fat pad, fluid, vessels; landmark points."""
    d = (_DEEP,)
    sc = S((1,))[0]  # the body-size factor as a plain number
    # tibia and fibula: cortical outlines first, marrow after, so the plateau and shaft share one marrow cavity
    tib = [("e", T(0, 6, -22), S((38, 27, 19)), ft.rot(), 3.0), ("e", T(0, 8, -46), S((28, 22, 25)), None, 2.0),
           ("e", T(0, -16, -48), S((12, 8, 14)), None, 2.0), ("e", T(0, 4, -4), S((5, 9, 5)), None, 2.0)]
    _bone(cv, tib, [(ft.pts([S((0, 8, -40)), S((0, 13, -170))]), 14 * sc)], restrict=None)
    _bone(cv, [("e", T(42, 24, -44), S((10, 10, 12)), None, 2.0)],
          [(ft.pts([S((42, 24, -50)), S((45, 24, -170))]), 8 * sc)], restrict=d + ("muscle", "tendon"))
    lm = {}
    # menisci on the tibial periphery, before the femur carves their inner wedge
    for name, cu, sgn, open_deg, rad in (("medial", -22, 1, 55, (4.6, 3.8, 3.0)), ("lateral", 22, -1, 32, (3.8,) * 3)):
        phis = np.radians(np.linspace(open_deg, 360 - open_deg, 24))
        pts = [T(cu + sgn * 14 * np.cos(p), 6 + 22 * np.sin(p), 1.5) for p in phis]
        r = np.interp(np.linspace(0, 1, 24), [0, 0.5, 1], rad) * sc
        cv.tube("meniscus", pts, r, restrict=d)
        for part, frac in (("posterior_horn", 0.12), ("body", 0.5), ("anterior_horn", 0.88)):
            p = np.radians(open_deg + frac * (360 - 2 * open_deg))
            lm[f"{name}_meniscus_{part}"] = np.asarray(T(cu + sgn * 14 * np.cos(p), 6 + 22 * np.sin(p), 1.5))
            lm[f"{name}_meniscus_{part}_tangent"] = np.asarray(ft.rot() @ (ft.mirror @ np.array(
                [-sgn * np.sin(p), np.cos(p), 0.0])))
            lm[f"{name}_meniscus_{part}_normal"] = np.asarray(ft.rot() @ (ft.mirror @ np.array(
                [sgn * np.cos(p), np.sin(p), 0.0])))
    # femur: cartilage shells first (condyles, trochlea), then bone
    before = cv.labels.copy()
    for cu in (-24, 24):
        cv.ellipsoid("cartilage", F(cu, 9, 23.5), S((17.5, 32.5, 23)), restrict=d + ("meniscus",))
    # condylar cartilage covers the weight-bearing and posterior surfaces, not the side walls
    keep_changes_where(cv, before, lambda p: (lambda q: (q[:, 2] < 14 * sc) | (q[:, 1] > 22 * sc))(ff.local(p)))
    cv.ellipsoid("cartilage", F(0, -10, 36), S((28, 14, 20)), restrict=d)
    fem = [("e", F(0, 4, 40), S((36, 26, 30)), None, 2.0), ("e", F(-24, 10, 25), S((16, 31, 22)), None, 2.0),
           ("e", F(24, 8, 25), S((16, 30, 22)), None, 2.0)]
    _bone(cv, fem, [(ff.pts([S((0, 5, 45)), S((0, 10, 170))]), 15 * sc)], restrict=None)
    for cu in (-20, 20):  # tibial plateau cartilage above the bone
        cv.ellipsoid("cartilage", T(cu, 6, -1.5), S((15, 20, 2.2)), restrict=d)
    # patella with its cartilage facing the trochlea; patellofemoral fluid film
    cv.ellipsoid("cartilage", F(0, -37, 34), S((20, 9, 19)), restrict=d)
    _bone(cv, [("e", F(0, -40, 34), S((22, 9.5, 22)), None, 1.5)], [], restrict=None)
    cv.ellipsoid("joint_fluid", F(0, -27.5, 34), S((20, 1.6, 18)), restrict=d)
    # ligaments and tendons (only through soft tissue: their ends stop at the bone)
    lig = d + ("ligament_fat_pad", "fat", "joint_fluid")
    acl = [F(9, 22, 16), T(-3, -8, -2)]
    pcl = [F(-7, 6, 18), T(0, 31, -10)]
    cv.tube("tendon", acl, 4.5 * sc, restrict=lig)
    cv.tube("tendon", pcl, 5.5 * sc, restrict=lig)
    cv.tube("tendon", [F(-43, 8, 35), F(-43, 6, 2), T(-30, 4, -55)], 2.5, restrict=lig + ("muscle",))  # MCL
    cv.tube("tendon", [F(42, 12, 32), T(47, 24, -40)], 2.5, restrict=lig + ("muscle",))  # LCL
    for du in (-9, -4.5, 0, 4.5, 9):  # flat tendons as a row of overlapping cords
        cv.tube("tendon", [F(du, -46, 12), T(du * 0.8, -27, -46)], 3.2, restrict=lig + ("muscle",))
        cv.tube("tendon", [F(du, -44, 54), F(du * 1.2, -38, 100)], 3.5, restrict=lig + ("muscle",))
    lm.update(acl_femoral=np.asarray(acl[0]), acl_tibial=np.asarray(acl[1]))
    cv.ellipsoid("ligament_fat_pad", T(0, -20, 2), S((24, 12, 15)), restrict=d)  # Hoffa's fat pad
    cv.ellipsoid("joint_fluid", F(0, -26, 60), S((22, 1.8, 14)), restrict=d)  # suprapatellar recess (physiological)
    # vessels of the popliteal fossa and the great saphenous vein
    pop = np.array([F(-10, 44, 130), F(-2, 44, 30), T(0, 44, -10), T(3, 34, -75)])
    cv.tube("vein", pop + np.array([3.0 * ff.lat, 6.0, 0]), 4.5, restrict=d + ("muscle", "fat"))
    cv.tube("artery", pop, 3.5, restrict=d + ("muscle", "fat", "vein"))
    cv.tube("vein", [F(-56, 14, 120), F(-54, 12, 0), T(-50, 6, -120)], 2.5, restrict=("fat",))
    lm.update(suprapatellar_recess=np.asarray(F(0, -26, 60)), popliteal=np.asarray(T(-24, 38, -8)))
    for site, (seg, p) in _CONTUSION_SITE.items():
        lm[site] = np.asarray((F if seg == "f" else T)(*p))
    return lm


def _bone(cv, ellipsoids, tubes, restrict) -> None:
    """Cortical outlines of a bone's parts, then their marrow (yellow: adult epiphyses and shafts are fatty)."""
    for _, c, r, rot, _cortex in ellipsoids:
        cv.ellipsoid("cortical_bone", c, r, rot, restrict=restrict, power=3 if rot is not None else 2)
    for pts, r in tubes:
        cv.tube("cortical_bone", pts, r, restrict=restrict)
    for _, c, r, rot, cortex in ellipsoids:
        cv.ellipsoid("marrow_yellow", c, np.asarray(r) - cortex, rot, restrict=("cortical_bone",),
                     power=3 if rot is not None else 2)
    for pts, r in tubes:
        cv.tube("marrow_yellow", pts, r - 4.0, restrict=("cortical_bone",))


def _plane(cv, tissue, centre, axes, half, restrict) -> None:
    """A thin box whose local axes are the given world directions (columns)."""
    cv.box(tissue, centre, half, rot=np.column_stack(axes), restrict=restrict)


def _paint_finding(cv, les: Lesion, lm: dict, F, T, S, ff, ft, rng) -> bool:
    up = ft.rot() @ np.array([0, 0, 1.0])
    size = les.size_mm[0]
    if les.kind == "meniscal_tear":
        c, t, n = (lm[les.site + k] for k in ("", "_tangent", "_normal"))
        ttype = list(_TEAR_TYPES)[int(rng.choice(len(_TEAR_TYPES), p=list(_TEAR_TYPES.values())))]
        length = float(np.clip(size, 6, 22))

        def paint():  # a fluid-signal cleft through the meniscus reaching an articular surface
            m = ("meniscus",)
            if ttype in ("horizontal", "complex"):
                _plane(cv, les.tissue, c - 2.0 * n, (t, n, up), (length / 2, 5.0, 1.0), m)
            if ttype == "oblique":
                tilt = np.radians(35)
                _plane(cv, les.tissue, c - 1.5 * up, (t, np.cos(tilt) * n + np.sin(tilt) * up,
                                                      -np.sin(tilt) * n + np.cos(tilt) * up), (length / 2, 6.0, 1.0), m)
            if ttype == "vertical":
                _plane(cv, les.tissue, c, (t, n, up), (length / 2, 1.0, 6.0), m)
            if ttype in ("radial", "complex"):
                _plane(cv, les.tissue, c - 3.0 * n, (t, n, up), (1.0, 6.0, 6.0), m)

        les.attributes["tear_type"] = ttype
        return paint_lesion(cv, les, (les.tissue,), paint)
    if les.kind == "acl_tear":
        a, b = lm["acl_femoral"], lm["acl_tibial"]
        complete = bool(rng.random() < 0.7)
        gap = float(np.clip(size, 8, 20)) / np.linalg.norm(b - a)
        t0 = rng.uniform(0.3, 0.6 - gap / 2) if gap < 0.6 else 0.2
        p0, p1 = a + (b - a) * t0, a + (b - a) * min(t0 + gap, 0.85)
        side_off = np.cross(b - a, up)
        side_off = side_off / max(np.linalg.norm(side_off), 1e-6)

        def paint():  # complete: the mid-substance replaced by fluid/oedema; partial: a cleft in half the fibres
            if complete:
                cv.tube(les.tissue, [p0, p1], 5.5, restrict=("tendon", _DEEP, "ligament_fat_pad", "fat"))
            else:
                cv.tube(les.tissue, [p0 + 2.0 * side_off, p1 + 2.0 * side_off], 2.2, restrict=("tendon",))

        les.attributes["complete"] = complete
        return paint_lesion(cv, les, (les.tissue,), paint)
    if les.kind == "bone_contusion":
        c = lm[les.site]
        return paint_lesion(cv, les, (les.tissue,), lambda: cv.blob(les.tissue, c, size / 2, irregularity=0.4,
                                                                    restrict=("marrow_yellow",)))
    if les.kind == "joint_effusion":
        c = lm["suprapatellar_recess"]
        depth = float(np.clip(size, 5, 25))

        def paint():  # suprapatellar recess distended between quadriceps tendon and prefemoral fat
            cv.ellipsoid(les.tissue, c - np.array([0, 0.15 * depth, 0]), (26 + depth, depth / 2, 18 + depth),
                         restrict=(_DEEP, "joint_fluid", "ligament_fat_pad"))

        if not paint_lesion(cv, les, (les.tissue,), paint):
            return False
        les.attributes["severity"] = severity_of(les.size_mm[0], 10.0, 20.0)
        if les.attributes["severity"] != "small":  # fluid also fills the posterior recesses
            for cu in (-20, 20):
                cv.ellipsoid("joint_fluid", F(cu, 36, 22), S((12, 3 + depth / 6, 14)), restrict=(_DEEP,))
        return True
    if les.kind == "baker_cyst":
        c = lm["popliteal"]

        def paint():  # between the medial gastrocnemius head and semimembranosus, with a neck to the joint
            cv.ellipsoid(les.tissue, c - np.array([0, 0, size * 0.2]), (size * 0.28, size * 0.3, size / 2),
                         restrict=(_DEEP, "muscle"))
            cv.tube(les.tissue, [F(-18, 36, 16), c], 2.5, restrict=(_DEEP, "muscle"))

        return paint_lesion(cv, les, (les.tissue,), paint)
    return False

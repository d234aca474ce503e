"""Shoulder phantom: one shoulder (the imaged ``side``), arm at the side, in a dedicated shoulder coil.

Local frame (``_msk_common.Frame``): origin at the humeral head centre, ``u`` lateral, ``y`` posterior, ``z`` up;
the head sits ~17.5 cm from the midline (biacromial breadth ~40 cm). Structures: humeral head (cartilage cap),
tuberosities, neck and shaft; glenoid with cartilage and fibrocartilage labrum ("meniscus"), scapular neck, blade,
spine, acromion and coracoid; clavicle and the AC joint; the rotator cuff tendons draped over the head
(supraspinatus superiorly, infraspinatus/teres minor posteriorly, subscapularis anteriorly) and their muscle
bellies on the scapula; deltoid, trapezius, pectoralis, arm muscles; long head of biceps in the bicipital groove;
the upper rib cage and lung apex medially; axillary artery and vein; subcutaneous fat and skin. The
subacromial-subdeltoid bursa is a collapsed fat plane unless bursitis fills it.

As in the knee, deep soft tissue is painted with a placeholder (``_DEEP``) that ends up as fat.
"""

from __future__ import annotations

import numpy as np

from .. import catalog
from ..physics.phantom import Canvas, Phantom
from ..physics.tissues import label_of
from ..types import Lesion, Patient
from ._msk_common import Frame, keep_changes_where, paint_lesion, severity_of, spacing_for

SUBREGIONS: tuple[str, ...] = ("shoulder",)

P_NORMAL = 0.30  # shoulder MRI for pain/instability: ~30% without a cuff/bursal finding (brief) [E]
P_BURSITIS_WITH_TEAR = 0.4  # bursal fluid commonly accompanies cuff tears (other_lesions.csv example) [E]
P_FULL_THICKNESS = 0.5  # partial vs full-thickness tears in symptomatic cohorts, roughly even [E]
_DEEP = "mucosa"  # placeholder for deep soft tissue; never left in the finished phantom
_CUFF_R = 30.5  # outer radius of the cuff over a 24 mm head (tendon ~6 mm thick), mm before body scaling
# direction from the head centre to each tendon's footprint (local u, y, z), and the direction its width runs along
_TEAR_DIR = {"supraspinatus": ((0.72, -0.12, 0.68), (0, 1, 0)), "infraspinatus": ((0.45, 0.7, 0.55), (0, 0, 1)),
             "subscapularis": ((0.3, -0.85, 0.35), (0, 0, 1))}


def sample_findings(patient: Patient, subregion: str, rng: np.random.Generator) -> tuple[list[Lesion], list[Lesion]]:
    """Draw a rotator cuff tear (with or without bursitis) or isolated subacromial bursitis."""
    if subregion not in SUBREGIONS:
        raise ValueError(f"shoulder builds {SUBREGIONS}, not {subregion!r}")
    lesions: list[Lesion] = []
    if rng.random() >= P_NORMAL:
        tear = rng.random() < 0.75 + 0.1 * (patient.age > 55)  # cuff tears rise with age (csv)
        if tear:
            site = catalog.draw_site("rotator_cuff_tear", rng)
            lesions.append(Lesion("rotator_cuff_tear", site, None, tissue="tendon_tear",
                                  size_mm=(catalog.draw_size("rotator_cuff_tear", rng),) * 3))
        if not tear or rng.random() < P_BURSITIS_WITH_TEAR:
            lesions.append(Lesion("subacromial_bursitis", "subacromial_bursa", None, tissue="joint_fluid",
                                  size_mm=(catalog.draw_size("subacromial_bursitis", rng),) * 3))
    return lesions, []


def build(patient: Patient, subregion: str, lesions: list[Lesion], incidentals: list[Lesion],
          rng: np.random.Generator, side: str | None = None) -> Phantom:
    """Paint the ``side`` ("left"/"right") shoulder and its findings."""
    if subregion not in SUBREGIONS:
        raise ValueError(f"shoulder builds {SUBREGIONS}, not {subregion!r}")
    if side not in ("left", "right"):
        raise ValueError(f"the shoulder exam is unilateral: pass side='left' or 'right', got {side!r}")
    s = patient.size_scale * rng.uniform(0.94, 1.06)
    origin = np.array([(1 if side == "left" else -1) * 175 * s, 0.0, 0.0])
    fr = Frame(origin, side)
    box_lo, box_hi = np.array([-135, -120, -125]) * s, np.array([75, 120, 85]) * s
    corners = np.array([fr.p(*box_lo), fr.p(*box_hi)])
    cv = Canvas(corners.min(0), corners.max(0), spacing_for(box_lo, box_hi, 215, 1.0), rng, warp_mm=2.0)
    P = lambda *v: fr.p(*(np.asarray(v, float) * s))  # noqa: E731 - local mm, scaled, to LPS
    S = lambda v: tuple(np.asarray(v, float) * s)  # noqa: E731
    R = fr.rot
    bmi = patient.weight_kg / max(patient.height_m, 1.0) ** 2
    fat = float(np.clip(3 + 0.8 * (bmi - 18), 4, 22))

    # envelope: torso, shoulder cap, trapezius ridge, arm; then the upper rib cage and lung apex
    parts = [("e", P(-175, 8, -150), S((180, 110, 215))), ("e", P(-5, 5, -5), S((58, 56, 58))),
             ("e", P(-95, 22, 20), S((95, 45, 40))), ("t", [P(8, 4, -20), P(14, 8, -250)], 45 * s)]
    for tissue, shrink in (("skin", 0.0), ("fat", 2.0), (_DEEP, 2.0 + fat)):
        for kind, c, r in parts:
            if kind == "e":
                cv.ellipsoid(tissue, c, np.asarray(r) - shrink)
            else:
                cv.tube(tissue, c, r - shrink)
    rib_c, rib_r = P(-175, -15, -120), np.array([108, 78, 150]) * s
    cv.layers([("cortical_bone", rib_r), ("marrow_red", rib_r - 2), ("cortical_bone", rib_r - 6),
               ("lung", rib_r - 8)], rib_c)
    ring = np.argwhere(np.isin(cv.labels, [label_of("cortical_bone"), label_of("marrow_red")]))
    z = (cv.origin + ring * cv.spacing)[:, 2]
    gap = ring[(z + rng.uniform(0, 26)) % 26.0 > 12.0]  # ribs 12 mm, intercostal spaces 14 mm
    cv.labels[tuple(gap.T)] = label_of("muscle")

    d = (_DEEP,)
    for c, r, rz in [((8, 2, -15), (50, 52, 55), 0), ((-70, 28, 32), (50, 14, 13), -20),  # deltoid, supraspinatus
                     ((-80, 46, -38), (55, 11, 45), -35), ((-48, 40, -62), (30, 10, 12), -35),  # infraspin., t. minor
                     ((-82, 24, -38), (55, 11, 45), -35), ((-95, 32, 34), (90, 25, 22), -15),  # subscap., trapezius
                     ((-110, -48, -45), (90, 18, 60), 10)]:  # pectoralis
        cv.ellipsoid("muscle", P(*c), S(r), R(rz=rz), restrict=d)
    cv.tube("muscle", [P(10, 4, -65), P(14, 8, -250)], 38 * s, restrict=d)  # biceps/triceps/brachialis
    lm = _bones_cuff(cv, P, S, R, fr, s)
    cv.mark("fov_center", P(-10, 0, 5))
    for name, p in lm.items():
        cv.mark(name, p)

    kept = []
    for les in lesions:
        if _paint_finding(cv, les, fr, P, s, rng):
            les.laterality = side  # the report names the imaged shoulder
            kept.append(les)
    lesions[:] = kept
    incidentals[:] = []
    cv.labels[cv.labels == label_of(_DEEP)] = label_of("fat")
    return cv.finish(int(rng.integers(2**31)))


def _bones_cuff(cv, P, S, R, fr, s) -> dict:
    """Humerus, scapula, clavicle, cartilage, labrum, cuff tendons, biceps, vessels; landmark points."""
    soft = (_DEEP, "muscle")
    before = cv.labels.copy()
    cv.ellipsoid("tendon", P(0, 0, 0), S((_CUFF_R,) * 3), restrict=soft)
    # the cuff is a hood over the top, front and back of the head: not below the equator or around the neck
    def hood(p: np.ndarray) -> np.ndarray:
        q = fr.local(p)
        return (q[:, 2] > -12 * s) & ~((q[:, 0] > 14 * s) & (q[:, 2] < 2 * s))

    keep_changes_where(cv, before, hood)
    cv.ellipsoid("cartilage", P(-2.5, 0, 0), S((25.5, 25.5, 25.5)), restrict=soft + ("tendon",))
    hum = [(P(0, 0, 0), S((24, 24, 24))), (P(17, -2, 8), S((11, 14, 12))), (P(2, -21, -2), S((8, 7, 10))),
           (P(6, 0, -22), S((20, 20, 25)))]
    _bone(cv, hum, [[P(8, 2, -35), P(14, 8, -250)]], 12 * s, "marrow_yellow", restrict=None)
    cv.ellipsoid("cartilage", P(-29.5, 0, 0), S((3, 13, 19)), restrict=soft + ("tendon",))  # glenoid cartilage
    scap = [(P(-38, 0, 0), S((8, 14, 20))), (P(-50, 8, -5), S((15, 12, 18))), (P(8, 10, 40), S((22, 18, 5)))]
    _bone(cv, scap, [], 0, "marrow_red", restrict=soft + ("tendon",))
    cv.ellipsoid("cortical_bone", P(-90, 40, -40), S((55, 4, 65)), R(rz=-35), restrict=soft)  # blade
    cv.ellipsoid("marrow_red", P(-90, 40, -40), S((53, 2, 63)), R(rz=-35), restrict=("cortical_bone",))
    for pts, r, mar in [([P(-10, 22, 36), P(-50, 32, 28), P(-125, 58, 8)], 6 * s, "marrow_red"),  # spine
                        ([P(-42, -4, 16), P(-30, -30, 12)], 6 * s, "marrow_red"),  # coracoid
                        ([P(-24, -4, 42), P(-70, -18, 40), P(-135, -30, 25)], 8 * s, "marrow_red")]:  # clavicle
        _bone(cv, [], [pts], r, mar, restrict=soft + ("tendon", "lung"))
    cv.ellipsoid("cartilage", P(-15, 0, 41), S((2.5, 8, 5)), restrict=("cortical_bone", "marrow_red") + soft)
    phis = np.radians(np.arange(0, 361, 20))  # labrum ring on the glenoid rim
    cv.tube("meniscus", [P(-29, 14 * np.cos(p), 20 * np.sin(p)) for p in phis], 2.8 * s, restrict=soft + ("tendon",))
    cv.tube("tendon", [P(14, -21, -70), P(11, -22, -12), P(4, -16, 22), P(-28, -4, 22)], 2.5 * s,
            restrict=soft + ("tendon", "joint_fluid"))  # long head of biceps
    cv.ellipsoid("joint_fluid", P(-6, 0, -27), S((8, 10, 3)), restrict=soft)  # axillary recess, physiological
    art = np.array([P(-135, -25, 8), P(-70, -25, -25), P(-25, -12, -62), P(-4, 0, -140)])
    cv.tube("vein", art + np.array([0, -7 * s, -3 * s]), 6 * s, restrict=soft + ("fat",))
    cv.tube("artery", art, 4 * s, restrict=soft + ("fat", "vein"))
    return {"humeral_head": np.asarray(P(0, 0, 0)), "glenoid": np.asarray(P(-31, 0, 0)),
            "acromion": np.asarray(P(8, 10, 40)), "subacromial_bursa": np.asarray(P(10, 0, 33)),
            **{t: np.asarray(P(*(np.asarray(v) * 27.5))) for t, (v, _) in _TEAR_DIR.items()}}


def _bone(cv, ellipsoids, tubes, tube_r, marrow, restrict) -> None:
    """Cortical outlines of a bone's parts first, then their marrow."""
    for c, r in ellipsoids:
        cv.ellipsoid("cortical_bone", c, r, restrict=restrict)
    for pts in tubes:
        cv.tube("cortical_bone", pts, tube_r, restrict=restrict)
    for c, r in ellipsoids:
        cv.ellipsoid(marrow, c, np.asarray(r) - 2.0, restrict=("cortical_bone",))
    for pts in tubes:
        cv.tube(marrow, pts, max(tube_r - 2.5, 0.5), restrict=("cortical_bone",))


def _paint_finding(cv, les: Lesion, fr: Frame, P, s: float, rng) -> bool:
    head = np.asarray(P(0, 0, 0))
    if les.kind == "rotator_cuff_tear":
        v, w = (np.asarray(a, float) for a in _TEAR_DIR[les.site])
        dr = fr.mirror @ (v / np.linalg.norm(v))  # radial direction in LPS (Frame has no extra rotation here)
        wd = fr.mirror @ w
        wd = wd - (wd @ dr) * dr
        wd /= np.linalg.norm(wd)
        rot = np.column_stack([dr, wd, np.cross(dr, wd)])
        full = bool(rng.random() < P_FULL_THICKNESS)
        width = float(les.size_mm[0])
        # full thickness: fluid across bursal to articular surface; partial: the articular half only (commonest)
        r_mid, half_t = ((24 + _CUFF_R) / 2, 5.0) if full else (25.2, 1.8)
        cen = head + dr * r_mid * s

        def paint():
            cv.ellipsoid(les.tissue, cen, (half_t, width / 2, max(width * 0.35, 3.0)), rot, restrict=("tendon",))

        les.attributes["thickness"] = "full" if full else "partial"
        return paint_lesion(cv, les, (les.tissue,), paint)
    if les.kind == "subacromial_bursitis":
        t = float(np.clip(les.size_mm[0], 2, 8))

        def paint():  # fluid between the cuff and the acromion/deltoid, over the top and lateral head
            before = cv.labels.copy()
            cv.ellipsoid(les.tissue, head, (_CUFF_R * s + t,) * 3, restrict=(_DEEP, "muscle"))
            keep_changes_where(cv, before, lambda p: (lambda q: (q[:, 2] > 0) & (q[:, 0] > -22 * s)
                                                      & (np.abs(q[:, 1]) < 30 * s))(fr.local(p)))

        if not paint_lesion(cv, les, (les.tissue,), paint):
            return False
        les.attributes["severity"] = severity_of(t, 3.5, 6.0)
        return True
    return False

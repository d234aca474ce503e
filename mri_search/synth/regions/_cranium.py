"""The cranial half of the shared head-and-neck body: skin and fat of the head, skull tables and diploe, the
brain (cortex, white matter, deep nuclei, ventricles, posterior fossa) and its vessels and sinuses. The face and
neck half is ``_head_neck_anatomy``; ``_head_neck_anatomy.paint_head_and_neck`` paints both.
"""

from __future__ import annotations

import numpy as np

from ..physics.phantom import Canvas, rotation
from ._head_common import BRAIN, HeadShape, ellipsoid_layers, loft


def outline_and_cranium(cv: Canvas, h: HeadShape) -> None:
    """Skin, subcutaneous fat and muscle of head, face and neck; scalp, skull tables, diploe and CSF."""
    P, R = h.p, h.r
    fat = h.fat_mm
    neck = [(40, 0, 30, 55, 60), (10, 0, 22, 58, 62), (-30, 0, 10, 57, 62), (-70, 0, 8, 58, 62),
            (-110, 0, 10, 62, 62), (-130, 0, 14, 90, 68), (-150, 0, 18, 150, 85), (-175, 0, 20, 172, 100),
            (-280, 0, 20, 176, 104)]
    neck = [(P(0, 0, z)[2], cx, cy * h.s[1], rx * h.s[0], ry * h.s[1]) for z, cx, cy, rx, ry in neck]
    # cranial cavity (inner table): cerebrum + deeper posterior fossa
    cran = [(P(0, 8, 88), R(66, 84, 68)), (P(0, 50, 42), R(52, 38, 27))]
    face = (P(0, -35, 15), R(64, 62, 60))
    extras = [(P(0, -60, -47), R(42, 30, 22)), (P(0, -40, -50), R(40, 24, 14)),  # chin, submental
              (P(0, -96, 18), R(10, 12, 22))]  # nose
    # skin, fat, muscle: later outlines only fill what is still outside (or skin) so the union nests correctly
    loft(cv, neck, [("skin", 0.0, None), ("fat", 2.0, None), ("muscle", 2.0 + fat, None)])
    for tissue, inset, restrict in (("skin", 0.0, ("background",)), ("fat", 2.0, ("background", "skin"))):
        ellipsoid_layers(cv, cran, [(tissue, 12.0 - inset, restrict)])
        cv.ellipsoid(tissue, face[0], np.asarray(face[1]) - inset, power=2.6, restrict=restrict)
        for c, r in extras:
            cv.ellipsoid(tissue, c, np.asarray(r) - inset, restrict=restrict)
    # skull: outer table, diploe, inner table, CSF; the galea/temporalis sit in the scalp fat
    ellipsoid_layers(cv, cran, [("cortical_bone", 7.0, None), (h.marrow, 5.0, ("cortical_bone",)),
                                ("cortical_bone", 2.5, None), ("csf", 0.0, None)])
    for sgn in (1, -1):
        cv.ellipsoid("muscle", P(sgn * 68, -8, 50), R(4, 26, 24), restrict=("fat",))  # temporalis


def _surface_point(c, r, u, f: float) -> np.ndarray:
    """Point at fraction ``f`` of the way from the centre to an ellipsoid's surface along unit direction ``u``."""
    return np.asarray(c) + f * np.asarray(r) * u


def paint_brain(cv: Canvas, h: HeadShape, rng: np.random.Generator) -> None:
    """Cerebrum (cortex with sulci, white matter, deep grey nuclei, ventricles, corpus callosum), posterior fossa
    (tentorium, cerebellum, brainstem, fourth ventricle), skull base floors, basal cisterns, vessels, sinuses."""
    P, R, T = h.p, h.r, h.t
    ms = h.midline_shift
    c_gm = P(0, 8, 88)
    r_gm = np.asarray(R(66, 84, 68)) - h.sulcal_mm
    cv.ellipsoid("grey_matter", c_gm, r_gm, restrict=("csf",))
    r_wm = r_gm - 10.0
    cv.ellipsoid("white_matter", P(0, 8, 90), r_wm, restrict=("grey_matter",))
    cv.box("grey_matter", P(0, 8, 125), R(4.5, 80, 42), restrict=("white_matter",))  # medial cortex
    # gyri and sulci: radial sheets (white-matter cores, CSF-filled sulci) fold the smooth ellipsoids into a ribbon
    for n, (tissue, f, half) in enumerate((("white_matter", 0.88, (1.6, 11.0, 5.0)), ("csf", 0.93, (0.6, 13.0, 6.5)))):
        dirs = rng.normal(size=(60 if n == 0 else 110, 3))
        dirs[:, 2] = np.abs(dirs[:, 2]) * 1.2 - 0.35  # mostly convexity, few on the base
        dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
        for u in dirs:
            e1 = np.cross(u, rng.normal(size=3))
            e1 /= np.linalg.norm(e1)
            rot = np.stack([e1, np.cross(u, e1), u], axis=1)  # sheet normal, sheet length, depth along u
            cv.box(tissue, _surface_point(c_gm, r_gm, u, f), half, rot=rot,
                   restrict=("grey_matter", "white_matter"))
    for sgn in (1, -1):
        cv.ellipsoid("grey_matter", P(sgn * 39 + ms, -2, 78), R(4, 20, 14), restrict=("white_matter",))  # insula
        cv.tube("csf", [P(sgn * 44, -25, 70), P(sgn * 47, 0, 76), P(sgn * 50, 25, 86)], T(2.2),
                restrict=BRAIN)  # sylvian fissure
        cv.ellipsoid("grey_matter", P(sgn * 14 + ms, -14, 96), R(6, 10, 8))  # caudate head
        cv.ellipsoid("grey_matter", P(sgn * 24 + ms, -2, 82), R(7, 16, 11))  # lentiform nucleus
        cv.ellipsoid("grey_matter", P(sgn * 10 + ms, 18, 84), R(9, 15, 10))  # thalamus
    # interhemispheric fissure with the falx; its deep part follows any subfalcine shift
    cv.box("csf", P(0, 8, 140), R(1.2, 86, 30), restrict=BRAIN)
    for y in (-45, 70):
        cv.box("csf", P(ms * 0.5, y, 95), R(1.2, 22, 30), restrict=BRAIN)
    cv.box("tendon", P(0, 8, 150), R(0.5, 84, 20), restrict=("csf",))
    vs = h.ventricle
    for sgn in (1, -1):
        x = sgn * 7 * (0.7 + 0.3 * vs) + ms
        cv.ellipsoid("csf", (x, *P(0, 8, 99)[1:]), R(5.0 * vs, 28, 5.5 * vs))  # body
        cv.ellipsoid("csf", (x + sgn * 3, *P(0, -20, 96)[1:]), R(5.5 * vs, 11, 7.5 * vs))  # frontal horn
        cv.ellipsoid("csf", (x + sgn * 13, *P(0, 38, 92)[1:]), R(6.5 * vs, 12, 8 * vs))  # atrium
        cv.tube("csf", [(x + sgn * 13, *P(0, 38, 92)[1:]), P(sgn * 30 + ms, 25, 72), P(sgn * 32, 5, 62)],
                T(2.6 * vs))  # temporal horn
    cv.box("csf", P(ms, 5, 78), R(1.8 * vs, 13, 9))  # third ventricle
    cv.tube("white_matter", [P(ms * 0.5, -28, 92), P(ms, -22, 104), P(ms, 0, 110), P(ms, 30, 106),
                             P(ms * 0.5, 44, 96)], [T(5.5), T(4.0), T(3.5), T(4.0), T(6.5)])  # corpus callosum
    # skull-base floors cut the ellipsoidal cavity: anterior fossa (orbital roofs), middle fossae, sphenoid body
    for c, half in ((P(0, -55, 38), R(62, 38, 17)), (P(45, -2, 20), R(28, 23, 12)), (P(-45, -2, 20), R(28, 23, 12)),
                    (P(0, -8, 30), R(17, 17, 20))):
        cv.box("cortical_bone", c, half, restrict=BRAIN)
        cv.box(h.marrow, c, np.asarray(half) - 4, restrict=("cortical_bone",))
    for sgn in (1, -1):  # petrous ridges, running anteromedially
        cv.ellipsoid("cortical_bone", P(sgn * 36, 20, 30), R(24, 8, 9), rot=rotation(rz_deg=sgn * 35))
    # posterior fossa: cisterna magna, tentorium, cerebellum, brainstem, fourth ventricle
    c_pf = P(0, 52, 40)
    cv.ellipsoid("csf", c_pf, R(49, 32, 22), restrict=BRAIN)
    cv.shell("tendon", c_pf, R(49, 32, 22), 1.2, restrict=BRAIN)  # tentorium: keep only its upper half
    cv.box("csf", P(0, 52, 28), R(55, 40, 14), restrict=("tendon",))
    for sgn in (1, -1):
        cv.ellipsoid("grey_matter", P(sgn * 23, 53, 39), R(27, 29, 21), restrict=("csf",))
        cv.ellipsoid("white_matter", P(sgn * 19, 50, 41), R(11, 12, 9), restrict=("grey_matter",))
        for k in range(5):  # cerebellar folia: thin CSF fissures
            cv.box("csf", P(sgn * 23, 55 + 3 * k, 30 + 5 * k), R(24, 14, 0.5), rot=rotation(rx_deg=-40 + 12 * k),
                   restrict=("grey_matter",))
    cv.ellipsoid("grey_matter", P(0, 58, 40), R(9, 20, 17), restrict=BRAIN + ("tendon",))  # vermis
    cv.box("cortical_bone", P(0, 5, 33), R(10, 5.5, 20), rot=rotation(rx_deg=29))  # clivus
    cv.box(h.marrow, P(0, 5, 33), R(7, 3, 18), rot=rotation(rx_deg=29), restrict=("cortical_bone",))
    cv.ellipsoid("csf", P(0, 15, 45), R(11, 5, 18), restrict=BRAIN + (h.marrow, "cortical_bone"))  # prepontine
    cv.ellipsoid("csf", P(0, 0, 62), R(11, 9, 6), restrict=BRAIN)  # suprasellar cistern
    cv.ellipsoid("grey_matter", P(0, -8, 52), R(6, 5, 4))  # pituitary
    cv.tube("white_matter", [P(0, 31, 8), P(0, 30, 22), P(0, 28, 38)], T(8.5))  # medulla
    cv.ellipsoid("white_matter", P(0, 27, 50), R(15, 12, 13))  # pons
    cv.tube("white_matter", [P(0, 25, 58), P(ms * 0.5, 20, 72)], T(11))  # midbrain
    cv.ellipsoid("csf", P(0, 42, 46), R(7, 4, 7))  # fourth ventricle
    cv.tube("csf", [P(0, 38, 52), P(ms * 0.5, 25, 72)], T(1.0))  # aqueduct
    _brain_vessels(cv, h)


def _brain_vessels(cv: Canvas, h: HeadShape) -> None:
    """Circle of Willis branches (ICA, MCA, ACA, PCA, basilar) and the dural venous sinuses."""
    P, T = h.p, h.t
    for sgn in (1, -1):
        cv.tube("artery", [P(sgn * 16, -8, 44), P(sgn * 16, -8, 60), P(sgn * 40, -4, 66), P(sgn * 45, 8, 76),
                           P(sgn * 50, 30, 88)], [T(2.4), T(2.0), T(1.8), T(1.5), T(1.2)], restrict=BRAIN)
        cv.tube("artery", [P(sgn * 16, -8, 60), P(sgn * 2, -14, 66), P(sgn * 2, -28, 90), P(sgn * 2, -10, 115),
                           P(sgn * 2, 30, 113)], T(1.3), restrict=BRAIN)
        cv.tube("artery", [P(0, 12, 60), P(sgn * 15, 15, 64), P(sgn * 24, 40, 70), P(sgn * 22, 70, 76)],
                T(1.3), restrict=BRAIN)
        cv.tube("artery", [P(sgn * 10, 22, 12), P(0, 12, 24)], T(1.8), restrict=BRAIN)  # vertebral
        cv.tube("vein", [P(0, 76, 50), P(sgn * 40, 72, 44), P(sgn * 58, 45, 34), P(sgn * 50, 30, 20),
                         P(sgn * 38, 20, 12)], T(3.5), restrict=BRAIN + ("cortical_bone", h.marrow))
    cv.tube("artery", [P(0, 12, 24), P(0, 13, 60)], T(1.8), restrict=BRAIN)  # basilar
    phi = np.deg2rad(np.linspace(-62, 125, 16))
    sss = [P(0, 8 + 83 * np.sin(a), 88 + 67 * np.cos(a)) for a in phi]
    cv.tube("vein", sss, T(3.8), restrict=BRAIN + ("cortical_bone", "tendon"))  # superior sagittal sinus
    cv.tube("vein", [P(0, 45, 92), P(0, 76, 50)], T(2.5), restrict=BRAIN + ("tendon",))  # straight sinus

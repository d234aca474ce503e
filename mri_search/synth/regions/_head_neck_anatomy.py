"""Face and neck half of the shared head-and-neck anatomy (see ``_head_common`` for the frame and helpers).

Painted after the cranium, in the order a dissection would reveal it from outside in: fat compartments and
muscles, salivary glands and thyroid, tongue and palate, the pharyngeal mucosa and airway, larynx, facial bones and
sinuses, orbits, cervical spine with cord, vessels, lymph nodes, and the thoracic inlet. Landmarks named here
(``tonsil_L``, ``true_cord_R``, ``node_IIa_L``...) are the sub-site centres the region modules place findings at.
"""

from __future__ import annotations

import numpy as np

from ..physics.phantom import Canvas, rotation
from ._cranium import outline_and_cranium, paint_brain
from ._head_common import NODE_LEVELS, SOFT, VERT_Z, HeadShape, ellipsoid_layers, loft

SIDES = ((1, "L"), (-1, "R"))  # +x is the patient's left
# Pharyngeal airway sections (z, cx, cy, rx, ry) from the nasopharynx roof to the pharyngo-oesophageal junction [R]
PHARYNX = [(30, 0, -18, 8, 6), (15, -0, -21, 15, 9), (3, 0, -22, 14, 9), (-5, 0, -12, 12, 5), (-20, 0, -10, 13, 6),
           (-38, 0, -9, 15, 6), (-50, 0, -6, 16, 5), (-65, 0, -4, 14, 3), (-85, 0, -4, 8, 2), (-96, 0, -3, 4, 1.5)]
# Laryngeal lumen: vestibule, ventricle, rima glottidis, subglottis, trachea
LARYNX = [(-48, 0, -22, 7, 10), (-62, 0, -24, 6, 10), (-70, 0, -25, 3, 11), (-76, 0, -26, 1.5, 11),
          (-82, 0, -24, 6, 9), (-95, 0, -23, 8, 8), (-200, 0, -12, 8.5, 8.5)]


def _sc(h: HeadShape, sections):
    """Scale reference sections to the patient."""
    return [(h.p(0, 0, z)[2], cx * h.s[0], cy * h.s[1], rx * h.s[0], ry * h.s[1]) for z, cx, cy, rx, ry in sections]


def paint_head_and_neck(cv: Canvas, h: HeadShape, rng: np.random.Generator) -> None:
    """Paint the whole normal anatomy (only what falls inside the canvas costs time)."""
    outline_and_cranium(cv, h)
    paint_brain(cv, h, rng)
    paint_face_and_neck(cv, h, rng)


def paint_face_and_neck(cv: Canvas, h: HeadShape, rng: np.random.Generator) -> None:
    """Paint everything below the cranial cavity; record the sub-site landmarks."""
    _compartments_and_muscles(cv, h)
    _glands(cv, h)
    _oral_cavity_and_pharynx(cv, h)
    _larynx_and_trachea(cv, h)
    _facial_skeleton(cv, h)
    _orbits(cv, h)
    _spine(cv, h)
    _vessels(cv, h)
    _benign_nodes(cv, h, rng)
    _thoracic_inlet(cv, h)


def reopen_airway(cv: Canvas, h: HeadShape, tissues: tuple[str, ...]) -> None:
    """Re-open a narrowed lumen through a mucosal tumour: real primaries rarely occlude the airway completely."""
    narrow = [(z, cx, cy, rx * 0.4, ry * 0.4) for z, cx, cy, rx, ry in PHARYNX + LARYNX[:-1]]
    loft(cv, _sc(h, [s for s in narrow if s[0] > -47]), [("air", 0.0, tissues)])  # pharynx
    loft(cv, _sc(h, [s for s in narrow if s[2] < -20]), [("air", 0.0, tissues)])  # larynx


def _compartments_and_muscles(cv: Canvas, h: HeadShape) -> None:
    P, R, T = h.p, h.r, h.t
    for sgn, s in SIDES:
        cv.ellipsoid("fat", P(sgn * 45, 20, -95), R(12, 14, 40), restrict=SOFT)  # posterior triangle
        cv.ellipsoid("fat", P(sgn * 30, -30, -55), R(14, 18, 12), restrict=SOFT)  # submandibular space
        cv.tube("fat", [P(sgn * 30, -4, -150), P(sgn * 28, -3, -55), P(sgn * 28, 4, 0)], T(10), restrict=SOFT)
        cv.ellipsoid("fat", P(sgn * 24, -10, -2), R(6, 10, 18), restrict=SOFT + ("cortical_bone",))  # parapharyngeal
        cv.mark(f"parapharyngeal_{s}", P(sgn * 24, -10, -2))
        cv.tube("muscle", [P(sgn * 57, 32, 10), P(sgn * 53, 14, -30), P(sgn * 48, -10, -70), P(sgn * 34, -28, -115),
                           P(sgn * 20, -38, -150)], [T(8), T(8), T(7), T(6), T(6)], restrict=SOFT)  # SCM
        cv.ellipsoid("muscle", P(sgn * 55, -20, -10), R(6, 13, 24), restrict=("fat",))  # masseter
        cv.ellipsoid("muscle", P(sgn * 38, -10, -12), R(5, 9, 18), restrict=("fat", "cortical_bone", h.marrow))
        cv.ellipsoid("muscle", P(sgn * 38, -8, 12), R(7, 10, 6), restrict=("fat", "cortical_bone", h.marrow))
        cv.ellipsoid("muscle", P(sgn * 10, -41, -100), R(9, 3, 35), restrict=("fat",))  # strap muscles
    cv.box("fat", P(0, 55, -60), R(1.5, 12, 60), restrict=("muscle",))  # nuchal midline fat plane


def _glands(cv: Canvas, h: HeadShape) -> None:
    P, R = h.p, h.r
    g, th = h.gland, h.thyroid
    for sgn, s in SIDES:
        # superficial lobe behind the ramus and over the masseter, isthmus, deep lobe in the parapharyngeal space
        cv.ellipsoid("parotid", P(sgn * 52, 13, -4), R(9.5 * g, 13 * g, 26 * g), restrict=SOFT)
        cv.ellipsoid("parotid", P(sgn * 58, -4, 2), R(4.5, 12 * g, 16 * g), restrict=SOFT)
        cv.ellipsoid("parotid", P(sgn * 44, 14, -4), R(6, 6 * g, 12 * g), restrict=SOFT)
        cv.ellipsoid("parotid", P(sgn * 37, 9, -4), R(7, 8 * g, 12 * g), restrict=SOFT)
        cv.mark(f"parotid_{s}", P(sgn * 53, 12, -4))
        cv.mark(f"parotid_deep_{s}", P(sgn * 37, 9, -4))
        cv.ellipsoid("submandibular", P(sgn * 28, -26, -60), R(11 * g, 15 * g, 10 * g), rot=rotation(rz_deg=sgn * 20))
        cv.mark(f"submandibular_{s}", P(sgn * 28, -26, -60))
        cv.ellipsoid("fat", P(sgn * 12, -55, -40), R(8, 16, 6), restrict=SOFT)  # sublingual space
        cv.ellipsoid("submandibular", P(sgn * 13, -58, -38), R(5, 13, 5))  # sublingual gland
        cv.ellipsoid("thyroid", P(sgn * 20, -17, -112), R(8 * th, 9 * th, 23 * th), rot=rotation(ry_deg=sgn * 8))
        cv.mark(f"thyroid_{s}", P(sgn * 20, -17, -112))
    cv.ellipsoid("thyroid", P(0, -33, -105), R(12, 3.5 * th, 6))  # isthmus


def _oral_cavity_and_pharynx(cv: Canvas, h: HeadShape) -> None:
    P, R, T = h.p, h.r, h.t
    cv.ellipsoid("tongue", P(0, -50, -20), R(27, 32, 16))  # oral tongue
    cv.ellipsoid("tongue", P(0, -25, -30), R(22, 12, 15))  # base of tongue
    cv.box("fat", P(0, -42, -25), R(0.8, 32, 14), restrict=("tongue",))  # lingual septum
    cv.ellipsoid("air", P(0, -55, -5), R(16, 20, 1.8), restrict=("tongue", "fat"))  # oral air film under palate
    cv.ellipsoid("mucosa", P(0, -15, -30), R(18, 4, 12), restrict=("tongue", "muscle", "fat"))  # lingual tonsil
    cv.mark("base_of_tongue", P(0, -24, -32))
    cv.mark("floor_of_mouth", P(0, -58, -40))
    for sgn, s in SIDES:
        cv.mark(f"oral_tongue_{s}", P(sgn * 22, -48, -20))
    rot_palate = rotation(rx_deg=34)
    cv.ellipsoid("mucosa", P(0, -22, -10), R(17.5, 6, 13.5), rot=rot_palate)  # soft palate with uvula
    cv.ellipsoid("muscle", P(0, -22, -10), R(15, 3.5, 11), rot=rot_palate)
    cv.mark("soft_palate", P(0, -22, -10))
    loft(cv, _sc(h, [(z, cx, cy, rx + 2.5, ry + 2.5) for z, cx, cy, rx, ry in PHARYNX]), [("mucosa", 0.0, None)])
    a, tn = h.adenoid, h.tonsil
    cv.ellipsoid("mucosa", P(0, -9, 22), R(14 * a, 6 * a, 9 * a))  # adenoids on the posterosuperior wall
    for sgn, s in SIDES:
        cv.ellipsoid("mucosa", P(sgn * 13, -22, 15), R(4, 5, 6))  # torus tubarius
        cv.ellipsoid("mucosa", P(sgn * 13, -11, -18), R(6 * tn, 8 * tn, 11 * tn))  # palatine tonsil
        cv.mark(f"tonsil_{s}", P(sgn * 13, -11, -20))
        cv.mark(f"glossotonsillar_{s}", P(sgn * 14, -19, -34))
    loft(cv, _sc(h, PHARYNX), [("air", 0.0, None)])
    for sgn, s in SIDES:
        cv.ellipsoid("air", P(sgn * 15, -12, 15), R(2.5, 4, 5))  # fossa of Rosenmueller
        cv.mark(f"rosenmuller_{s}", P(sgn * 15, -11, 15))
        cv.ellipsoid("air", P(sgn * 6, -18, -38), R(5, 3, 4), restrict=("mucosa", "tongue", "muscle"))  # vallecula
        cv.ellipsoid("mucosa", P(sgn * 14, -11, -65), R(5.5, 7, 15))  # pyriform sinus wall
        cv.ellipsoid("air", P(sgn * 14, -11, -65), R(3.5, 5, 13))
        cv.mark(f"pyriform_{s}", P(sgn * 14, -11, -65))
    cv.tube("muscle", [P(0, -2, -95), P(0, 5, -210)], T(7))  # oesophagus
    cv.tube("mucosa", [P(0, -2, -95), P(0, 5, -210)], T(2.2))


def _larynx_and_trachea(cv: Canvas, h: HeadShape) -> None:
    P, R, T = h.p, h.r, h.t
    tilt = rotation(rx_deg=-35)
    cv.ellipsoid("fat", P(0, -32, -54), R(10, 5, 9), rot=tilt)  # pre-epiglottic space
    cv.mark("pre_epiglottic", P(0, -32, -54))
    cv.box("mucosa", P(0, -23, -49), R(11, 2.6, 16), rot=tilt)  # epiglottis
    cv.box("laryngeal_cartilage", P(0, -23, -49), R(10, 1.1, 15), rot=tilt)
    cv.mark("epiglottis", P(0, -23, -50))
    for sgn, s in SIDES:
        cv.ellipsoid("fat", P(sgn * 9, -24, -68), R(5, 11, 10))  # paraglottic space
        cv.mark(f"paraglottic_{s}", P(sgn * 9, -24, -68))
        cv.ellipsoid("mucosa", P(sgn * 5, -25, -67), R(4.5, 11, 2.5))  # false cord
        cv.mark(f"false_cord_{s}", P(sgn * 5, -25, -62))
        cv.ellipsoid("muscle", P(sgn * 5, -26, -76), R(5.5, 12, 3))  # true vocal cord (thyroarytenoid)
        cv.mark(f"true_cord_{s}", P(sgn * 5, -29, -76))
        cv.box("laryngeal_cartilage", P(sgn * 11, -29, -68), R(1.3, 15, 12), rot=rotation(rz_deg=-sgn * 41))
        cv.ellipsoid("laryngeal_cartilage", P(sgn * 5, -12, -72), R(3, 3, 5))  # arytenoid
    cv.tube("cortical_bone", [P(-20, -14, -44), P(-12, -34, -48), P(0, -39, -49), P(12, -34, -48),
                              P(20, -14, -44)], T(2.8))  # hyoid
    cv.shell("laryngeal_cartilage", P(0, -22, -88), R(13, 14, 5), 3.0)  # cricoid arch
    cv.box("laryngeal_cartilage", P(0, -9, -80), R(10, 2, 9))  # cricoid lamina
    cv.tube("laryngeal_cartilage", [P(0, -23, -95), P(0, -12, -200)], T(11))  # tracheal rings
    loft(cv, _sc(h, LARYNX), [("air", 0.0, None)])
    cv.mark("glottis", P(0, -26, -76))


def _facial_skeleton(cv: Canvas, h: HeadShape) -> None:
    P, R, T = h.p, h.r, h.t
    m = h.marrow
    for sgn, s in SIDES:  # maxillary sinus: bony wall, mucosal lining, air
        c = P(sgn * 30, -52, 16)
        ellipsoid_layers(cv, [(c, R(15, 19, 15))], [("cortical_bone", 2.0, None), ("mucosa", 0.0, None),
                                                    ("air", -1.8, None)])
        cv.mark(f"maxillary_sinus_{s}", c)
        cv.tube("cortical_bone", [P(sgn * 48, -58, 28), P(sgn * 57, -30, 24), P(sgn * 56, 5, 22)], T(3.5))  # arch
        cv.ellipsoid("cortical_bone", P(sgn * 48, -62, 30), R(11, 8, 11))  # zygoma
        cv.ellipsoid(m, P(sgn * 48, -62, 30), R(8, 5, 8))
        ellipsoid_layers(cv, [(P(sgn * 9, -78, 72), R(8, 4, 9))], [("cortical_bone", 2.0, None), ("air", 0.0, None)])
    # nasal cavity with septum and turbinates; ethmoid and sphenoid sinuses
    cv.box("mucosa", P(0, -62, 22), R(15, 31, 21))
    cv.box("air", P(0, -62, 22), R(13, 30, 20))
    cv.box("mucosa", P(0, -62, 22), R(2.5, 28, 18))
    cv.box("cortical_bone", P(0, -62, 22), R(1.0, 27, 17))
    for sgn, _ in SIDES:
        cv.ellipsoid("mucosa", P(sgn * 11, -60, 10), R(4, 22, 5))
        cv.ellipsoid("mucosa", P(sgn * 10, -58, 25), R(3.5, 18, 4))
        cv.ellipsoid("air", P(sgn * 5, -101, 8), R(3, 6, 4))  # nostril
    cv.mark("nasal_cavity", P(0, -62, 22))
    cv.box("mucosa", P(0, -58, 48), R(11, 18, 9))
    for k in range(8):
        cv.ellipsoid("air", P((k % 2 * 2 - 1) * 6, -72 + 8 * (k // 2), 48), R(3.5, 3.2, 6), restrict=("mucosa",))
    ellipsoid_layers(cv, [(P(0, -22, 40), R(11, 10, 10))], [("cortical_bone", 2.0, None), ("mucosa", 0.0, None),
                                                           ("air", -1.5, None)])
    # maxilla: hard palate and alveolar arch (teeth are signal voids: cortical)
    cv.ellipsoid("cortical_bone", P(0, -52, -1), R(24, 25, 4))
    cv.ellipsoid(m, P(0, -52, -1), R(21, 22, 2))
    arch = [P(34, -25, -6), P(30, -50, -6), P(18, -72, -6), P(0, -80, -6), P(-18, -72, -6), P(-30, -50, -6),
            P(-34, -25, -6)]
    cv.tube("cortical_bone", arch, T(6.5))
    # mandible: body (three stacked tubes give a ~14 x 30 mm section), ramus, condyle, coronoid
    body = [(48, -2, -36), (44, -25, -40), (36, -48, -44), (22, -64, -47), (0, -73, -49)]
    body = body + [(-x, y, z) for x, y, z in body[::-1][1:]]
    for dz, rr, tissue in ((9, 6, "cortical_bone"), (0, 6, "cortical_bone"), (-8, 6, "cortical_bone"),
                           (7, 3.2, m), (0, 3.2, m), (-6, 3.2, m)):
        cv.tube(tissue, [P(x, y, z + dz) for x, y, z in body], T(rr),
                restrict=("cortical_bone",) if tissue == m else None)
    for sgn, s in SIDES:
        for a, b, rr in (((48, -4, -36), (50, 3, 16), 6), ((48, -14, -34), (47, -12, 8), 6),
                         ((46, -24, -30), (46, -24, 8), 4.5)):
            cv.tube("cortical_bone", [P(sgn * a[0], a[1], a[2]), P(sgn * b[0], b[1], b[2])], T(rr))
            cv.tube(m, [P(sgn * a[0], a[1], a[2]), P(sgn * b[0], b[1], b[2])], T(rr - 3.2),
                    restrict=("cortical_bone",))
        cv.ellipsoid("cortical_bone", P(sgn * 50, 5, 17), R(9, 5, 5))  # condyle
        cv.ellipsoid(m, P(sgn * 50, 5, 17), R(6.5, 3, 3))
        cv.mark(f"mandible_angle_{s}", P(sgn * 48, -2, -36))
        ellipsoid_layers(cv, [(P(sgn * 48, 30, 14), R(7, 9, 11))], [("cortical_bone", 0.0, None),
                                                                       ("air", -3.0, None)])  # mastoid


def _orbits(cv: Canvas, h: HeadShape) -> None:
    P, R, T = h.p, h.r, h.t
    for sgn, s in SIDES:
        c = P(sgn * 30, -58, 42)
        cv.ellipsoid("cortical_bone", c, R(18, 28, 17))
        cv.box("fat", P(sgn * 32, -88, 42), R(16, 8, 15), restrict=("cortical_bone",))  # orbital opening
        cv.ellipsoid("ligament_fat_pad", c, R(16, 26, 15))
        for a, b in (((44, -58, 42), (20, -34, 44)), ((19, -64, 42), (16, -36, 44)),
                     ((31, -62, 54), (20, -36, 49)), ((31, -62, 30), (20, -36, 39))):
            cv.tube("muscle", [P(sgn * a[0], a[1], a[2]), P(sgn * b[0], b[1], b[2])], T(2.5))  # recti
        cv.tube("white_matter", [P(sgn * 31, -62, 42), P(sgn * 20, -38, 44), P(sgn * 12, -20, 48)], T(2.3))
        g = P(sgn * 32, -76, 42)
        ellipsoid_layers(cv, [(g, R(12, 12, 12))], [("tendon", 0.0, None), ("vitreous", -1.0, None)])
        cv.ellipsoid("muscle", P(sgn * 32, -86, 42), R(4.5, 1.8, 4.5))  # lens
        cv.mark(f"globe_{s}", g)


def _spine(cv: Canvas, h: HeadShape) -> None:
    P, R, T = h.p, h.r, h.t
    bone = ("cortical_bone", "marrow_red")
    # C1 ring and dens
    cv.ellipsoid("cortical_bone", P(0, 4, 0), R(8, 3.5, 5))
    for sgn, _ in SIDES:
        cv.ellipsoid("cortical_bone", P(sgn * 20, 20, 0), R(8, 9, 7))
        cv.ellipsoid("marrow_red", P(sgn * 20, 20, 0), R(5.5, 6.5, 4.5))
        cv.tube("cortical_bone", [P(sgn * 20, 26, 2), P(sgn * 14, 42, 3), P(0, 48, 3)], T(3.5))
        cv.tube("cortical_bone", [P(sgn * 24, 18, 0), P(sgn * 36, 20, 0)], T(4))
    cv.tube("cortical_bone", [P(0, 14, -12), P(0, 13, 12)], T(5))
    cv.tube("marrow_red", [P(0, 14, -12), P(0, 13, 10)], T(3))
    for k, (name, z) in enumerate(VERT_Z.items()):
        grow = max(0, k - 1)
        rx, ry, rz = (11 if k == 0 else 9 + 0.7 * grow), 8 + 0.3 * grow, (11 if k == 0 else 7.5)
        cv.ellipsoid("cortical_bone", P(0, 14, z), R(rx, ry, rz), power=3.0)
        cv.ellipsoid("marrow_red", P(0, 14, z), R(rx - 1.5, ry - 1.5, rz - 1.5), power=3.0)
        zd = z - (11.5 if k == 0 else 9.5)  # disc below this body
        cv.ellipsoid("disc_annulus", P(0, 14, zd), R(rx - 0.5, ry - 0.5, 2.2))
        cv.ellipsoid("disc_nucleus", P(0, 14, zd), R(rx * 0.55, ry * 0.55, 1.5))
        spin = 58 + 2 * k + (10 if name == "C7" else 0)
        for sgn, _ in SIDES:
            cv.tube("cortical_bone", [P(sgn * 8, 22, z), P(sgn * 11, 32, z), P(sgn * 7, 40, z - 2), P(0, 44, z - 3),
                                      P(0, spin, z - 9)], T(3.5))
            cv.tube("cortical_bone", [P(sgn * 10, 14, z), P(sgn * 24 + sgn * grow, 16, z)], T(3.5))
            cv.ellipsoid("cortical_bone", P(sgn * 20, 30, z), R(6, 6, 9))  # articular pillar
            cv.ellipsoid("marrow_red", P(sgn * 20, 30, z), R(4, 4, 7), restrict=bone)
        cv.mark(f"vertebra_{name}", P(0, 14, z))
    canal = [(z, 0, 30, 11, 7.5) for z in (-215, -10)] + [(0, 0, 30, 13, 9), (16, 0, 30, 14, 10)]
    loft(cv, _sc(h, canal), [("csf", 0.0, None), ("spinal_cord", 4.0, None)])
    cv.ellipsoid("spinal_cord", P(0, 30, -85), R(7.5, 5, 30))  # cervical enlargement


def _vessels(cv: Canvas, h: HeadShape) -> None:
    P, T = h.p, h.t
    for sgn, s in SIDES:
        bif = P(sgn * 25, -5, -55)
        cv.tube("artery", [P(sgn * 30, -5, -200), P(sgn * 27, -5, -100), bif], T(4))  # common carotid
        cv.tube("artery", [bif, P(sgn * 24, 2, -25), P(sgn * 25, 6, 5), P(sgn * 24, 8, 25), P(sgn * 18, -5, 32),
                           P(sgn * 16, -8, 45)], T(3))  # internal carotid, petrous, cavernous
        cv.tube("artery", [bif, P(sgn * 30, -12, -35), P(sgn * 38, -8, -5), P(sgn * 45, 0, 20)], T(2.3))
        cv.tube("vein", [P(sgn * 38, -2, -200), P(sgn * 35, 0, -100), P(sgn * 34, 2, -55), P(sgn * 35, 8, -10),
                         P(sgn * 38, 20, 12)], T(6 if sgn < 0 else 5))  # internal jugular (right larger)
        cv.tube("artery", [P(sgn * 24, 14, -200), P(sgn * 22, 15, -10), P(sgn * 25, 30, 3), P(sgn * 10, 22, 12)],
                T(2))  # vertebral, through the transverse foramina
        cv.mark(f"carotid_bifurcation_{s}", bif)


def _benign_nodes(cv: Canvas, h: HeadShape, rng: np.random.Generator) -> None:
    """Small reactive nodes (short axis <= 8 mm) with a fat halo at every level; landmarks for metastases."""
    P, R = h.p, h.r
    for sgn, s in SIDES:
        for level, (x, y, z) in NODE_LEVELS.items():
            c = P(sgn * x, y, z)
            cv.mark(f"node_{level}_{s}", c)
            if rng.random() < (0.4 if level in ("VI", "retropharyngeal") else 0.85):
                f = rng.uniform(0.7, 1.15)
                j = rng.normal(0, 2.0, 3)
                cc = np.asarray(c) + j
                cv.ellipsoid("fat", cc, R(5 * f, 5.5 * f, 8 * f), restrict=SOFT)
                cv.ellipsoid("lymph_node", cc, R(3 * f, 3.8 * f, 6 * f), restrict=SOFT + ("mucosa",))


def _thoracic_inlet(cv: Canvas, h: HeadShape) -> None:
    P, R, T = h.p, h.r, h.t
    for sgn, _ in SIDES:
        cv.ellipsoid("lung", P(sgn * 55, 25, -232), R(42, 50, 90), restrict=("muscle", "fat"))
        clav = [P(sgn * 18, -44, -152), P(sgn * 60, -42, -146), P(sgn * 120, -22, -139), P(sgn * 155, 5, -136)]
        cv.tube("cortical_bone", clav, T(7))
        cv.tube("marrow_yellow", clav, T(4), restrict=("cortical_bone",))
        cv.tube("cortical_bone", [P(sgn * 26, 22, -150), P(sgn * 55, 12, -158), P(sgn * 62, -20, -170),
                                  P(sgn * 28, -50, -172)], T(4))  # first rib
    cv.box("cortical_bone", P(0, -55, -180), R(24, 6, 22))  # manubrium
    cv.box("marrow_red", P(0, -55, -180), R(20, 3.5, 19))

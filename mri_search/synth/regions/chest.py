"""Chest and cardiac phantoms: chest wall and ribs, lungs and airways, mediastinum, heart and great vessels.

The thorax is painted into the shared trunk frame (see ``_trunk_common``): the same torso a lumbar spine or
abdomen study shows, seen through a chest window (thoracic inlet to adrenals) or a cardiac window (centred on the
heart). Findings: lung mass (chest), myocardial scar and pericardial effusion (cardiac; a small effusion is also an
incidental of chest studies).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from .. import catalog
from ..phantom import Canvas, Phantom, rotation
from ..tissues import label_of
from ..types import Lesion, Patient
from . import _trunk_common as tc
from .base import measure_lesion, side_of

SUBREGIONS = ("chest", "cardiac")

# Chest MRI is a problem-solving test (mass characterisation): most referred studies show the queried lesion [E].
P_NORMAL = {"chest": 0.35, "cardiac": 0.35}  # brief/protocol population: ~1/3 normal [E]
P_SCAR_GIVEN_ABNORMAL = 0.75  # viability / cardiomyopathy work-up: LGE is the commonest positive finding [E]
P_EFFUSION_INCIDENTAL = 0.12  # small effusions are common incidental findings on chest/cardiac MRI [R]
SPACING = {"chest": 2.4, "cardiac": 2.0}  # mm: longest axis <= ~220 voxels for FOV 450 / 380 (+2 x 30 mm)
FOV_MM = {"chest": 450.0, "cardiac": 380.0}  # largest FOV of the protocol (protocols.csv)

# Lobe centres of a reference adult in the trunk frame (mm): upper lobes apical-anterior, lower lobes posterior-basal
_LOBES = {"right_upper_lobe": (-68, -5, -85), "left_upper_lobe": (68, -5, -90),
          "right_lower_lobe": (-88, 45, -225), "left_lower_lobe": (90, 45, -232)}


def sample_findings(patient: Patient, subregion: str,
                    rng: np.random.Generator) -> tuple[list[Lesion], list[Lesion]]:
    """Draw the findings of one chest or cardiac study (geometry is filled in by ``build``)."""
    if subregion not in SUBREGIONS:
        raise ValueError(f"chest has subregions {SUBREGIONS}, not {subregion!r}")
    lesions: list[Lesion] = []
    incidentals: list[Lesion] = []
    abnormal = rng.random() >= P_NORMAL[subregion]
    if subregion == "chest":
        if abnormal:
            site = catalog.draw_site("lung_mass", rng)
            hist = catalog.draw_histology("lung_mass", site, rng)
            lesions.append(Lesion("lung_mass", site, hist))
        if rng.random() < P_EFFUSION_INCIDENTAL:
            incidentals.append(Lesion("pericardial_effusion", "pericardium"))
    else:
        if abnormal:
            if rng.random() < P_SCAR_GIVEN_ABNORMAL:
                site = catalog.draw_site("myocardial_scar", rng)
                lesions.append(Lesion("myocardial_scar", site))
            if not lesions or rng.random() < 0.2:
                lesions.append(Lesion("pericardial_effusion", "pericardium"))
        elif rng.random() < P_EFFUSION_INCIDENTAL:
            incidentals.append(Lesion("pericardial_effusion", "pericardium"))
    return lesions, incidentals


# ---- anatomy --------------------------------------------------------------------------------------------------
def heart_frame(body: tc.Body) -> dict:
    """Heart centre and axes: long axis base->apex points left, anterior and down [R]; septum faces the RV."""
    s = body.scale
    j = body.j("heart", 5.0)
    u = np.array([0.62, -0.5, -0.55]) + body._rng.normal(0, 0.05, 3)
    u /= np.linalg.norm(u)
    rot = tc.frame(u, np.array([0.0, 0.0, -1.0]))  # columns: inferior, e2, long axis
    inf, e2 = rot[:, 0], rot[:, 1]
    sep = -e2 if e2[0] > 0 else e2  # septum / RV side is to the patient's right
    c_lv = np.array([35.0, -50.0, -190.0]) * s + j
    return dict(c_lv=c_lv, u=u, rot=rot, inf=inf, sep=sep, lv_out=np.array([34, 34, 52]) * s,
                lv_cav=np.array([24, 24, 44]) * s, sac=np.array([46, 50, 66]) * s,
                sac_c=c_lv - 18 * s * u + 10 * s * sep)


def paint_thorax(canvas: Canvas, body: tc.Body) -> None:
    """Lungs, diaphragm, mediastinum, heart, great vessels, airway, ribs, sternum, breasts (trunk frame)."""
    s = body.scale
    lv = body.levels
    # lungs: per-level cross-sections from the apex (medial, narrow) to the wide bases [R]
    rows = np.array([(20, 4, 4, 10, 40), (0, 30, 35, 12, 52), (-40, 55, 62, 8, 68), (-100, 68, 88, 5, 80),
                     (-180, 75, 98, 8, 86), (-260, 76, 100, 12, 88), (-330, 70, 95, 20, 88)], float)
    cav = tc.cavity_keys(body)
    for sx in (-1, 1):
        k = rows * s
        k[:, 0] += body.j(f"lung{sx}", 4.0)[2]
        # keep each lung inside the rib cage: its lateral and AP extent is capped by the cavity outline
        ca, cb, cy = (np.interp(k[:, 0], cav[:, 0], cav[:, i]) for i in (1, 2, 3))
        lateral, medial = np.minimum(k[:, 4] + k[:, 1], ca - 1), k[:, 4] - k[:, 1]
        k[:, 1], k[:, 4] = np.maximum((lateral - medial) / 2, 1.0), sx * (lateral + medial) / 2
        k[:, 2] = np.minimum(k[:, 2], cb - 1)
        k[:, 3] = np.clip(k[:, 3], cy - cb + k[:, 2], cy + cb - k[:, 2])
        tc.paint_prism(canvas, "lung", k, restrict=("fat",), bounded=True)
    # diaphragm domes: the right dome sits higher (liver) [R]; posterior recesses run lower than the domes
    for sx, top in ((-1, -215), (1, -230)):
        c = np.array([sx * 55, -25, top - 165], float) * s + body.j(f"dome{sx}", 6.0) * [0, 0, 1]
        tc.axis_ellipsoid(canvas, "fat", c, np.array([120, 130, 160]) * s, restrict=("lung",))
        tc.axis_ellipsoid(canvas, "muscle", c, np.array([125, 135, 165]) * s, restrict=("lung",))
    tc.axis_ellipsoid(canvas, "fat", np.array([0, -28, -135]) * s, np.array([36, 70, 140]) * s, restrict=("lung",))
    _airway(canvas, body)
    _heart(canvas, body)
    _great_vessels(canvas, body)
    _ribs(canvas, body)
    lean = tc.lean_keys(body)
    for sx in (-1, 1):  # pectoralis major bulk under the subcutaneous fat
        yf = np.interp(-80 * s, lean[:, 0], lean[:, 3] - lean[:, 2])
        canvas.ellipsoid("muscle", (sx * 68 * s, yf - 3 * s, -80 * s), (62 * s, 9 * s, 55 * s), restrict=("fat",))
    if body.sex == "F":
        _breasts(canvas, body)
    for sx in (-1, 1):  # scapula over the posterior upper ribs
        c = np.array([sx * 95, 0, -95]) * s + [0, lv["T5"].center[1] + 60 * s, 0]
        rot = rotation(rz_deg=sx * 35)
        canvas.ellipsoid("cortical_bone", c, (48 * s, 5 * s, 72 * s), rot=rot, restrict=("muscle", "fat"))
        canvas.ellipsoid("marrow_red", c, (45 * s, 2.6 * s, 69 * s), rot=rot, restrict=("cortical_bone",))


def _airway(canvas: Canvas, body: tc.Body) -> None:
    """Trachea to the carina (T4-T5), main and lobar bronchi, oesophagus, thyroid lobes."""
    s = body.scale
    zs = np.array([200, 100, 40, 0, -50, -95]) * s
    tr = np.stack([np.zeros_like(zs), body.spine_y(zs) - 36 * s, zs], axis=1)
    car = tr[-1]
    canvas.tube("laryngeal_cartilage", tr, 10 * s)
    canvas.tube("air", tr, 7.8 * s)
    for sx, pts in ((-1, [(-25, 8, -115), (-45, 15, -128), (-65, 5, -100), (-78, 35, -200), (-70, -35, -165)]),
                    (1, [(30, 8, -122), (50, 18, -138), (66, -12, -108), (80, 38, -205), (70, -30, -170)])):
        hil = [np.array([p[0] * s, car[1] + p[1] * s, p[2] * s]) for p in pts[:2]]
        canvas.tube("laryngeal_cartilage", [car] + hil, 8 * s)
        canvas.tube("air", [car] + hil, 5.8 * s)
        for p in pts[2:]:
            end = np.array([p[0] * s, car[1] + p[1] * s, p[2] * s])
            canvas.tube("air", [hil[-1], end], [4.5 * s, 2.5 * s], restrict=("lung", "fat", "laryngeal_cartilage"))
    oz = np.array([200, 0, -100, -200, -245]) * s
    oes = np.stack([np.array([0, 4, 8, 14, 40]) * s, body.spine_y(oz) - 18 * s, oz], axis=1)
    oes[-1, 1] = -10 * s
    canvas.tube("bowel_wall", oes, 7.5 * s, restrict=("fat", "muscle", "lung"))
    for sx in (-1, 1):
        canvas.ellipsoid("thyroid", [sx * 19 * s, tr[2, 1] + 2 * s, 52 * s], (9 * s, 10 * s, 22 * s),
                         restrict=("muscle", "fat"))
    canvas.ellipsoid("thyroid", [0, tr[2, 1] - 11 * s, 42 * s], (14 * s, 4 * s, 6 * s), restrict=("muscle", "fat"))


def _heart(canvas: Canvas, body: tc.Body) -> None:
    """Pericardial sac with epicardial fat, RV, LV (10 mm wall), atria; blood: left 'artery', right 'vein'."""
    s = body.scale
    h = body.geo.get("heart") or heart_frame(body)
    body.geo["heart"] = h
    rot, u, sep, c_lv = h["rot"], h["u"], h["sep"], h["c_lv"]
    soft = ("lung", "fat", "bowel_wall")
    canvas.ellipsoid("tendon", h["sac_c"], h["sac"] + 2 * s, rot=rot, restrict=soft)  # fibrous pericardium
    canvas.ellipsoid("fat", h["sac_c"], h["sac"], rot=rot, restrict=soft + ("tendon",))
    rv_c = c_lv + 27 * s * sep - 10 * s * u
    canvas.ellipsoid("myocardium", rv_c, np.array([24, 31, 50]) * s, rot=rot, restrict=("fat",))
    canvas.ellipsoid("vein", rv_c, np.array([20, 27, 46]) * s, rot=rot, restrict=("myocardium",))
    la = c_lv - 52 * s * u + np.array([0, 22, 12]) * s
    ra = c_lv - 40 * s * u + 36 * s * sep + np.array([0, 12, 0]) * s
    for c, r, blood in ((la, (30, 20, 22), "artery"), (ra, (25, 23, 30), "vein")):
        canvas.ellipsoid("myocardium", c, np.array(r) * s + 2 * s, restrict=("fat", "tendon", "lung", "bowel_wall"))
        canvas.ellipsoid(blood, c, np.array(r) * s, restrict=("myocardium",))
    canvas.ellipsoid("myocardium", c_lv, h["lv_out"], rot=rot)
    canvas.ellipsoid("artery", c_lv - 3 * s * u, h["lv_cav"], rot=rot, restrict=("myocardium",))
    # aortic root leaves the LV outflow tract between the RV outflow and the atria
    root = c_lv - 36 * s * u + 10 * s * sep
    body.geo["aortic_root"] = root
    canvas.tube("artery", [c_lv - 20 * s * u + 5 * s * sep, root], 12 * s)
    canvas.mark("heart_center", c_lv - 10 * s * u)


def _great_vessels(canvas: Canvas, body: tc.Body) -> None:
    """Ascending aorta and arch, arch branches, pulmonary trunk and arteries, SVC, pulmonary veins, neck vessels."""
    s = body.scale
    P = lambda x, y, z: np.array([x, y, z], float) * s  # noqa: E731 - reference mm -> patient mm
    root = body.geo["aortic_root"]
    t4 = body.levels["T4"]
    arch_end = t4.point(22 * s, 0, -10 * s)
    asc = [root, P(-10, -42, -120), P(-6, -35, -80), P(6, -15, -65), arch_end]
    canvas.tube("artery", asc, [14 * s, 15 * s, 14 * s, 13 * s, 12 * s])
    body.geo["arch_end"] = arch_end
    for a, b in ((P(-4, -30, -68), P(-28, -15, 200)), (P(5, -22, -66), P(22, -12, 200)),
                 (P(14, -8, -68), P(95, 5, -20))):  # brachiocephalic->R CCA, L CCA, L subclavian
        canvas.tube("artery", [a, (a + b) / 2 + P(0, 0, 10), b], 5.5 * s, restrict=("fat", "muscle", "lung"))
    h = body.geo["heart"]
    rvot = h["c_lv"] - 30 * s * h["u"] + 10 * s * h["sep"] + P(8, -22, 10)
    bif = P(6, -18, -105)
    canvas.tube("vein", [rvot, bif], 13 * s)
    canvas.tube("vein", [bif, P(-20, -8, -110), P(-55, 0, -115)], 10 * s, restrict=("fat", "lung", "tendon"))
    canvas.tube("vein", [bif, P(35, 0, -100), P(58, 8, -108)], 10 * s, restrict=("fat", "lung", "tendon"))
    ra_top = h["c_lv"] - 40 * s * h["u"] + 36 * s * h["sep"] + P(0, 12, 25)
    canvas.tube("vein", [P(-30, -22, 10), P(-32, -24, -100), ra_top], 9.5 * s)  # SVC
    canvas.tube("vein", [P(40, -38, 10), P(0, -42, -40), P(-30, -24, -50)], 6.5 * s, restrict=("fat", "muscle"))
    for sx in (-1, 1):
        canvas.tube("vein", [P(sx * 42, -2, 200), P(sx * 38, -20, 10)], 7 * s, restrict=("fat", "muscle"))
        la = h["c_lv"] - 52 * s * h["u"] + P(0, 22, 12)
        for dz in (12, -12):
            canvas.tube("artery", [la, la + P(sx * 55, 10, dz)], 4.5 * s, restrict=("fat", "lung"))


def _ribs(canvas: Canvas, body: tc.Body) -> None:
    """Twelve rib pairs (cortical tube + marrow) from the vertebrae round to the costal cartilages; sternum."""
    s = body.scale
    cav = tc.cavity_keys(body)
    for i in range(1, 13):
        lvl = body.levels[f"T{i}"]
        z0 = lvl.center[2]
        a = np.interp(z0 - 20 * s, cav[:, 0], cav[:, 1]) + 5 * s
        b = np.interp(z0 - 20 * s, cav[:, 0], cav[:, 2]) + 5 * s
        yc = np.interp(z0 - 20 * s, cav[:, 0], cav[:, 3])
        end = np.pi * (0.86 if i <= 7 else 0.78 if i <= 10 else 0.55 if i == 11 else 0.42)
        drop = (25 if i == 1 else 55) * s
        th = np.linspace(0.22, end, 8)
        for sx in (-1, 1):
            pts = np.stack([sx * a * np.sin(th), yc + b * np.cos(th), z0 - drop * (1 - np.cos(th)) / 2], axis=1)
            head = lvl.point(sx * lvl.width * 0.45, lvl.depth * 0.35, 0)
            pts = np.vstack([head, pts])
            canvas.tube("cortical_bone", pts, 4.4 * s)
            canvas.tube("marrow_red", pts, 2.4 * s, restrict=("cortical_bone",))
            if i <= 10:  # costal cartilage to the sternum (1-7) or the costal margin (8-10)
                tip = np.array([sx * (18 + 6 * max(0, i - 7)) * s, yc - b + 4 * s, pts[-1, 2] - 10 * s])
                canvas.tube("cartilage", [pts[-1], tip], 4.0 * s, restrict=("muscle", "fat", "lung"))
    # sternum: manubrium, body, xiphoid along the anterior chest wall
    for z, hw, hz in ((-45, 26, 22), (-85, 16, 18), (-120, 16, 18), (-155, 17, 18), (-190, 16, 18), (-218, 9, 10)):
        zz = z * s
        yf = np.interp(zz, cav[:, 0], cav[:, 3] - cav[:, 2]) - 2 * s
        canvas.box("cortical_bone", (0, yf, zz), (hw * s, 6 * s, hz * s))
        canvas.box("marrow_red", (0, yf, zz), ((hw - 2) * s, 4 * s, (hz - 1.5) * s), restrict=("cortical_bone",))


def _breasts(canvas: Canvas, body: tc.Body) -> None:
    """Supine breasts: skin-covered fat mounds with fibroglandular tissue, on the pectoral muscle."""
    s = body.scale
    rng = body._rng
    lean = tc.lean_keys(body)
    f = rng.uniform(0.7, 1.3) * (1 + 0.4 * body.visceral)
    fgt = rng.uniform(0.15, 0.6) * (1.2 - 0.006 * body.age)  # glandular fraction falls with age [R]
    for sx in (-1, 1):
        z = -150 * s + body.j(f"breast{sx}", 4)[2]
        yf = np.interp(z, lean[:, 0], lean[:, 3] - lean[:, 2]) - body.sc_fat
        c = np.array([sx * 85 * s, yf, z])
        r = np.array([62 * s, 36 * s * f, 58 * s])
        canvas.ellipsoid("skin", c, r + 2, restrict=("background",))
        canvas.ellipsoid("fat", c, r, restrict=("background", "skin"))
        canvas.blob("breast_fgt", c + [sx * 6 * s, -r[1] * 0.35, 6 * s], max(r[0] * fgt, 6.0), 0.45,
                    restrict=("fat",), elongation=(1.0, 0.6, 0.9))


# ---- build and findings --------------------------------------------------------------------------------------
def build(patient: Patient, subregion: str, lesions: list[Lesion], incidentals: list[Lesion],
          rng: np.random.Generator, side: str | None = None) -> Phantom:
    """Paint the thorax of ``patient`` seen through the chest or cardiac window, then its findings.

    Lesions that cannot be painted are removed from ``lesions``/``incidentals`` in place.
    """
    if subregion not in SUBREGIONS:
        raise ValueError(f"chest has subregions {SUBREGIONS}, not {subregion!r}")
    body = tc.draw_body(patient, rng)
    s = body.scale
    if subregion == "chest":
        centre = np.array([0.0, -25.0, -150.0]) * s  # mid-mediastinum (level of the carina/left atrium)
    else:
        body.geo["heart"] = heart_frame(body)  # drawn before the canvas so the window centres on the heart
        centre = body.geo["heart"]["c_lv"] - 10 * s * body.geo["heart"]["u"]
    canvas = tc.trunk_canvas(body, rng, centre[2], FOV_MM[subregion] / 2 + 30 + 5, SPACING[subregion])
    tc.paint_trunk(canvas, body)
    canvas.mark("fov_center", centre if subregion == "chest" else canvas.landmarks["heart_center"])
    canvas.mark("carina", np.array([0.0, float(body.spine_y(-95 * s)) - 36 * s, -95 * s]))
    for name, c in _LOBES.items():
        canvas.mark(name, np.array(c, float) * s)
    lesions[:] = [les for les in lesions if _paint_finding(canvas, body, les, rng, False)]
    incidentals[:] = [les for les in incidentals if _paint_finding(canvas, body, les, rng, True)]
    return canvas.finish(texture_seed=int(rng.integers(2**31)))


def _paint_finding(canvas: Canvas, body: tc.Body, les: Lesion, rng: np.random.Generator, minor: bool) -> bool:
    """Paint one finding; False when its site cannot be painted (it is then dropped)."""
    if les.kind == "lung_mass":
        return _lung_mass(canvas, body, les, rng)
    if les.kind == "myocardial_scar":
        return _scar(canvas, body, les, rng)
    if les.kind == "pericardial_effusion":
        return _effusion(canvas, body, les, rng, minor)
    raise ValueError(f"chest cannot paint a {les.kind!r} finding")


def _lung_mass(canvas: Canvas, body: tc.Body, les: Lesion, rng: np.random.Generator) -> bool:
    """SCC: irregular, cavitating when large; metastasis: round, often several [R: other_lesions/lung imaging]."""
    s = body.scale
    size = catalog.draw_size("lung_mass", rng)
    base = np.array(_LOBES[les.site], float) * s
    centre = None
    for _ in range(40):
        c = base + rng.normal(0, 10, 3) * s
        if tc.fraction_of(canvas, c, size / 2, ("lung",)) > 0.75:
            centre = c
            break
    if centre is None:
        return False
    tissue = catalog.HISTOLOGY_TISSUE[les.histology]
    before = canvas.labels.copy()
    scc = les.histology == "scc"
    canvas.blob(tissue, centre, size / 2, 0.4 if scc else 0.08, restrict=("lung", "air"))
    if scc and size >= 30 and rng.random() < 0.5:
        canvas.blob("necrosis", centre, size * 0.18, 0.2, restrict=(tissue,))
        les.attributes["necrotic"] = True
    if not tc.measure_changed(canvas, les, before, (tissue, "necrosis")):
        return False
    les.tissue = tissue
    les.laterality = side_of(les.center_lps[0])
    if not scc:  # further smaller nodules: haematogenous metastases are usually multiple [R]
        count = 1
        for _ in range(int(rng.integers(0, 4))):
            c = np.array(_LOBES[str(rng.choice(list(_LOBES)))], float) * s + rng.normal(0, 15, 3) * s
            r = rng.uniform(3, 7) * s
            if tc.fraction_of(canvas, c, r + 3, ("lung",)) > 0.9:
                canvas.blob(tissue, c, r, 0.05, restrict=("lung",))
                count += 1
        les.attributes["count"] = count
    return True


def _scar(canvas: Canvas, body: tc.Body, les: Lesion, rng: np.random.Generator) -> bool:
    """Late-enhancing scar in a coronary territory: subendocardial (inner half) or transmural [R: LGE patterns]."""
    s = body.scale
    h = body.geo["heart"]
    ant, inf, sep, u = -h["inf"], h["inf"], h["sep"], h["u"]
    direction, along = {"lad_territory": (ant + 0.6 * sep, 14.0), "rca_territory": (inf + 0.3 * sep, -6.0),
                        "lcx_territory": (-sep + 0.15 * inf, 0.0)}[les.site]
    direction = direction / np.linalg.norm(direction)
    size = catalog.draw_size("myocardial_scar", rng)
    wall_mid = (h["lv_out"][0] + h["lv_cav"][0]) / 2
    c = h["c_lv"] + direction * wall_mid + u * along * s
    canvas.ellipsoid("myocardial_scar", c, (size / 2, size / 2, size / 2), restrict=("myocardium",))
    transmural = rng.random() < 0.4
    keep = 1.0 if transmural else 0.5  # fraction of the wall, from the endocardium outwards
    outer = h["lv_out"] + 30 * s
    thick = 30 * s + (h["lv_out"][0] - h["lv_cav"][0]) * (1 - keep)
    canvas.shell("myocardium", h["c_lv"], outer, thick, rot=h["rot"], restrict=("myocardial_scar",))
    measure_lesion(canvas, les, ("myocardial_scar",))
    if les.center_lps is None:
        return False
    les.tissue = "myocardial_scar"
    les.laterality = None
    les.attributes["extension"] = ["transmural" if transmural else "subendocardial"]
    return True


def _effusion(canvas: Canvas, body: tc.Body, les: Lesion, rng: np.random.Generator, minor: bool) -> bool:
    """Fluid rim inside the pericardium; severity by depth (<10 mm small, 10-20 moderate, >20 large) [R]."""
    s = body.scale
    depth = rng.uniform(4, 8) * s if minor else catalog.draw_size("pericardial_effusion", rng)
    before = canvas.labels.copy()
    heart = np.isin(canvas.labels, [label_of("myocardium"), label_of("myocardial_scar")])
    idx = np.argwhere(heart)
    if not len(idx):
        return False
    m = int(np.ceil((depth + 3 * s) / canvas.spacing)) + 1
    lo, hi = np.maximum(idx.min(0) - m, 0), np.minimum(idx.max(0) + m + 1, canvas.labels.shape)
    sl = tuple(slice(a, b) for a, b in zip(lo, hi))
    dist = ndimage.distance_transform_edt(~heart[sl]) * canvas.spacing  # mm from the epicardium
    sub = canvas.labels[sl]
    soft = np.isin(sub, [label_of(t) for t in ("fat", "lung", "tendon")])
    sub[soft & (dist <= depth)] = label_of("joint_fluid")
    sub[soft & (dist > depth) & (dist <= depth + 2 * s)] = label_of("tendon")  # displaced parietal pericardium
    if not tc.measure_changed(canvas, les, before, ("joint_fluid",)):
        return False
    les.tissue = "joint_fluid"
    les.laterality = None
    les.attributes["severity"] = "small" if depth < 10 else "moderate" if depth <= 20 else "large"
    return True

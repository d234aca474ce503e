"""Spine phantoms: cervical (posterior fossa to T3) and lumbar (T11 to S2) with discs, canal, cord and neighbours.

The lumbar spine is a window on the shared torso (``_trunk_common``: the same kidneys, aorta and bowel an abdomen
study shows). The cervical spine has its own neck-and-head frame (z = 0 at the top of the C2 body): occiput,
posterior fossa, pharynx and larynx, thyroid, neck vessels and the lung apices. Findings: disc herniation (Fardon
2014 nomenclature: zone, protrusion/extrusion, compressed root), disc degeneration (desiccated, thinner disc, Modic
1/2 endplates) and the incidental fatty vertebral haemangioma.
"""

from __future__ import annotations

import numpy as np

from .. import catalog
from ..physics.phantom import Canvas, Phantom
from ..types import Lesion, Patient
from . import _trunk_common as tc
from ._torso import paint_trunk
from .base import side_of

SUBREGIONS = ("cervical_spine", "lumbar_spine")

P_NORMAL = 0.30  # brief: ~30% of routine spine MRI show no reportable disc finding [E]
P_HERNIATION = 0.65  # radiculopathy referrals: herniation is the commonest positive finding [R]
P_DEGENERATION = 0.55  # disc degeneration "near-universal with age" (other_lesions.csv); scaled by age below
P_MODIC = 0.45  # Modic change accompanies a minority-majority of degenerated lumbar discs [R]
P_HAEMANGIOMA = 0.12  # vertebral haemangioma: ~10-12% of adults at autopsy/MRI (other_lesions.csv: common) [R]
ZONES = {"central": 0.3, "subarticular": 0.5, "foraminal": 0.2}  # paracentral commonest [R: Fardon 2014]
SPACING = {"cervical_spine": 1.5, "lumbar_spine": 2.0}  # mm: longest axis <= ~220 voxels
SAG_FOV = {"cervical_spine": 260.0, "lumbar_spine": 320.0}  # largest FOV of the protocol (protocols.csv)
AX_FOV = {"cervical_spine": 180.0, "lumbar_spine": 220.0}
_LEVELS = {"cervical_spine": ("C2", "C3", "C4", "C5", "C6", "C7", "T1", "T2"),
           "lumbar_spine": ("T11", "T12", "L1", "L2", "L3", "L4", "L5")}


def _sites(kind: str, subregion: str) -> tuple[str, ...]:
    prefix = "C" if subregion == "cervical_spine" else "L"
    return tuple(s for s in catalog.KINDS[kind].sites if s.startswith(prefix))


def sample_findings(patient: Patient, subregion: str,
                    rng: np.random.Generator) -> tuple[list[Lesion], list[Lesion]]:
    """Draw disc findings (lesions) and a haemangioma (incidental) of one spine study."""
    if subregion not in SUBREGIONS:
        raise ValueError(f"spine has subregions {SUBREGIONS}, not {subregion!r}")
    lesions: list[Lesion] = []
    if rng.random() >= P_NORMAL:
        if rng.random() < P_HERNIATION:
            site = tc.draw_site_in("disc_herniation", _sites("disc_herniation", subregion), rng)
            lesions.append(Lesion("disc_herniation", site, attributes={"level": site}))
        if not lesions or rng.random() < P_DEGENERATION * min(1.5, patient.age / 45):
            sites = _sites("disc_degeneration", subregion)
            for site in rng.permutation(sites)[: int(rng.integers(1, len(sites) + 1))]:
                lesions.append(Lesion("disc_degeneration", str(site), attributes={"level": str(site)}))
    incidentals = []
    if rng.random() < P_HAEMANGIOMA:
        incidentals.append(Lesion("vertebral_haemangioma", "vertebral_body"))
    return lesions, incidentals


def build(patient: Patient, subregion: str, lesions: list[Lesion], incidentals: list[Lesion],
          rng: np.random.Generator, side: str | None = None) -> Phantom:
    """Paint a cervical or lumbar spine with its neighbours, then its findings.

    Lesions that cannot be painted are removed from ``lesions``/``incidentals`` in place.
    """
    if subregion not in SUBREGIONS:
        raise ValueError(f"spine has subregions {SUBREGIONS}, not {subregion!r}")
    body = tc.draw_body(patient, rng)
    degen = [les for les in lesions if les.kind == "disc_degeneration"]
    nucleus = {les.site.split("-")[0]: 0.35 for les in degen}  # desiccated: little bright nucleus left [R]
    height = {les.site.split("-")[0]: 0.65 for les in degen}  # and loss of disc height
    half_z = SAG_FOV[subregion] / 2 + 30
    if subregion == "lumbar_spine":
        levels = tc.trunk_levels(body, height)
        centre = levels["L3"].center.copy()
        conus = str(rng.choice(["T12", "L1", "L1", "L1", "L2"]))  # conus tip ~L1 (T12-L2 normal range) [R]
        canvas = tc.trunk_canvas(body, rng, centre[2], half_z, SPACING[subregion], half_x=AX_FOV[subregion] / 2 + 30)
        levels = paint_trunk(canvas, body, nucleus, height, conus)
    else:
        canvas, levels, centre = paint_neck(body, rng, half_z, AX_FOV[subregion] / 2 + 30, SPACING[subregion],
                                            nucleus, height)
    canvas.mark("fov_center", centre)
    for n in _LEVELS[subregion]:
        canvas.mark(n, levels[n].center)
        lower = list(levels)[list(levels).index(n) + 1] if n != list(levels)[-1] else None
        if lower:
            canvas.mark(f"{n}-{lower}", levels[n].disc_center())
    painter = {"disc_herniation": _herniation, "disc_degeneration": _degeneration,
               "vertebral_haemangioma": _haemangioma}
    for group in (lesions, incidentals):
        group[:] = [les for les in group if painter[les.kind](canvas, body, levels, les, rng, subregion)]
    return canvas.finish(texture_seed=int(rng.integers(2**31)))


def _disc_levels(levels: dict[str, tc.Level], site: str) -> tuple[tc.Level, tc.Level] | None:
    """(upper, lower) vertebrae of a disc site like "L4-L5" ("L5-S1"), or None if not painted."""
    up, low = site.split("-")
    return (levels[up], levels[low]) if up in levels and low in levels else None


def _herniation(canvas: Canvas, body: tc.Body, levels, les: Lesion, rng, subregion: str) -> bool:
    """Focal disc material beyond the posterior disc margin, into the canal, lateral recess or foramen."""
    pair = _disc_levels(levels, les.site)
    if pair is None:
        return False
    up, low = pair
    s = body.scale
    zone = str(rng.choice(list(ZONES), p=list(ZONES.values())))
    sx = -1 if rng.random() < 0.5 else 1
    size = catalog.draw_size("disc_herniation", rng)  # AP extent beyond the disc margin
    extrusion = size >= 6 and rng.random() < 0.7 or rng.random() < 0.2
    dx = {"central": 0.0, "subarticular": 0.75 * up.canal_r, "foraminal": up.canal_r + 7 * s}[zone] * sx
    migrate = (rng.choice([-1, 1], p=[0.7, 0.3]) * rng.uniform(0.2, 0.6) * size) if extrusion else 0.0
    c = up.point(dx, up.depth / 2 + size / 2, -(up.height + up.disc) / 2 + migrate)
    elong = (1.0, 1.0, 1.5) if extrusion else (1.7, 1.0, 0.8)  # extrusion: dome > base; protrusion: broad base
    before = canvas.labels.copy()
    soft = ("ligament_fat_pad", "csf", "spinal_cord", "fat", "muscle")
    canvas.blob("disc_extrusion", c, size / 2, 0.1, restrict=soft, elongation=elong)
    # the herniated nucleus stays continuous with its disc through the torn annulus
    canvas.tube("disc_extrusion", [up.point(dx * 0.7, up.depth / 2 - 2 * s, -(up.height + up.disc) / 2), c],
                min(size / 2, up.disc / 2), restrict=soft + ("disc_annulus",))
    if not tc.measure_changed(canvas, les, before, ("disc_extrusion",)):
        return False
    les.tissue = "disc_extrusion"
    les.laterality = "midline" if zone == "central" else side_of(les.center_lps[0])
    if les.laterality == "midline" and zone != "central":
        les.laterality = "right" if sx < 0 else "left"
    les.attributes.update(zone=zone, herniation_type="extrusion" if extrusion else "protrusion", level=les.site)
    if subregion == "lumbar_spine":  # central/subarticular hit the traversing root, foraminal the exiting one
        les.attributes["nerve_root"] = up.name if zone == "foraminal" else low.name
    elif zone != "central":  # cervical roots exit above their numbered vertebra: C5-C6 -> C6
        les.attributes["nerve_root"] = low.name if low.name.startswith("C") else "C8"
    return True


def _degeneration(canvas: Canvas, body: tc.Body, levels, les: Lesion, rng, subregion: str) -> bool:
    """Desiccated, thinner disc (painted by the column builder) plus optional Modic 1/2 endplate bands."""
    pair = _disc_levels(levels, les.site)
    if pair is None:
        return False
    up, low = pair
    les.center_lps = tuple(float(v) for v in up.disc_center())
    les.size_mm = (0.0, 0.0, 0.0)
    les.tissue = "disc_annulus"
    les.laterality = None
    if rng.random() < P_MODIC:
        modic = 1 if rng.random() < 0.5 else 2
        tissue = "marrow_edema" if modic == 1 else "marrow_yellow"
        before = canvas.labels.copy()
        for lv, sign in ((up, -1), (low, 1)):
            t = rng.uniform(3, 8) * body.scale
            canvas.box(tissue, lv.point(0, 0, sign * (lv.height / 2 - t / 2)), (lv.width / 2, lv.depth / 2, t / 2),
                       rot=lv.rot, restrict=("marrow_red", "marrow_yellow"))
        centre = les.center_lps
        if tc.measure_changed(canvas, les, before, (tissue,)):
            les.center_lps = centre  # the finding is located at its disc
            les.attributes["modic"] = modic
    return True


def _haemangioma(canvas: Canvas, body: tc.Body, levels, les: Lesion, rng, subregion: str) -> bool:
    """Fat-containing body lesion (T1/T2 bright) with coarse vertical trabeculae ('corduroy')."""
    names = [n for n in _LEVELS[subregion] if n in levels and n != "C2"]
    lv = levels[str(rng.choice(names))]
    size = min(catalog.draw_size("vertebral_haemangioma", rng), 0.8 * min(lv.height, lv.depth, lv.width))
    off = rng.uniform(-0.2, 0.2, 3) * np.array([lv.width, lv.depth, lv.height])
    c = lv.point(*off)
    before = canvas.labels.copy()
    canvas.blob("marrow_yellow", c, size / 2, 0.1, restrict=("marrow_red",))
    for dx in (-size / 5, size / 5):
        canvas.tube("cortical_bone", [lv.point(off[0] + dx, off[1], off[2] - size / 2),
                                      lv.point(off[0] + dx, off[1], off[2] + size / 2)], 0.8,
                    restrict=("marrow_yellow",))
    if not tc.measure_changed(canvas, les, before, ("marrow_yellow", "cortical_bone")):
        return False
    les.tissue = "marrow_yellow"
    les.laterality = None
    les.attributes["level"] = lv.name
    return True


# ---- cervical anatomy ----------------------------------------------------------------------------------------
# Head-and-neck outline in the neck frame (z = 0 at the top of C2): rows (z, half-width, half-depth, centre y) mm:
# shoulders, lower neck, upper neck with the jaw, skull base with the face, cranium [R].
_NECK_KEYS = np.array([(-260, 175, 105, 20), (-175, 160, 95, 18), (-120, 85, 70, 10), (-70, 58, 58, 5),
                       (-10, 58, 62, 0), (30, 66, 85, -5), (70, 72, 95, 0), (120, 75, 98, 8), (220, 70, 90, 8)],
                      float)


def paint_neck(body: tc.Body, rng: np.random.Generator, half_z: float, half_x: float, spacing: float,
               nucleus: dict[str, float], height: dict[str, float]):
    """Cervical column C2-T3 with lordosis, posterior fossa, airway, larynx, thyroid, neck vessels, lung apices.

    Returns:
        (canvas, levels, fov centre) with the fov centred on the C4 body.
    """
    s = body.scale
    lordosis = rng.uniform(4, 14)

    def y_of_z(z):
        z = np.asarray(z, float) / s
        return s * (8 - lordosis * np.exp(-((z + 55) / 45) ** 2) + np.where(z < -110, 0.25 * (-110 - z), 0.0))

    names = ("C2", "C3", "C4", "C5", "C6", "C7", "T1", "T2", "T3")
    levels = tc.layout_column(body, names, 0.0, y_of_z, height)
    centre = levels["C4"].center.copy()
    k = _NECK_KEYS.copy()
    k[:, 1:] *= s
    k[:, 0] *= s
    fat = 0.6 * body.sc_fat
    ylo, yhi = (k[:, 3] - k[:, 2]).min() - fat - 12, (k[:, 3] + k[:, 2]).max() + fat + 12
    canvas = Canvas((-half_x, ylo, centre[2] - half_z), (half_x, yhi, centre[2] + half_z), spacing, rng)
    tc.paint_prism(canvas, "skin", k, grow=fat + 2)
    tc.paint_prism(canvas, "fat", k, grow=fat)
    tc.paint_prism(canvas, "muscle", k)
    _head(canvas, body, levels)
    c2, t1 = levels["C2"], levels["T1"]
    # pharynx -> larynx -> trachea in front of the prevertebral muscles; oesophagus behind the trachea
    zs = np.array([45, 10, -30, -60, -100, -200]) * s
    ys = np.array([y_of_z(min(z, -5 * s)) for z in zs]) - np.array([24, 22, 26, 30, 30, 30]) * s
    air = np.stack([np.zeros_like(zs), ys, zs], axis=1)
    canvas.tube("mucosa", air[:3], 11 * s)
    canvas.tube("laryngeal_cartilage", air[2:4], 17 * s, restrict=("muscle", "fat"))  # thyroid cartilage
    canvas.tube("laryngeal_cartilage", air[3:], 10 * s)
    canvas.tube("air", air, [9 * s, 7 * s, 6 * s, 7.5 * s, 8 * s, 8 * s])
    oes = np.stack([np.zeros(3), [y_of_z(z) - 14 * s for z in zs[3:]], zs[3:]], axis=1)
    canvas.tube("bowel_wall", oes, 7 * s, restrict=("muscle", "fat"))
    for sx in (-1, 1):
        canvas.ellipsoid("thyroid", (sx * 20 * s, air[4, 1] + 3 * s, -95 * s), (10 * s, 10 * s, 22 * s),
                         restrict=("muscle", "fat"))
        canvas.tube("artery", [(sx * 24 * s, air[4, 1] + 14 * s, -260 * s), (sx * 28 * s, air[1, 1] + 16 * s, 40 * s)],
                    3.8 * s)  # common -> internal carotid
        canvas.tube("vein", [(sx * 40 * s, air[4, 1] + 14 * s, -260 * s), (sx * 38 * s, air[1, 1] + 22 * s, 40 * s)],
                    5.5 * s)  # internal jugular
        canvas.tube("artery", [levels[n].point(sx * (levels[n].width / 2 + 7 * s), 0, 0) for n in names[:6]]
                    + [c2.point(sx * 25 * s, 15 * s, 30 * s)], 2.0 * s)  # vertebral artery
        canvas.ellipsoid("lung", (sx * 48 * s, t1.center[1] - 5 * s, t1.center[2] - 60 * s), (38 * s, 42 * s, 55 * s),
                         restrict=("muscle", "fat"))  # lung apex
        clav = [(sx * 18 * s, air[4, 1] - 10 * s, t1.center[2] - 15 * s), (sx * 120 * s, air[4, 1] + 10 * s,
                                                                          t1.center[2] + 5 * s)]
        canvas.tube("cortical_bone", clav, 7 * s)
        canvas.tube("marrow_red", clav, 4 * s, restrict=("cortical_bone",))
    tc.paint_back(canvas, body, levels)
    tc.paint_column(canvas, body, levels, None, nucleus)
    return canvas, levels, centre


def _head(canvas: Canvas, body: tc.Body, levels: dict[str, tc.Level]) -> None:
    """Skull with diploe, CSF, cerebrum, cerebellum and brainstem; C1 ring, dens, palate, tongue, mandible."""
    s = body.scale
    c2 = levels["C2"]
    P = lambda x, y, z: np.array([x, y, z], float) * s  # noqa: E731
    sk_c, sk_r = P(0, 12, 118), P(74, 92, 82)
    canvas.ellipsoid("cortical_bone", sk_c, sk_r)
    canvas.ellipsoid("marrow_yellow", sk_c, sk_r - 2 * s, restrict=("cortical_bone",))
    canvas.ellipsoid("cortical_bone", sk_c, sk_r - 5 * s)
    canvas.ellipsoid("csf", sk_c, sk_r - 7 * s)
    canvas.ellipsoid("grey_matter", sk_c + P(0, -5, 18), sk_r - 11 * s, restrict=("csf",))
    canvas.ellipsoid("white_matter", sk_c + P(0, -5, 22), (sk_r - 11 * s) * 0.72, restrict=("grey_matter",))
    # CSF gap under the occipital lobes (tentorium level)
    canvas.ellipsoid("csf", sk_c + P(0, 30, -18), P(60, 55, 6), restrict=("grey_matter", "white_matter"))
    for sx in (-1, 1):  # cerebellar hemispheres below the tentorium
        canvas.ellipsoid("grey_matter", P(sx * 26, 52, 62), P(36, 30, 24), restrict=("csf", "cortical_bone"))
        canvas.ellipsoid("white_matter", P(sx * 22, 48, 64), P(14, 12, 10), restrict=("grey_matter",))
    top = c2.point(0, c2.depth / 2 + c2.canal_r, c2.height / 2)
    canvas.tube("spinal_cord", [top, P(0, 22, 50), P(0, 18, 85)], [5.5 * s, 9 * s, 13 * s])  # medulla -> pons
    canvas.tube("cortical_bone", [c2.point(0, -c2.depth / 2 + 4 * s, 45 * s), P(0, 5, 90)], 8 * s)  # clivus
    canvas.tube("marrow_red", [c2.point(0, -c2.depth / 2 + 4 * s, 45 * s), P(0, 5, 90)], 5 * s,
                restrict=("cortical_bone",))
    dens = c2.point(0, 0, c2.height / 2)
    canvas.tube("cortical_bone", [dens, dens + P(0, 0, 16)], 5.5 * s)
    canvas.tube("marrow_red", [dens, dens + P(0, 0, 15)], 3.5 * s, restrict=("cortical_bone",))
    ring_z = dens[2] + 10 * s  # C1: anterior arch in front of the dens, lateral masses, posterior arch
    ant = np.array([0, dens[1] - 10 * s, ring_z])
    post = np.array([0, dens[1] + 2 * c2.canal_r + 14 * s, ring_z])
    for sx in (-1, 1):
        lat = np.array([sx * 24 * s, dens[1] + 8 * s, ring_z])
        canvas.ellipsoid("cortical_bone", lat, P(8, 10, 9))
        canvas.ellipsoid("marrow_red", lat, P(6, 8, 7), restrict=("cortical_bone",))
        canvas.tube("cortical_bone", [ant, lat, post], 4.5 * s)
        # mandible: ramus up to the skull base, body round to the chin
        jaw = [P(sx * 48, -5, 50), P(sx * 46, -15, 5), P(sx * 35, -55, -5), P(0, -78, -8)]
        canvas.tube("cortical_bone", jaw, 6 * s)
        canvas.tube("marrow_red", jaw, 3.5 * s, restrict=("cortical_bone",))
    canvas.tube("cortical_bone", [P(0, -75, 38), P(0, -25, 38)], [8 * s, 6 * s])  # hard palate
    canvas.ellipsoid("air", P(0, -52, 60), P(14, 26, 18), restrict=("muscle", "fat"))  # nasal cavity
    canvas.ellipsoid("tongue", P(0, -42, 14), P(26, 30, 20), restrict=("muscle", "fat"))

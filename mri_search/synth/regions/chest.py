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
from ..physics.phantom import Canvas, Phantom
from ..physics.tissues import label_of
from ..types import Lesion, Patient
from . import _trunk_common as tc
from ._thorax import heart_frame
from ._torso import paint_trunk
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
    paint_trunk(canvas, body)
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

"""Neck (cancer-staging) MRI phantom: skull base to thoracic inlet, with head-and-neck tumours by sub-site.

The anatomy is the shared head-and-neck body (``_head_common``); this module opens the neck window on it and
plants the findings. Each of the twelve ``catalog.HN_SITES`` sub-sites is painted where it really is (tonsil in the
lateral oropharyngeal wall at the level of the mandibular angle, glottic tumours on a true cord, nasopharyngeal ones
in the fossa of Rosenmueller, ...), because the pathology benchmark grades retrieval by sub-site. Shape follows the
histology (data/head_neck_tumours.csv): squamous carcinomas infiltrative with necrosis when large, lymphoma smooth
and bulky (bilateral tonsils at times), pleomorphic adenoma lobulated and encapsulated, Warthin circumscribed with
cysts. Nodal metastases follow each sub-site's drainage (csv ``spread_and_nodes``) and are listed in
``attributes["nodes"]``.
"""

from __future__ import annotations

import numpy as np

from .. import catalog
from ..physics.phantom import Canvas, Phantom
from ..physics.tissues import label_of
from ..types import Lesion, Patient
from scipy import ndimage

from ._head_common import (HeadShape, changed_extent, draw_head_shape, ellipsoid_mask, set_geometry, side_x,
                           snapshot)
from ._head_neck_anatomy import paint_head_and_neck, reopen_airway
from .base import side_of

SUBREGIONS: tuple[str, ...] = ("neck",)

P_TUMOUR = 0.82  # staging protocol: most neck MRIs image a known or suspected primary; ~18% come back normal [E]
P_SINUS_CYST = 0.10  # maxillary retention cysts on ~10% of adult head MRIs (incidental sinus findings) [R]
SPACING = 1.5  # mm: 320 mm canvas axis -> 214 voxels
MARGIN = 30.0  # mm beyond the largest FOV (base.py contract)
HALF_FOV = 130.0  # mm: coronal/axial FOV up to 260 mm (protocols.csv head_and_neck)

# Largest-diameter range per sub-site (head_neck_tumours.csv typical_size_mm); drawn sizes are clipped to it.
SITE_SIZE = {"nasopharynx": (10, 50), "oropharynx_tonsil": (15, 45), "base_of_tongue": (15, 50),
             "oral_tongue": (10, 40), "floor_of_mouth": (10, 40), "larynx_glottic": (6, 25),
             "larynx_supraglottic": (10, 40), "hypopharynx": (20, 50), "parotid": (10, 60),
             "submandibular": (10, 40), "thyroid": (8, 40), "sinonasal": (20, 60)}
# Margin irregularity per tissue: infiltrative carcinoma vs circumscribed benign/lymphoma (csv T2/appearance) [E]
IRREGULARITY = {"scc": 0.42, "npc": 0.3, "salivary_carcinoma": 0.35, "lymphoma": 0.1, "pleomorphic_adenoma": 0.14,
                "warthin": 0.05, "thyroid_carcinoma": 0.2}
P_NECROSIS = {"scc": 0.6, "salivary_carcinoma": 0.3, "npc": 0.15}  # when the primary exceeds 25 mm [E]
SOFT_MUCOSAL = ("mucosa", "muscle", "fat", "tongue", "lymph_node", "air")
RESTRICT = {  # tissues a primary may replace at each sub-site (bone only where erosion is typical)
    "nasopharynx": SOFT_MUCOSAL, "oropharynx_tonsil": SOFT_MUCOSAL, "base_of_tongue": SOFT_MUCOSAL,
    "oral_tongue": ("tongue", "mucosa", "muscle"), "floor_of_mouth": ("tongue", "fat", "submandibular", "muscle",
                                                                     "mucosa", "lymph_node"),
    "larynx_glottic": ("muscle", "mucosa", "fat", "air"), "larynx_supraglottic": ("muscle", "mucosa", "fat", "air"),
    "hypopharynx": SOFT_MUCOSAL, "parotid": ("parotid", "fat", "muscle", "lymph_node"),
    "submandibular": ("submandibular", "fat", "muscle", "lymph_node"), "thyroid": ("thyroid", "fat", "muscle"),
    "sinonasal": ("air", "mucosa", "fat", "cortical_bone", "marrow_yellow", "marrow_red"),
}
ELONGATION = {"larynx_glottic": (0.75, 1.3, 0.6), "oropharynx_tonsil": (0.9, 1.0, 1.25), "hypopharynx": (0.8, 1.0, 1.3),
              "thyroid": (0.9, 0.9, 1.3), "nasopharynx": (1.0, 1.0, 1.15)}
# Nodal drainage per sub-site (csv spread_and_nodes): P(nodes), echelon levels in order, P(contralateral) [R/E]
SPREAD = {"nasopharynx": (0.85, ("retropharyngeal", "IIb", "IIa", "V"), 0.4),
          "oropharynx_tonsil": (0.7, ("IIa", "III", "retropharyngeal", "IV"), 0.15),
          "base_of_tongue": (0.7, ("IIa", "III", "retropharyngeal"), 0.4),
          "oral_tongue": (0.4, ("Ib", "IIa", "III"), 0.1), "floor_of_mouth": (0.45, ("Ib", "IIa"), 0.3),
          "larynx_glottic": (0.08, ("III", "IIa"), 0.0), "larynx_supraglottic": (0.55, ("IIa", "III"), 0.35),
          "hypopharynx": (0.75, ("IIa", "III", "IV", "retropharyngeal"), 0.3),
          "parotid": (0.3, ("IIa", "IIb"), 0.0), "submandibular": (0.3, ("Ib", "IIa"), 0.0),
          "thyroid": (0.35, ("VI", "III", "IV"), 0.1), "sinonasal": (0.15, ("Ib", "IIa", "retropharyngeal"), 0.0)}
BENIGN = ("pleomorphic_adenoma", "warthin_tumour")
AIRWAY_SITES = ("nasopharynx", "oropharynx_tonsil", "base_of_tongue", "larynx_glottic", "larynx_supraglottic",
                "hypopharynx")
# Extension zones: name -> (landmark stem, radii mm); "_S" is replaced by the tumour's side
ZONES = {"parapharyngeal_space": ("parapharyngeal_S", (7, 10, 18)), "soft_palate": ("soft_palate", (15, 6, 11)),
         "glossotonsillar_sulcus": ("glossotonsillar_S", (5, 5, 6)), "pre_epiglottic_space": ("pre_epiglottic",
                                                                                             (10, 5, 9)),
         "paraglottic_space": ("paraglottic_S", (5, 10, 10)), "deep_lobe": ("parotid_deep_S", (7, 8, 12))}
SITE_ZONES = {"nasopharynx": ("parapharyngeal_space",), "oropharynx_tonsil": ("soft_palate", "glossotonsillar_sulcus",
                                                                              "parapharyngeal_space"),
              "base_of_tongue": ("pre_epiglottic_space",), "larynx_glottic": ("paraglottic_space",),
              "larynx_supraglottic": ("pre_epiglottic_space", "paraglottic_space"),
              "hypopharynx": ("paraglottic_space",), "parotid": ("deep_lobe",)}


def _check(subregion: str) -> None:
    if subregion not in SUBREGIONS:
        raise ValueError(f"head_neck builds {SUBREGIONS}, not {subregion!r}")


def sample_findings(patient: Patient, subregion: str, rng: np.random.Generator,
                    force: tuple[bool, str | None] | None = None) -> tuple[list[Lesion], list[Lesion]]:
    """Draw the primary tumour (sub-site, histology, target size) and an incidental sinus retention cyst.

    ``force = (tumour present, sub-site)`` overrides the two draws (a training mix balanced by sub-site); the
    random stream is consumed as without it, so everything else about the patient stays the same.
    """
    _check(subregion)
    lesions, incidentals = [], []
    present = rng.random() < P_TUMOUR
    if force is not None:
        present = force[0]
    if present:
        site = catalog.draw_site("hn_tumour", rng)
        if force is not None and force[1]:
            site = force[1]
        hist = catalog.draw_histology("hn_tumour", site, rng)
        lo, hi = SITE_SIZE[site]
        d = float(np.clip(catalog.draw_size("hn_tumour", rng), lo, hi))
        lesions.append(Lesion("hn_tumour", site, hist, tissue=catalog.HISTOLOGY_TISSUE[hist], size_mm=(d, d, d)))
    if rng.random() < P_SINUS_CYST:
        d = catalog.draw_size("sinus_retention_cyst", rng)
        incidentals.append(Lesion("sinus_retention_cyst", "maxillary_sinus", None, tissue="simple_cyst",
                                  size_mm=(d, d, d)))
    return lesions, incidentals


def build(patient: Patient, subregion: str, lesions: list[Lesion], incidentals: list[Lesion],
          rng: np.random.Generator, side: str | None = None) -> Phantom:
    """Paint the neck phantom and its findings (``side`` is ignored: the neck is imaged whole)."""
    _check(subregion)
    h = draw_head_shape(patient, rng)
    fc = np.asarray(h.p(0, -5, -60))  # midway between skull base and thoracic inlet, on the pharynx
    half = HALF_FOV + MARGIN
    lo = (fc[0] - half, h.p(0, -135, 0)[1], fc[2] - half)  # AP: the body ends (face -110, back +105 mm)
    hi = (fc[0] + half, h.p(0, 132, 0)[1], fc[2] + half)
    cv = Canvas(lo, hi, SPACING, rng, warp_mm=2.5, warp_scale_mm=70.0)
    paint_head_and_neck(cv, h, rng)
    cv.mark("fov_center", fc)
    lesions[:] = [les for les in lesions if _paint_primary(cv, h, les, rng)]
    incidentals[:] = [les for les in incidentals if _paint_cyst(cv, les, rng)]
    return cv.finish(int(rng.integers(2**31)))


def _side(rng: np.random.Generator) -> str:
    return "L" if rng.random() < 0.5 else "R"


def _anchor(cv: Canvas, site: str, s: str, rng: np.random.Generator) -> np.ndarray | None:
    """Centre of the primary at its sub-site (side ``s``), with a little positional spread."""
    sgn = 1.0 if s == "L" else -1.0
    lm = cv.landmarks
    j = rng.normal(0.0, 1.5, 3)
    if site == "nasopharynx":
        return lm[f"rosenmuller_{s}"] + j
    if site == "oropharynx_tonsil":
        return lm[f"tonsil_{s}"] + j
    if site == "base_of_tongue":
        return lm["base_of_tongue"] + (sgn * rng.uniform(0, 8), 0, 0) + j
    if site == "oral_tongue":  # lateral border, mid/posterior third
        return lm[f"oral_tongue_{s}"] + (0, rng.uniform(-4, 10), 0) + j
    if site == "floor_of_mouth":  # anterior, near the midline
        return lm["floor_of_mouth"] + (sgn * rng.uniform(0, 8), 0, 0) + j
    if site == "larynx_glottic":
        return lm[f"true_cord_{s}"] + (0, rng.uniform(-4, 1), 0)
    if site == "larynx_supraglottic":
        return lm["epiglottis"] + (sgn * 3, 0, 0) + j if rng.random() < 0.5 else lm[f"false_cord_{s}"] + j
    if site == "hypopharynx":
        return lm[f"pyriform_{s}"] + j
    if site == "parotid":
        return lm[f"parotid_{s}"] + (0, rng.uniform(-4, 6), rng.uniform(-12, 8))
    if site == "submandibular":
        return lm[f"submandibular_{s}"] + j
    if site == "thyroid":
        return lm[f"thyroid_{s}"] + (0, 0, rng.uniform(-10, 10))
    if site == "sinonasal":
        return lm[f"maxillary_sinus_{s}"] + j if rng.random() < 0.7 else lm["nasal_cavity"] + (sgn * 7, 0, 0) + j
    return None


def _paint_primary(cv: Canvas, h: HeadShape, les: Lesion, rng: np.random.Generator) -> bool:
    """Paint one hn_tumour at its sub-site, measure it, its extension, depth of invasion and nodes."""
    if les.kind != "hn_tumour" or les.site not in SITE_SIZE:
        return False
    s = _side(rng)
    centre = _anchor(cv, les.site, s, rng)
    tis = les.tissue or catalog.HISTOLOGY_TISSUE.get(les.histology or "", "scc")
    les.tissue = tis
    d = float(max(les.size_mm)) if max(les.size_mm) > 0 else float(np.mean(SITE_SIZE[les.site]))
    r = d / 2.0
    el = ELONGATION.get(les.site, (1.0, 1.0, 1.0))
    snap = snapshot(cv, centre, 2.2 * r + 10)
    cv.blob(tis, centre, r / max(el), IRREGULARITY.get(tis, 0.3), restrict=RESTRICT[les.site], elongation=el)
    attrs: dict = {"necrotic": False}
    if d > 25 and rng.random() < P_NECROSIS.get(tis, 0.0):
        cv.blob("necrosis", centre, 0.35 * r, 0.3, restrict=(tis,))
        attrs["necrotic"] = True
    if tis == "warthin":  # cystic foci (T1-bright/T2-variable fluid, non-enhancing)
        for _ in range(int(rng.integers(1, 4))):
            cv.ellipsoid("necrosis", centre + rng.normal(0, r * 0.35, 3), (r * 0.22,) * 3, restrict=(tis,))
    if tis == "pleomorphic_adenoma":  # thin fibrous capsule, T2-dark
        cv.dilate_label("tendon", tis, 1.0, restrict=("parotid", "submandibular", "fat"))
    if les.site in AIRWAY_SITES:
        reopen_airway(cv, h, (tis, "necrosis"))
    ext = changed_extent(cv, snap, (tis, "necrosis"))
    if ext is None:
        return False
    mask, c, size = ext
    set_geometry(les, c, size)
    les.laterality = side_of(side_x(cv, mask), tol=1.0 if les.site == "larynx_glottic" else 3.0)  # cords: +-5 mm
    attrs["extension"] = _extension(cv, les.site, s, mask, snap, c)
    if les.site in ("oral_tongue", "floor_of_mouth"):
        attrs["depth_of_invasion_mm"] = _depth_of_invasion(cv, les.site, mask, snap)
    if les.histology in ("lymphoma", "warthin_tumour") and rng.random() < (0.3 if tis == "lymphoma" else 0.15) \
            and les.site in ("oropharynx_tonsil", "parotid"):  # bilateral disease
        o = "R" if s == "L" else "L"
        stem = "tonsil" if les.site == "oropharynx_tonsil" else "parotid"
        cv.blob(tis, cv.landmarks[f"{stem}_{o}"], r * rng.uniform(0.6, 0.9), IRREGULARITY[tis],
                restrict=RESTRICT[les.site])
        les.laterality = "bilateral"
    attrs["nodes"] = _paint_nodes(cv, les, s, rng)
    les.attributes.update(attrs)
    return True


def _extension(cv: Canvas, site: str, s: str, mask: np.ndarray, snap, c: np.ndarray) -> list[str]:
    """Named structures the painted tumour reaches, tested on the voxels (not on the plan)."""
    out = []
    xs = cv.origin[0] + cv.spacing * np.nonzero(mask.any(axis=(1, 2)))[0]
    if (c[0] > 0 and xs.min() < -3.0) or (c[0] <= 0 and xs.max() > 3.0):
        out.append("crosses_midline")
    for zone in SITE_ZONES.get(site, ()):
        stem, radii = ZONES[zone]
        if (mask & ellipsoid_mask(cv, cv.landmarks[stem.replace("_S", f"_{s}")], radii)).any():
            out.append(zone)
    sl, before = snap
    near = _dilate(mask[sl])
    touched = near & (before == label_of("cortical_bone"))
    if site == "nasopharynx" and touched.any():
        out.append("skull_base")
    if site == "floor_of_mouth" and touched.any():
        out.append("mandible")
    if site == "sinonasal":
        if (near & (before == label_of("ligament_fat_pad"))).any():
            out.append("orbit")
    return out


def _dilate(mask: np.ndarray, n: int = 2) -> np.ndarray:
    return ndimage.binary_dilation(mask, iterations=n)


def _depth_of_invasion(cv: Canvas, site: str, mask: np.ndarray, snap) -> float:
    """Depth of tumour below the mucosal surface: extent of replaced tongue/floor tissue, across the tongue border
    (x) for the oral tongue, downwards (z) for the floor of mouth (AJCC8 measures DOI perpendicular to mucosa)."""
    sl, before = snap
    deep = mask[sl] & np.isin(before, [label_of(t) for t in ("tongue", "fat", "submandibular", "muscle")])
    if not deep.any():
        return 0.0
    axis = 0 if site == "oral_tongue" else 2
    other = tuple(a for a in range(3) if a != axis)
    idx = np.nonzero(deep.any(axis=other))[0]
    return round(float((idx.max() - idx.min() + 1) * cv.spacing), 1)


def _paint_nodes(cv: Canvas, les: Lesion, s: str, rng: np.random.Generator) -> list[dict]:
    """Nodal disease along the sub-site's drainage; each node measured on its own voxels."""
    p_nodes, levels, p_contra = SPREAD[les.site]
    if les.histology in BENIGN:
        return []
    if les.histology == "lymphoma":
        p_nodes, p_contra = 0.6, 0.5
    if rng.random() >= p_nodes:
        return []
    plan = [(levels[0], s)] + [(lv, s) for lv in levels[1:] if rng.random() < 0.5]
    if rng.random() < p_contra:
        plan.append((levels[0], "R" if s == "L" else "L"))
    tis = "lymphoma" if les.histology == "lymphoma" else "nodal_metastasis"
    hpv = les.histology == "scc_hpv_positive"
    p_nec = {"scc_hpv_positive": 0.5, "nasopharyngeal_carcinoma": 0.15, "lymphoma": 0.0}.get(les.histology, 0.4)
    nodes = []
    for level, side in plan:
        short = float(np.exp(rng.uniform(np.log(9.0), np.log(30.0 if level != "retropharyngeal" else 16.0))))
        c = cv.landmarks[f"node_{level}_{side}"] + rng.normal(0, 2.0, 3)
        snap = snapshot(cv, c, short * 1.6 + 6)
        cv.blob(tis, c, short / 2.0, 0.08, restrict=("muscle", "fat", "lymph_node", "mucosa"),
                elongation=(1.0, 1.0, 1.4))
        necrotic = short > 12 and rng.random() < p_nec
        if necrotic:  # HPV+ nodes are typically cystic: a large fluid centre
            cv.blob("necrosis", c, short / 2.0 * (0.65 if hpv else 0.4), 0.15, restrict=(tis,))
        ext = changed_extent(cv, snap, (tis, "necrosis"))
        if ext is None:
            continue
        _, nc, size = ext
        nodes.append({"level": level, "side": "left" if nc[0] > 0 else "right",
                      "short_axis_mm": round(float(min(size[0], size[1])), 1), "necrotic": bool(necrotic)})
    return nodes


def _paint_cyst(cv: Canvas, les: Lesion, rng: np.random.Generator) -> bool:
    """Dome-shaped retention cyst on the floor of a maxillary antrum."""
    if les.kind != "sinus_retention_cyst":
        return False
    s = _side(rng)
    r = float(max(les.size_mm)) / 2.0 if max(les.size_mm) > 0 else 6.0
    floor = cv.landmarks[f"maxillary_sinus_{s}"] - (0, 0, 12.0)
    snap = snapshot(cv, floor, 2 * r + 6)
    cv.blob("simple_cyst", floor + (0, 0, r * 0.3), r, 0.04, restrict=("air", "mucosa"))
    ext = changed_extent(cv, snap, ("simple_cyst",))
    if ext is None:
        return False
    m, c, size = ext
    set_geometry(les, c, size)
    les.laterality = side_of(side_x(cv, m))
    return True

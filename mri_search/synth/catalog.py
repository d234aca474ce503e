"""The catalogue of findings the generator can plant: kinds, named sites, histologies and sizes.

This is the shared vocabulary between the region phantoms (which paint a finding at its site), the report generator
(which describes it) and the manifest (``tumor_site``, ``tumor_histology``). Frequencies and size ranges follow
``data/head_neck_tumours.csv`` and ``data/other_lesions.csv`` (columns ``relative_frequency``/``typical_size_mm``);
where those give only qualitative frequencies, the weights below are rounded estimates ([E]) chosen so that every
sub-site still appears often enough to be benchmarked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class FindingKind:
    """One kind of finding and how to draw its particulars."""

    region: str  # canonical body region it belongs to
    sites: dict[str, float]  # named site -> relative weight
    histologies: dict[str, dict[str, float]] = field(default_factory=dict)  # site (or "*") -> histology -> weight
    size_mm: tuple[float, float] = (10.0, 30.0)  # range of the largest diameter
    tumour: bool = False  # True: fills the manifest's tumor_site / tumor_histology
    lateralised: bool = True  # True: the finding has a side (drawn by the region)


# Histology -> tissue key in physics/tissues.py of the solid component.
HISTOLOGY_TISSUE: dict[str, str] = {
    "nasopharyngeal_carcinoma": "npc",
    "scc_hpv_positive": "scc",
    "scc_hpv_negative": "scc",
    "scc": "scc",
    "lymphoma": "lymphoma",
    "pleomorphic_adenoma": "pleomorphic_adenoma",
    "warthin_tumour": "warthin",
    "mucoepidermoid_carcinoma": "salivary_carcinoma",
    "adenoid_cystic_carcinoma": "salivary_carcinoma",
    "papillary_thyroid_carcinoma": "thyroid_carcinoma",
    "follicular_thyroid_carcinoma": "thyroid_carcinoma",
    "sinonasal_adenocarcinoma": "scc",
    "glioblastoma": "glioblastoma",
    "low_grade_glioma": "low_grade_glioma",
    "meningioma": "meningioma",
    "metastasis": "metastasis",
    "hepatocellular_carcinoma": "hcc",
    "haemangioma": "hemangioma",
    "colorectal_metastasis": "liver_metastasis",
    "prostate_adenocarcinoma": "prostate_cancer",
    "invasive_ductal_carcinoma": "breast_carcinoma",
    "fibroadenoma": "pleomorphic_adenoma",  # myxoid, T2-bright, circumscribed: closest tissue row [E]
    "leiomyoma": "fibroid",
}

# Head-and-neck tumour sub-sites: the ten+ sub-sites the pathology benchmark grades by.
HN_SITES: dict[str, float] = {
    "nasopharynx": 0.08,
    "oropharynx_tonsil": 0.14,
    "base_of_tongue": 0.10,
    "oral_tongue": 0.10,
    "floor_of_mouth": 0.06,
    "larynx_glottic": 0.09,
    "larynx_supraglottic": 0.07,
    "hypopharynx": 0.07,
    "parotid": 0.12,
    "submandibular": 0.06,
    "thyroid": 0.06,
    "sinonasal": 0.05,
}

_SCC_OROPHARYNX = {"scc_hpv_positive": 0.6, "scc_hpv_negative": 0.25, "lymphoma": 0.15}

KINDS: dict[str, FindingKind] = {
    # ---- head and neck ------------------------------------------------------------------------------------
    "hn_tumour": FindingKind(
        region="head_neck", sites=HN_SITES, tumour=True, size_mm=(12.0, 45.0),
        histologies={
            "nasopharynx": {"nasopharyngeal_carcinoma": 0.75, "scc": 0.1, "lymphoma": 0.15},
            "oropharynx_tonsil": _SCC_OROPHARYNX,
            "base_of_tongue": _SCC_OROPHARYNX,
            "oral_tongue": {"scc": 1.0},
            "floor_of_mouth": {"scc": 0.85, "adenoid_cystic_carcinoma": 0.15},
            "larynx_glottic": {"scc": 1.0},
            "larynx_supraglottic": {"scc": 1.0},
            "hypopharynx": {"scc": 1.0},
            "parotid": {"pleomorphic_adenoma": 0.5, "warthin_tumour": 0.25, "mucoepidermoid_carcinoma": 0.15,
                        "adenoid_cystic_carcinoma": 0.05, "lymphoma": 0.05},
            "submandibular": {"pleomorphic_adenoma": 0.55, "adenoid_cystic_carcinoma": 0.25,
                              "mucoepidermoid_carcinoma": 0.2},
            "thyroid": {"papillary_thyroid_carcinoma": 0.85, "follicular_thyroid_carcinoma": 0.15},
            "sinonasal": {"scc": 0.6, "sinonasal_adenocarcinoma": 0.25, "lymphoma": 0.15},
        }),
    # nodal metastases are attributes of an hn_tumour (lesion.attributes["nodes"]), painted by the region
    "sinus_retention_cyst": FindingKind(region="head_neck", sites={"maxillary_sinus": 1.0}, size_mm=(6, 20)),
    # ---- brain --------------------------------------------------------------------------------------------
    "brain_tumour": FindingKind(
        region="brain", tumour=True, size_mm=(15.0, 60.0),
        sites={"frontal_lobe": 0.35, "temporal_lobe": 0.25, "parietal_lobe": 0.25, "occipital_lobe": 0.05,
               "cerebellum": 0.10},
        histologies={"*": {"glioblastoma": 0.4, "low_grade_glioma": 0.2, "meningioma": 0.25, "metastasis": 0.15}}),
    "acute_infarct": FindingKind(region="brain", sites={"mca_territory": 0.7, "lacunar_basal_ganglia": 0.3},
                                 size_mm=(8.0, 50.0)),
    "white_matter_hyperintensities": FindingKind(region="brain", sites={"periventricular": 1.0}, size_mm=(2, 12),
                                                 lateralised=False),
    # ---- spine --------------------------------------------------------------------------------------------
    "disc_herniation": FindingKind(
        region="spine", size_mm=(3.0, 12.0),
        sites={"L3-L4": 0.1, "L4-L5": 0.45, "L5-S1": 0.45, "C4-C5": 0.15, "C5-C6": 0.45, "C6-C7": 0.4}),
    "disc_degeneration": FindingKind(region="spine", sites={"L4-L5": 0.5, "L5-S1": 0.5, "C5-C6": 0.5, "C6-C7": 0.5},
                                     size_mm=(0, 0), lateralised=False),
    "vertebral_haemangioma": FindingKind(region="spine", sites={"vertebral_body": 1.0}, size_mm=(6, 20),
                                         lateralised=False),
    # ---- breast -------------------------------------------------------------------------------------------
    "breast_mass": FindingKind(
        region="breast", tumour=True, size_mm=(6.0, 40.0),
        sites={"upper_outer_quadrant": 0.5, "upper_inner_quadrant": 0.15, "lower_outer_quadrant": 0.15,
               "lower_inner_quadrant": 0.1, "retroareolar": 0.1},
        histologies={"*": {"invasive_ductal_carcinoma": 0.65, "fibroadenoma": 0.35}}),
    "breast_cyst": FindingKind(region="breast", sites={"any": 1.0}, size_mm=(4, 20)),
    # ---- chest / cardiac ----------------------------------------------------------------------------------
    "lung_mass": FindingKind(region="chest", tumour=True, size_mm=(15, 50),
                             sites={"right_upper_lobe": 0.3, "left_upper_lobe": 0.25, "right_lower_lobe": 0.25,
                                    "left_lower_lobe": 0.2},
                             histologies={"*": {"scc": 0.5, "metastasis": 0.5}}),
    "myocardial_scar": FindingKind(region="chest", sites={"lad_territory": 0.5, "rca_territory": 0.3,
                                                          "lcx_territory": 0.2}, size_mm=(10, 40),
                                   lateralised=False),
    "pericardial_effusion": FindingKind(region="chest", sites={"pericardium": 1.0}, size_mm=(5, 20),
                                        lateralised=False),
    # ---- abdomen ------------------------------------------------------------------------------------------
    "liver_lesion": FindingKind(
        region="abdomen", tumour=True, size_mm=(10.0, 60.0),
        sites={f"segment_{s}": w for s, w in [("II", .08), ("III", .08), ("IVa", .08), ("IVb", .06), ("V", .12),
                                               ("VI", .14), ("VII", .2), ("VIII", .24)]},
        histologies={"*": {"hepatocellular_carcinoma": 0.35, "haemangioma": 0.35, "colorectal_metastasis": 0.3}}),
    "liver_cyst": FindingKind(region="abdomen", sites={"any": 1.0}, size_mm=(5, 25), lateralised=False),
    "renal_cyst": FindingKind(region="abdomen", sites={"upper_pole": 0.4, "lower_pole": 0.4, "interpolar": 0.2},
                              size_mm=(8, 40)),
    # ---- pelvis -------------------------------------------------------------------------------------------
    "prostate_lesion": FindingKind(
        region="pelvis", tumour=True, size_mm=(6.0, 25.0),
        sites={"peripheral_zone_base": 0.25, "peripheral_zone_mid": 0.45, "peripheral_zone_apex": 0.3},
        histologies={"*": {"prostate_adenocarcinoma": 1.0}}),
    "uterine_fibroid": FindingKind(region="pelvis", sites={"intramural": 0.6, "submucosal": 0.2, "subserosal": 0.2},
                                   size_mm=(15, 80), lateralised=False,
                                   histologies={"*": {"leiomyoma": 1.0}}),
    "ovarian_cyst": FindingKind(region="pelvis", sites={"ovary": 1.0}, size_mm=(15, 50)),
    # ---- knee ---------------------------------------------------------------------------------------------
    "meniscal_tear": FindingKind(
        region="knee", size_mm=(5, 25),
        sites={"medial_meniscus_posterior_horn": 0.55, "medial_meniscus_body": 0.1,
               "lateral_meniscus_posterior_horn": 0.15, "lateral_meniscus_anterior_horn": 0.1,
               "lateral_meniscus_body": 0.1}, lateralised=False),
    "acl_tear": FindingKind(region="knee", sites={"acl_midsubstance": 1.0}, size_mm=(10, 30), lateralised=False),
    "bone_contusion": FindingKind(region="knee", sites={"lateral_femoral_condyle": 0.5,
                                                        "lateral_tibial_plateau": 0.3,
                                                        "medial_femoral_condyle": 0.2},
                                  size_mm=(8, 30), lateralised=False),
    "joint_effusion": FindingKind(region="knee", sites={"suprapatellar_recess": 1.0}, size_mm=(5, 25),
                                  lateralised=False),
    "baker_cyst": FindingKind(region="knee", sites={"popliteal": 1.0}, size_mm=(15, 50), lateralised=False),
    # ---- shoulder -----------------------------------------------------------------------------------------
    "rotator_cuff_tear": FindingKind(region="shoulder", sites={"supraspinatus": 0.8, "infraspinatus": 0.1,
                                                               "subscapularis": 0.1},
                                     size_mm=(4, 30), lateralised=False),
    "subacromial_bursitis": FindingKind(region="shoulder", sites={"subacromial_bursa": 1.0}, size_mm=(2, 8),
                                        lateralised=False),
}

# Vocabulary of ``Lesion.attributes`` keys. Regions set the ones that apply when they paint a finding; the report
# generator reads them. A key that is absent means "not applicable / not present".
ATTRIBUTES: dict[str, str] = {
    "necrotic": "bool: a non-enhancing fluid core was painted",
    "nodes": "list of dicts {level: 'Ib'|'IIa'|'IIb'|'III'|'IV'|'V'|'VI'|'retropharyngeal', side: 'left'|'right', "
             "short_axis_mm: float, necrotic: bool}: nodal metastases painted (head and neck)",
    "extension": "list of str: named structures the tumour reaches or crosses, e.g. 'crosses_midline', "
                 "'soft_palate', 'glossotonsillar_sulcus', 'pre_epiglottic_space', 'paraglottic_space', "
                 "'skull_base', 'parapharyngeal_space', 'deep_lobe', 'mandible', 'orbit'",
    "edema": "bool: surrounding vasogenic oedema painted (brain)",
    "midline_shift_mm": "float (brain)",
    "count": "int: number of lesions of this kind painted (metastases, white-matter foci)",
    "fazekas": "int 1-3 (white-matter hyperintensities)",
    "pirads": "int 2-5 (prostate)",
    "birads": "int 2-6 (breast)",
    "lirads": "int 3-5 (liver, hepatocellular carcinoma)",
    "clock": "str like '10 o'clock' (breast)",
    "zone": "str: 'central'|'subarticular'|'foraminal' (disc) or 'peripheral'|'transition' (prostate)",
    "herniation_type": "str: 'protrusion'|'extrusion' (disc)",
    "nerve_root": "str like 'L5' (disc): the compressed root",
    "modic": "int 1-2 (disc degeneration)",
    "tear_type": "str: 'oblique'|'horizontal'|'radial'|'complex'|'vertical' (meniscus)",
    "thickness": "str: 'partial'|'full' (rotator cuff tear)",
    "complete": "bool (ACL tear)",
    "severity": "str: 'small'|'moderate'|'large' (effusions)",
    "segment": "str: Couinaud segment (liver)",
    "level": "str: vertebral level (spine)",
    "depth_of_invasion_mm": "float (oral tongue / floor of mouth)",
}


def kinds_for(region: str) -> dict[str, FindingKind]:
    """The finding kinds of one region."""
    return {k: v for k, v in KINDS.items() if v.region == region}


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.asarray([weights[k] for k in keys], float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def draw_site(kind: str, rng: np.random.Generator) -> str:
    """Draw a site of ``kind`` by its weights."""
    return _pick(rng, KINDS[kind].sites)


def draw_histology(kind: str, site: str, rng: np.random.Generator) -> str | None:
    """Draw a histology for ``kind`` at ``site`` (None when the kind has none)."""
    h = KINDS[kind].histologies
    table = h.get(site) or h.get("*")
    return _pick(rng, table) if table else None


def draw_size(kind: str, rng: np.random.Generator) -> float:
    """Draw the largest diameter (mm) of a finding, log-uniform in its range (small lesions are commoner)."""
    lo, hi = KINDS[kind].size_mm
    if hi <= 0:
        return 0.0
    return float(np.exp(rng.uniform(np.log(max(lo, 1.0)), np.log(hi))))

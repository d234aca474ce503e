"""The catalogue of findings the generator can plant: kinds, named sites, histologies and sizes.

Each region declares its finding kinds in its spec (``regions/specs/<region>.py``); this module gathers them into
``KINDS`` and draws their particulars. It is the shared vocabulary between the region phantoms (which paint a
finding at its site), the report generator (which describes it) and the manifest (``tumor_site``,
``tumor_histology``). Frequencies and size ranges follow ``data/head_neck_tumours.csv`` and
``data/other_lesions.csv`` (columns ``relative_frequency``/``typical_size_mm``); where those give only qualitative
frequencies, the weights in the specs are rounded estimates ([E]) chosen so that every sub-site still appears often
enough to be benchmarked.
"""

from __future__ import annotations

import numpy as np

from .regions import SPECS, region_spec
from .regions.spec import FindingKind

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

# Every finding kind, from the regions' specs (``regions/specs/<region>.py``: ``RegionSpec.findings``).
KINDS: dict[str, FindingKind] = {kind: fk for spec in SPECS.values() for kind, fk in spec.findings.items()}
# Head-and-neck tumour sub-sites: the ten+ sub-sites the pathology benchmark grades by.
HN_SITES: dict[str, float] = KINDS["hn_tumour"].sites

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
    return dict(region_spec(region).findings)


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

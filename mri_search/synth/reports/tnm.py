"""Radiological T and N categories of head-and-neck primaries (AJCC 8th), from ``data/head_neck_tumours.csv``.

The csv column ``T_category_cutoffs_AJCC8`` gives the cut-offs per sub-site; ``Lesion.attributes`` supplies the
extension list, depth of invasion and nodes. Nodes carry only a short-axis diameter, which stands in for the
greatest dimension the N category is defined on (a simplification: it can under-stage a long node).
"""

from __future__ import annotations

from ..types import Lesion

BENIGN = {"pleomorphic_adenoma", "warthin_tumour"}  # no TNM for benign salivary tumours


def t_stage(lesion: Lesion) -> str | None:
    """Radiological T category (AJCC 8th) from size, depth of invasion and extension; None where TNM does not apply."""
    h, site = lesion.histology, lesion.site
    if h in BENIGN or h == "lymphoma":
        return None
    size = max(lesion.size_mm)
    ext = set(lesion.attributes.get("extension", []))
    if site in ("oropharynx_tonsil", "base_of_tongue"):
        if ext & {"lateral_pterygoid", "skull_base"}:
            return "T4" if h == "scc_hpv_positive" else "T4b"
        if ext & {"mandible", "medial_pterygoid", "larynx", "hard_palate"}:
            return "T4" if h == "scc_hpv_positive" else "T4a"
        return "T1" if size <= 20 else "T2" if size <= 40 else "T3"
    if site in ("oral_tongue", "floor_of_mouth"):
        if "mandible" in ext:
            return "T4a"
        doi = lesion.attributes.get("depth_of_invasion_mm")
        if doi is None:
            return "T1" if size <= 20 else "T2" if size <= 40 else "T3"
        if size <= 20:
            return "T1" if doi <= 5 else "T2" if doi <= 10 else "T3"
        if size <= 40:
            return "T2" if doi <= 10 else "T3"
        return "T3" if doi <= 10 else "T4a"
    if site == "nasopharynx":
        if ext & {"orbit", "intracranial", "perineural"}:
            return "T4"
        if "skull_base" in ext:
            return "T3"
        return "T2" if "parapharyngeal_space" in ext else "T1"
    if site == "larynx_glottic":
        if "paraglottic_space" in ext:
            return "T3"
        if ext & {"supraglottis", "subglottis"}:
            return "T2"
        return "T1b" if "crosses_midline" in ext else "T1a"
    if site == "larynx_supraglottic":
        if ext & {"pre_epiglottic_space", "paraglottic_space"}:
            return "T3"
        return "T2" if ext else "T1"
    if site == "hypopharynx":
        if size > 40:
            return "T3"
        return "T2" if size > 20 or ext else "T1"
    if site in ("parotid", "submandibular"):
        if ext & {"mandible", "facial_nerve", "skin"}:
            return "T4a"
        if size > 40 or ext & {"parapharyngeal_space", "skull_base"}:
            return "T3"
        return "T1" if size <= 20 else "T2"
    if site == "thyroid":
        if "strap_muscles" in ext:
            return "T3b"
        return "T1a" if size <= 10 else "T1b" if size <= 20 else "T2" if size <= 40 else "T3a"
    if site == "sinonasal":
        if ext & {"skull_base", "pterygoid_plates", "infratemporal_fossa"}:
            return "T4a"
        if ext & {"orbit", "ethmoid", "pterygopalatine_fossa"}:
            return "T3"
        return "T2" if ext else "T1"
    return None


def n_stage(lesion: Lesion) -> str | None:
    """Clinical/radiological N category (AJCC 8th) from the planted nodes (short axis stands in for size)."""
    h = lesion.histology
    if h in BENIGN or h == "lymphoma":
        return None
    nodes = lesion.attributes.get("nodes", [])
    if not nodes:
        return "N0"
    sides = {n["side"] for n in nodes}
    largest = max(n["short_axis_mm"] for n in nodes)
    primary = lesion.laterality
    contra = len(sides) > 1 or (primary in ("left", "right") and primary not in sides)
    if lesion.site == "thyroid":
        return "N1a" if all(n["level"] == "VI" for n in nodes) else "N1b"
    if lesion.site == "nasopharynx" or h == "nasopharyngeal_carcinoma":
        if largest > 60 or any(n["level"] in ("IV",) for n in nodes):
            return "N3"
        return "N2" if len(sides) > 1 else "N1"
    if h == "scc_hpv_positive":
        return "N3" if largest > 60 else "N2" if contra else "N1"
    if largest > 60:
        return "N3a"
    if contra:
        return "N2c"
    if len(nodes) > 1:
        return "N2b"
    return "N2a" if largest > 30 else "N1"

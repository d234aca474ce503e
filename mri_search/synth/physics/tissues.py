"""The one table of phantom tissue labels and their MR properties.

Every phantom voxel holds one label from ``TISSUES``. Literature values (T1, T2, proton density, ADC, fat fraction)
are read from ``data/tissue_relaxation.csv``, which carries its sources per row (Stanisz 2005, de Bazelaire 2004,
Wansapura 1999, Jafar 2016, ...). Where that table leaves a cell blank, or where a tissue has no row, the value
below is an engineering estimate and says so (``[E]``) with its reasoning. The label numbers are stable: label maps
written by the generator use them, and ``label_table()`` documents them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np


@dataclass(frozen=True)
class Tissue:
    """MR properties of one tissue at 1.5 T and 3 T."""

    label: int  # value in label maps
    name: str  # key used by phantoms and lesions
    t1: tuple[float, float]  # T1 ms at (1.5 T, 3 T)
    t2: tuple[float, float]  # T2 ms at (1.5 T, 3 T); fat rows hold the effective TSE T2
    pd: float  # proton density relative to free water
    adc: float  # apparent diffusion coefficient, 1e-3 mm^2/s
    fat_fraction: float  # proton-density fat fraction 0-1 (two-pool voxel model)
    gd_mM: float  # tissue gadolinium concentration in a routine post-contrast phase, mmol/L [E]
    source: str  # csv row it comes from, or the reason for the estimate


LESION_LABEL_MIN = 60  # labels from here up are lesion tissues (tumours, necrosis, oedema, tears, cysts, ...)

# (label, name, csv row or None, overrides, gd concentration mM, note)
# Overrides fill blanks or replace a csv value; each one is explained in the note.
_SPEC: list[tuple[int, str, str | None, dict, float, str]] = [
    (0, "background", None, dict(t1=(1, 1), t2=(1, 1), pd=0.0, adc=0, ff=0), 0.0, "no signal (air outside the body)"),
    (1, "air", None, dict(t1=(1, 1), t2=(1, 1), pd=0.0, adc=0, ff=0), 0.0, "airway, sinus and bowel gas: no signal"),
    (2, "fat", "subcutaneous_fat", {}, 0.05, "Gd: ve of adipose ~0.05-0.1 [E]"),
    (3, "muscle", "skeletal_muscle", {}, 0.1, "Gd: ve ~0.1 (contrast_gadolinium.csv skeletal muscle row)"),
    (4, "cortical_bone", "cortical_bone", dict(t1=(250, 300), adc=0.0), 0.0,
     "T1 blank in csv; UTE studies ~200-300 ms [R] (csv note); signal near zero anyway"),
    (5, "marrow_yellow", "bone_marrow_fatty_yellow", {}, 0.05, ""),
    (6, "marrow_red", "bone_marrow_red_vertebral", {}, 0.15, "Gd: vertebral marrow enhances mildly [E]"),
    (7, "csf", "CSF", {}, 0.0, ""),
    (8, "white_matter", "white_matter", {}, 0.0, "BBB intact: no enhancement"),
    (9, "grey_matter", "grey_matter_cortical", {}, 0.0, "BBB intact: no enhancement"),
    (10, "artery", "blood_arterial", dict(adc=3.0), 1.0,
     "ADC blank (flow); set to free water [E]. Flow voids are handled by the signal model"),
    (11, "vein", "blood_venous", dict(adc=3.0), 1.0, "as artery"),
    (12, "skin", "skeletal_muscle", dict(t2=(40, 36), pd=0.7), 0.1, "skin/dermis: muscle-like relaxation [E]"),
    (13, "tongue", "tongue_muscle", {}, 0.15, ""),
    (14, "parotid", "parotid_gland", dict(t1=(800, 1000), t2=(70, 65)), 0.25,
     "T1/T2 blank in csv: serous gland water pool ~ like pancreas/thyroid [E]; FF 0.36 from csv gives T1 brightness"),
    (15, "submandibular", "submandibular_gland", dict(t1=(900, 1100), t2=(70, 65), adc=1.2), 0.3,
     "T1/T2/ADC blank in csv; gland with less fat than parotid [E]"),
    (16, "thyroid", "thyroid", dict(t1=(750, 900), t2=(70, 65)), 0.5,
     "1.5/3 T relaxometry blank in csv (only a low-field 721/59 study): slightly T1 > muscle brightness [E]"),
    (17, "lymph_node", "lymph_node_benign", dict(t1=(1000, 1250), t2=(90, 85)), 0.2,
     "T1 ~ muscle, T2 intermediate-high (csv appearance note) [E]"),
    (18, "mucosa", "lymph_node_benign", dict(t1=(1100, 1350), t2=(110, 100), adc=1.3), 0.4,
     "pharyngeal mucosa / lymphoid tissue: T2-bright, enhancing (report_structure.md) [E]"),
    (19, "laryngeal_cartilage", "cartilage_hyaline", dict(t2=(30, 28), ff=0.2), 0.0,
     "partly ossified hyaline cartilage with fatty marrow [E]"),
    (20, "spinal_cord", "spinal_cord", {}, 0.0, ""),
    (21, "disc_nucleus", "intervertebral_disc_nucleus", dict(t1=(1100, 1300)), 0.0,
     "T1 blank in csv: hydrated nucleus, T1 of order 1-1.3 s [E]"),
    (22, "disc_annulus", "intervertebral_disc_nucleus", dict(t1=(900, 1100), t2=(55, 50), pd=0.7, adc=1.2), 0.02,
     "annulus ~50-60 ms (csv disc note); T1 [E]"),
    (23, "liver", "liver", {}, 0.25, "ve ~0.2-0.3 (contrast csv)"),
    (24, "spleen", "spleen", {}, 0.3, "[E]"),
    (25, "kidney_cortex", "kidney_cortex", {}, 1.0, "avid renal enhancement [E]"),
    (26, "kidney_medulla", "kidney_medulla", {}, 0.8, "[E]"),
    (27, "pancreas", "pancreas", {}, 0.3, "[E]"),
    (28, "bowel_wall", "skeletal_muscle", dict(t2=(60, 55), adc=1.4), 0.3,
     "gut wall: smooth muscle and mucosa, muscle-like T1, slightly longer T2 [E]"),
    (29, "bowel_content", "urine_bladder_lumen", dict(t1=(2000, 2300), t2=(300, 280), pd=0.9), 0.0,
     "mixed fluid/chyme: fluid-like but shorter relaxation [E]"),
    (30, "bile", "urine_bladder_lumen", dict(t1=(2500, 2800), t2=(600, 550)), 0.0,
     "gallbladder bile: concentrated fluid [E]"),
    (31, "urine", "urine_bladder_lumen", {}, 0.0, "excreted Gd ignored (not modelled)"),
    (32, "prostate_pz", "prostate_peripheral_zone", {}, 0.15, ""),
    (33, "prostate_tz", "prostate_transition_zone", {}, 0.2, ""),
    (34, "seminal_vesicle", "urine_bladder_lumen", dict(t1=(1800, 2100), t2=(250, 230), pd=0.9, adc=2.0), 0.05,
     "fluid-filled convoluted glands: T2-bright [E]"),
    (35, "myometrium", "uterus_myometrium", {}, 0.35, ""),
    (36, "endometrium", "endometrium", dict(t2=(101, 100)), 0.3,
     "3 T T2 raised to 100 ms as the csv note advises for realistic contrast [E]"),
    (37, "cervix", "cervix_uteri_stroma", dict(t2=(58, 58)), 0.25, "T2-dark fibrous stroma per csv note [E]"),
    (38, "ovary", "uterus_myometrium", dict(t2=(130, 120), adc=1.6), 0.2, "stroma with follicles [E]"),
    (39, "breast_fgt", "breast_fibroglandular", {}, 0.1, "background parenchymal enhancement minimal [E]"),
    (40, "myocardium", "myocardium", dict(adc=1.5), 0.15, "ECV 0.25-0.26 (csv); ADC blank -> muscle-like [E]"),
    (41, "lung", "lung_parenchyma", dict(t2=(2.1, 0.74), adc=0.0), 0.0,
     "spin-echo T2 not found: T2* 2.11/0.74 ms used (csv), so near-black"),
    (42, "cartilage", "cartilage_hyaline", {}, 0.0, ""),
    (43, "meniscus", "meniscus_fibrocartilage", dict(t1=(800, 1000), adc=1.0), 0.0, "T1 blank in csv [E]"),
    (44, "tendon", "tendon_ligament", dict(t1=(600, 700), adc=1.0), 0.0, "T1 ~600-800 at 3T [R] (csv note)"),
    (45, "joint_fluid", "CSF", dict(t1=(3000, 3200), t2=(1200, 1100)), 0.0, "synovial fluid: CSF-like [E]"),
    (46, "vitreous", "CSF", {}, 0.0, "eye globe: free fluid [E]"),
    (47, "ligament_fat_pad", "subcutaneous_fat", {}, 0.05, "Hoffa/epidural/orbital fat"),
    # lesions
    (60, "scc", "SCC_head_neck", {}, 0.5, "Ktrans ~0.1-0.3 /min (contrast csv) [E]"),
    (61, "lymphoma", "lymphoma_head_neck", dict(t1=(1100, 1300), t2=(85, 80)), 0.3,
     "relaxometry blank: homogeneous intermediate T2, mild enhancement (csv note) [E]"),
    (62, "pleomorphic_adenoma", "pleomorphic_adenoma", dict(t1=(1450, 1750), t2=(180, 157)), 0.4,
     "1.5 T from 3T/1.2 [E]; delayed enhancement"),
    (63, "warthin", "warthin_tumour", dict(t1=(900, 1100), t2=(80, 75)), 0.4,
     "relaxometry blank: T2 intermediate-low, T1 with bright cystic foci [E]"),
    (64, "salivary_carcinoma", "SCC_head_neck", dict(t2=(85, 80), adc=1.0), 0.45,
     "mucoepidermoid/adenoid cystic: intermediate T2, lower ADC than PA [E]"),
    (65, "thyroid_carcinoma", "SCC_head_neck", dict(t2=(120, 110), adc=1.3), 0.5,
     "nodules markedly brighter than gland on T2 (head_neck_tumours.csv) [E]"),
    (66, "npc", "SCC_head_neck", dict(t2=(90, 88), adc=0.8), 0.45, "non-keratinising NPC: mildly T2-bright [E]"),
    (67, "glioblastoma", "glioblastoma_enhancing_solid", dict(t2=(140, 130)), 0.5,
     "T2 raised to 140/130 ms as the csv note advises (MRF T2 runs low; GBM is T2-bright on TSE) [E]"),
    (68, "necrosis", "tumour_necrosis_or_cyst", {}, 0.0, "non-enhancing core"),
    (69, "edema", "vasogenic_edema_peritumoral", {}, 0.0, ""),
    (70, "low_grade_glioma", "low_grade_glioma", {}, 0.0, "none or faint enhancement"),
    (71, "meningioma", "meningioma", {}, 0.8, "avid homogeneous enhancement"),
    (72, "metastasis", "brain_metastasis_solid", {}, 0.5, ""),
    (73, "hcc", "hepatocellular_carcinoma", dict(t1=(870, 1056)), 0.3,
     "1.5 T T1 from 3T/1.21 [E]; washout in the portal phase -> modest concentration"),
    (74, "hemangioma", "liver_hemangioma", dict(t1=(2100, 2524)), 0.9, "blood-pool enhancement; 1.5 T T1 [E]"),
    (75, "simple_cyst", "liver_simple_cyst", dict(t1=(3200, 3793)), 0.0, "no enhancement; 1.5 T T1 [E]"),
    (76, "liver_metastasis", "liver_metastasis", dict(t1=(1450, 1757)), 0.3, "rim enhancement; 1.5 T T1 [E]"),
    (77, "prostate_cancer", "prostate_cancer_PZ", dict(t1=(1300, 1600)), 0.45,
     "T1 blank: like gland [E]; focal early enhancement"),
    (78, "disc_extrusion", "intervertebral_disc_nucleus", dict(t1=(1000, 1200), t2=(70, 65), pd=0.75, adc=1.5), 0.05,
     "herniated material low-intermediate T2 (other_lesions.csv) [E]"),
    (79, "meniscal_tear", "CSF", dict(t1=(2000, 2200), t2=(150, 140), pd=0.8, adc=2.0), 0.0,
     "fluid-like intrameniscal signal reaching a surface [E]"),
    (80, "marrow_edema", "bone_marrow_red_vertebral", dict(t1=(900, 1100), t2=(90, 85), ff=0.2, adc=1.2), 0.2,
     "water-rich marrow: STIR/PD-FS bright [E]"),
    (81, "breast_carcinoma", "breast_fibroglandular", dict(t1=(1200, 1500), t2=(60, 62), adc=0.9, ff=0.0), 0.6,
     "iso-hypo T2, restricted ADC, fast enhancement (other_lesions.csv) [E]"),
    (82, "fibroid", "uterus_myometrium", dict(t2=(55, 50), adc=1.0), 0.3, "well-circumscribed T2-hypointense [E]"),
    (83, "nodal_metastasis", "SCC_head_neck", dict(t2=(95, 92), adc=0.95), 0.35, "metastatic SCC node [E]"),
    (84, "tendon_tear", "CSF", dict(t1=(2200, 2400), t2=(200, 180), pd=0.85, adc=2.2), 0.0,
     "fluid-bright cuff defect [E]"),
    (85, "myocardial_scar", "myocardium", dict(t1=(1100, 1250), t2=(55, 50), adc=1.5), 0.7,
     "fibrosis: expanded extracellular volume -> high Gd, bright on LGE (contrast csv LGE row) [E]"),
    (86, "acute_infarct", "grey_matter_cortical", dict(t1=(1250, 1500), t2=(110, 105), pd=0.88, adc=0.4), 0.0,
     "cytotoxic oedema: ADC ~0.3-0.5 in the first days (other_lesions.csv acute infarct row); T2 raised [E]"),
]


def _float(cell: str) -> float | None:
    return float(cell) if cell.strip() else None


@lru_cache(maxsize=1)
def _csv_rows() -> dict[str, dict[str, str]]:
    text = resources.files("mri_search.synth").joinpath("data/tissue_relaxation.csv").read_text()
    return {r["tissue"]: r for r in csv.DictReader(text.splitlines())}


@lru_cache(maxsize=1)
def tissue_table() -> dict[str, Tissue]:
    """All tissues by name, literature values from the csv with documented fill-ins."""
    rows = _csv_rows()
    out: dict[str, Tissue] = {}
    for label, name, row_key, over, gd, note in _SPEC:
        row = rows[row_key] if row_key else {}
        t1 = (_float(row.get("T1_ms_1.5T", "")), _float(row.get("T1_ms_3T", "")))
        t2 = (_float(row.get("T2_ms_1.5T", "")), _float(row.get("T2_ms_3T", "")))
        t1 = over.get("t1", t1)
        t2 = over.get("t2", t2)
        pd = over.get("pd", _float(row.get("relative_PD", "")))
        adc = over.get("adc", _float(row.get("ADC_1e-3mm2_s", "")))
        ff = over.get("ff", _float(row.get("fat_fraction", "")))
        values = dict(t1=t1, t2=t2, pd=pd, adc=adc, ff=ff)
        missing = [k for k, v in values.items() if v is None or (isinstance(v, tuple) and None in v)]
        if missing:
            raise ValueError(f"tissue {name!r}: no value for {missing} (csv row {row_key!r}); add an override")
        src = f"tissue_relaxation.csv:{row_key}" if row_key else "estimate"
        out[name] = Tissue(label, name, t1, t2, pd, adc, ff, gd, f"{src}; {note}".strip("; "))
    return out


def tissue(name: str) -> Tissue:
    """Look up one tissue by name, with a clear error for a typo."""
    table = tissue_table()
    if name not in table:
        raise ValueError(f"unknown tissue {name!r}; known: {', '.join(sorted(table))}")
    return table[name]


def label_of(name: str) -> int:
    """Label value of a tissue name."""
    return tissue(name).label


@lru_cache(maxsize=1)
def property_arrays() -> dict[str, np.ndarray]:
    """Per-label lookup arrays (index = label value, length 256) for vectorised parameter maps.

    Keys: ``t1_15``, ``t1_30``, ``t2_15``, ``t2_30``, ``pd``, ``adc``, ``ff``, ``gd``.
    """
    keys = ["t1_15", "t1_30", "t2_15", "t2_30", "pd", "adc", "ff", "gd"]
    arr = {k: np.zeros(256, np.float32) for k in keys}
    arr["t1_15"][:] = arr["t1_30"][:] = arr["t2_15"][:] = arr["t2_30"][:] = 1.0
    for t in tissue_table().values():
        arr["t1_15"][t.label], arr["t1_30"][t.label] = t.t1
        arr["t2_15"][t.label], arr["t2_30"][t.label] = t.t2
        arr["pd"][t.label], arr["adc"][t.label] = t.pd, t.adc
        arr["ff"][t.label], arr["gd"][t.label] = t.fat_fraction, t.gd_mM
    return arr


def label_table() -> list[dict]:
    """The documented label table (label, name, kind, source), as written next to label maps.

    ``kind`` is ``"lesion"`` for labels >= ``LESION_LABEL_MIN`` (the voxels of lesion masks), else ``"anatomy"``.
    """
    return [dict(label=t.label, name=t.name, kind="lesion" if t.label >= LESION_LABEL_MIN else "anatomy",
                 source=t.source) for t in sorted(tissue_table().values(), key=lambda t: t.label)]

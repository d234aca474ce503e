"""Head and neck: the neck soft-tissue protocol, its header vocabulary, report tables and findings."""

from __future__ import annotations

from ...protocols import TSE_NAMES
from ...protocols import SeriesTemplate as T
from ..spec import FindingKind, RegionSpec, Subregion
from .brain import SINUS

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

NECK = Subregion(
    name="neck",
    weight=1.0,
    protocol=(
        T("T1", "T1_SE_2D", "axial", (200, 260), (256, 384), (3, 4), (0.1, 0.25), (170, 220), names=TSE_NAMES["T1ax"]),
        T("T2", "T2_TSE_2D", "axial", (200, 260), (256, 384), (3, 4), (0.1, 0.25), (170, 220), optional=0.5,
          names=TSE_NAMES["T2ax"]),
        T("T2FS", "T2_TSE_FS", "axial", (200, 260), (256, 384), (3, 4), (0.1, 0.25), (170, 220),
          fat_suppression="dixon", optional=0.6, names=("t2_tse_dixon_tra_W", "Ax T2 FSE FS", "T2W_TSE_mDIXON_TRA")),
        T("STIR", "STIR", "coronal", (220, 260), (256, 320), (3, 4), (0.1, 0.3), (90, 130),
          fat_suppression="stir", names=("t2_tirm_cor", "Cor STIR", "STIR_COR")),
        T("DWI", "DWI_SS_EPI", "axial", (220, 260), (128, 192), (4, 5), (0.0, 0.2), (150, 200), b_values=(0, 800),
          fat_suppression="spectral", names=("ep2d_diff_tra_TRACEW", "Ax DWI", "DWI_TRA")),
        T("T1C", "T1_SE_2D", "axial", (200, 260), (256, 384), (3, 4), (0.1, 0.25), (170, 220), post_contrast=True,
          fat_suppression="spectral", names=("t1_tse_fs_tra_post", "Ax T1 FS +C", "T1W_TSE_SPIR_TRA_GD")),
        T("T1C", "T1_SE_2D", "coronal", (220, 260), (256, 320), (3, 4), (0.1, 0.3), (90, 130), post_contrast=True,
          fat_suppression="spectral", optional=0.5, names=("t1_tse_fs_cor_post", "Cor T1 FS +C", "T1W_mDIXON_COR_GD")),
    ),
    contrast_rate=0.9,
    study_descriptions=("MRI NECK SOFT TISSUE {wwo}", "MR NECK {wwo_short}", "MRI OROPHARYNX", "MR NASOPHARYNX",
                        "Neck^HN"),
    body_part=(("NECK", "HEADNECK"), ("HEAD_NECK", "HEAD-AND-NECK", "SOFT TISSUE NECK"), ("HEAD", "CSPINE")),
    exam_titles=("MRI NECK", "MRI SOFT TISSUE NECK", "MR NECK", "MRI OF THE NECK"),
    normal_reasons="Neck lump.||Persistent sore throat; exclude a mass.||Dysphagia.||Hoarseness.||Otalgia, exclude "
                   "a mass.",
    prior_modalities=("CT neck", "Ultrasound neck"),
    normal_slots=(
        ("primary", "Primary", []),
        ("nodes", "Nodes", [
            ("nodes", "", "No cervical lymphadenopathy.||No [pathologically enlarged|enlarged or morphologically "
                          "abnormal] cervical lymph nodes.||No evidence of cervical lymphadenopathy.||The cervical "
                          "and retropharyngeal nodes are not enlarged.||No suspicious cervical lymph nodes by size "
                          "or morphology.")]),
        ("pharynx", "Pharynx", [
            ("nasopharynx oropharynx", "", "The nasopharynx and oropharynx are [unremarkable|normal].||No mucosal "
                                           "mass in the nasopharynx or oropharynx.||Symmetric nasopharyngeal and "
                                           "oropharyngeal mucosa without mass."),
            ("nasopharynx", "", "The nasopharynx is [unremarkable|clear|normal].||The fossae of Rosenmueller are "
                                "symmetric."),
            ("oropharynx", "", "The [palatine tonsils|tonsils and tongue base] are [symmetric|unremarkable].||No "
                               "oropharyngeal mass."),
            ("parapharyngeal", "", "The parapharyngeal fat planes are preserved [bilaterally|].")]),
        ("oral_cavity", "Oral cavity", [
            ("oral_cavity", "", "The oral cavity and floor of mouth are [unremarkable|normal].||No [mass|lesion] "
                                "in the oral tongue or floor of mouth.||[Normal|Unremarkable] oral tongue and "
                                "floor of mouth.||The oral cavity [is unremarkable|appears normal].")]),
        ("larynx", "Larynx", [
            ("larynx hypopharynx", "", "The larynx and hypopharynx are [unremarkable|normal].||No laryngeal or "
                                       "hypopharyngeal mass."),
            ("larynx", "", "The supraglottic, glottic and subglottic larynx [are|appear] normal.||The pre-"
                           "epiglottic and paraglottic fat [planes are|is] preserved.||The vocal cords are "
                           "symmetric."),
            ("hypopharynx", "", "The pyriform sinuses are [clear|symmetric].||The hypopharynx is unremarkable.")]),
        ("salivary", "Salivary glands", [
            ("parotid submandibular", "", "The parotid and submandibular glands are [unremarkable|normal|normal "
                                          "in size and signal].||[Normal|Unremarkable] major salivary glands.||The "
                                          "major salivary glands are [symmetric and |]unremarkable."),
            ("parotid", "", "The parotid glands are [normal|unremarkable].||Normal parotid glands."),
            ("submandibular", "", "The submandibular glands are [normal|unremarkable].||Normal submandibular "
                                  "glands.")]),
        ("thyroid", "Thyroid", [
            ("thyroid", "", "The thyroid gland is [normal in size and signal|unremarkable|normal].||"
                            "[Normal|Unremarkable] thyroid.||No thyroid nodule.")]),
        ("skull_base", "Skull base", [
            ("skull_base", "", "The skull base is intact.||No skull base [erosion|abnormality].||[Normal|Preserved] "
                               "skull base marrow signal.")]),
        ("other", "Other", SINUS[:1] + [
            ("apices", "", "The lung apices are [clear|unremarkable].||Clear lung apices."),
            ("orbits", "", "The [included |]orbits are unremarkable."),
            ("spine", "", "The [imaged |]cervical spine is unremarkable.||No aggressive marrow lesion in the "
                          "imaged spine.")]),
    ),
    impression_normal="Normal MRI of the neck.||No [mass or |]lymphadenopathy in the neck.||Unremarkable MRI neck.||No "
                      "[suspicious|significant] abnormality in the neck.",
)

SPEC = RegionSpec(
    name="head_neck",
    subregions=(NECK,),
    reference_tissue="muscle",
    coil="HeadNeck_64",
    findings={
        # nodal metastases are attributes of an hn_tumour (lesion.attributes["nodes"]), painted by the region
        "hn_tumour": FindingKind(
            sites=HN_SITES, tumour=True, size_mm=(12.0, 45.0),
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
        "sinus_retention_cyst": FindingKind(sites={"maxillary_sinus": 1.0}, size_mm=(6, 20)),
    },
)

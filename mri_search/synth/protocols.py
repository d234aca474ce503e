"""Routine protocols per subregion: which series a study holds and their geometry ranges.

Values follow ``data/protocols.csv`` (per-region sequences in order, planes, FOV, matrix, slice thickness, gap,
coverage; ACR, PI-RADS v2.1, OAI, MS-SMART, SCMR sources) and ``data/sequences.csv``. Ranges overlap across regions
the way real protocols do (a neck and a brain FOV, a knee and a shoulder FOV), which is what keeps a
geometry-only classifier from being right for free.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeriesTemplate:
    """One line of a protocol."""

    sequence: str  # manifest label: T1, T2, FLAIR, PD, STIR, T2FS, PDFS, DWI, ADC, T1C, SSFP
    family: str  # sequences.FAMILIES key
    plane: str  # axial, sagittal, coronal
    fov_mm: tuple[float, float]  # in-plane FOV along the longer side
    matrix: tuple[int, int]  # acquisition matrix along the longer side
    slice_mm: tuple[float, float]  # slice thickness
    gap_frac: tuple[float, float] = (0.0, 0.1)  # gap as a fraction of the thickness
    coverage_mm: tuple[float, float] = (100.0, 160.0)  # extent along the slice normal
    rect_fov: tuple[float, float] = (1.0, 1.0)  # phase/readout FOV ratio (rectangular FOV in the body)
    oblique_deg: float = 8.0  # maximum random obliquity
    fat_suppression: str = "none"
    post_contrast: bool = False
    optional: float = 1.0  # probability that the series is acquired
    b_values: tuple[int, ...] = ()
    names: tuple[str, str, str] = ("", "", "")  # Siemens, GE, Philips SeriesDescription (protocols.csv)


T = SeriesTemplate
_TSE_NAMES = {
    "T2ax": ("t2_tse_tra", "Ax T2 FRFSE", "T2W_TSE_TRA"),
    "T2sag": ("t2_tse_sag", "Sag T2 FRFSE", "T2W_TSE_SAG"),
    "T2cor": ("t2_tse_cor", "Cor T2 FSE", "T2W_TSE_COR"),
    "T1ax": ("t1_tse_tra", "Ax T1 FSE", "T1W_TSE_TRA"),
    "T1sag": ("t1_tse_sag", "Sag T1 FSE", "T1W_TSE_SAG"),
    "T1cor": ("t1_tse_cor", "Cor T1 FSE", "T1W_TSE_COR"),
}

PROTOCOLS: dict[str, list[SeriesTemplate]] = {
    "brain": [
        T("T1", "T1_3D_IR_GRE", "sagittal", (230, 256), (224, 256), (0.9, 1.2), (0, 0), (150, 176), optional=0.5,
          names=("t1_mprage_sag_iso", "SAG T1 3D BRAVO", "sT1W_3D_TFE")),
        T("T1", "T1_FLAIR_2D", "sagittal", (220, 250), (256, 320), (4, 5), (0.1, 0.2), (120, 150), optional=0.5,
          names=("t1_tirm_sag", "Sag T1 FLAIR", "T1W_IR_SAG")),
        T("T2", "T2_TSE_2D", "axial", (220, 250), (320, 384), (4, 5), (0.0, 0.1), (130, 160),
          names=_TSE_NAMES["T2ax"]),
        T("FLAIR", "T2_FLAIR_2D", "axial", (220, 250), (256, 320), (3, 5), (0.0, 0.1), (130, 160),
          names=("t2_tirm_tra_dark-fluid", "Ax T2 FLAIR", "T2W_FLAIR_TRA")),
        T("DWI", "DWI_SS_EPI", "axial", (220, 240), (128, 192), (4, 5), (0.0, 0.3), (130, 150), b_values=(0, 1000),
          fat_suppression="spectral", names=("ep2d_diff_tra_TRACEW", "Ax DWI", "DWI_SSh")),
        T("T1C", "T1_3D_IR_GRE", "sagittal", (230, 256), (224, 256), (0.9, 1.2), (0, 0), (150, 176),
          post_contrast=True, names=("t1_mprage_sag_iso_post", "3D AX T1 BRAVO+C", "sT1W_3D_TFE_GD")),
    ],
    "neck": [
        T("T1", "T1_SE_2D", "axial", (200, 260), (256, 384), (3, 4), (0.1, 0.25), (170, 220), names=_TSE_NAMES["T1ax"]),
        T("T2", "T2_TSE_2D", "axial", (200, 260), (256, 384), (3, 4), (0.1, 0.25), (170, 220), optional=0.5,
          names=_TSE_NAMES["T2ax"]),
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
    ],
    "cervical_spine": [
        T("T1", "T1_SE_2D", "sagittal", (220, 260), (320, 384), (3, 3), (0.1, 0.1), (40, 55), names=_TSE_NAMES["T1sag"]),
        T("T2", "T2_TSE_2D", "sagittal", (220, 260), (320, 384), (3, 3), (0.1, 0.1), (40, 55), names=_TSE_NAMES["T2sag"]),
        T("STIR", "STIR", "sagittal", (220, 260), (256, 320), (3, 3), (0.1, 0.1), (40, 55), fat_suppression="stir",
          optional=0.7, names=("t2_tirm_sag", "Sag STIR", "STIR_SAG")),
        T("T2", "T2_TSE_2D", "axial", (160, 180), (256, 320), (3, 4), (0.0, 0.15), (70, 100), oblique_deg=12,
          names=_TSE_NAMES["T2ax"]),
    ],
    "lumbar_spine": [
        T("T1", "T1_SE_2D", "sagittal", (260, 320), (320, 384), (3.5, 4), (0.1, 0.1), (50, 70),
          names=_TSE_NAMES["T1sag"]),
        T("T2", "T2_TSE_2D", "sagittal", (260, 320), (320, 384), (3.5, 4), (0.1, 0.1), (50, 70),
          names=_TSE_NAMES["T2sag"]),
        T("STIR", "STIR", "sagittal", (260, 320), (256, 320), (3.5, 4), (0.1, 0.1), (50, 70), fat_suppression="stir",
          optional=0.7, names=("t2_tirm_sag", "Sag STIR", "STIR_SAG")),
        T("T2", "T2_TSE_2D", "axial", (180, 220), (256, 320), (3.5, 4), (0.1, 0.25), (70, 110), oblique_deg=15,
          names=_TSE_NAMES["T2ax"]),
    ],
    "breast": [
        T("T2", "T2_TSE_2D", "axial", (300, 360), (320, 384), (3, 4), (0, 0), (120, 160),
          names=("t2_tse_tra", "Ax T2 FSE", "T2W_TSE")),
        T("DWI", "DWI_SS_EPI", "axial", (300, 360), (160, 192), (3, 4), (0, 0), (120, 160), b_values=(50, 800),
          fat_suppression="spectral", names=("ep2d_diff_tra_TRACEW", "Ax DWI", "DWI")),
        T("T1", "T1_3D_GRE_FS", "axial", (300, 360), (320, 384), (1.5, 3), (0, 0), (120, 160),
          fat_suppression="spectral", names=("fl3d_dyn_fs_pre", "Ax VIBRANT pre", "e-THRIVE_pre")),
        T("T1C", "T1_3D_GRE_FS", "axial", (300, 360), (320, 384), (1.5, 3), (0, 0), (120, 160),
          fat_suppression="spectral", post_contrast=True,
          names=("fl3d_dyn_fs_post1", "Ax VIBRANT multiphase", "e-THRIVE_dyn")),
    ],
    "chest": [
        T("T2", "SSFSE", "coronal", (350, 450), (256, 320), (5, 6), (0.0, 0.2), (140, 200), rect_fov=(0.75, 1.0),
          names=("t2_haste_cor", "Cor SSFSE", "T2W_SSH_COR")),
        T("T2FS", "T2_TSE_FS", "axial", (350, 450), (256, 320), (5, 6), (0.0, 0.2), (220, 280), rect_fov=(0.75, 0.9),
          fat_suppression="spectral", names=("t2_blade_tra_fs_trig", "Ax T2 PROPELLER FS", "T2W_MultiVane_SPAIR")),
        T("T1", "T1_3D_GRE_FS", "axial", (350, 450), (256, 320), (2.5, 3), (0, 0), (220, 280), rect_fov=(0.75, 0.9),
          fat_suppression="dixon", names=("t1_vibe_tra", "Ax LAVA", "THRIVE")),
        T("DWI", "DWI_SS_EPI", "axial", (350, 450), (128, 160), (5, 6), (0.0, 0.2), (220, 280), b_values=(50, 800),
          fat_suppression="spectral", rect_fov=(0.75, 0.9), names=("ep2d_diff_tra_TRACEW", "Ax DWI", "DWI")),
        T("T1C", "T1_3D_GRE_FS", "axial", (350, 450), (256, 320), (2.5, 3), (0, 0), (220, 280), rect_fov=(0.75, 0.9),
          fat_suppression="dixon", post_contrast=True, names=("t1_vibe_fs_tra_post", "Ax LAVA +C", "THRIVE +C")),
    ],
    "cardiac": [
        T("SSFP", "BSSFP", "axial", (300, 380), (192, 256), (6, 8), (0.25, 0.5), (80, 110), oblique_deg=40,
          rect_fov=(0.8, 1.0), names=("trufi_cine_sax", "FIESTA CINE SAX", "sBTFE_CINE_SA")),
        T("STIR", "STIR", "axial", (300, 380), (192, 256), (8, 8), (0.25, 0.5), (80, 110), oblique_deg=40,
          fat_suppression="stir", optional=0.7, rect_fov=(0.8, 1.0), names=("T2_TSE_DB_STIR", "T2 STIR SAX", "STIR_BB")),
        T("T1C", "LGE_IR_GRE", "axial", (300, 380), (192, 256), (6, 8), (0.25, 0.5), (80, 110), oblique_deg=40,
          post_contrast=True, rect_fov=(0.8, 1.0), names=("tfl_psir_sax", "MDE SAX", "PSIR_SA")),
    ],
    "abdomen": [
        T("T2", "SSFSE", "coronal", (350, 420), (256, 320), (5, 6), (0.0, 0.2), (140, 200), rect_fov=(0.75, 1.0),
          names=("t2_haste_cor_mbh", "Cor SSFSE", "T2W_SSH_COR")),
        T("T2", "SSFSE", "axial", (350, 420), (256, 320), (5, 6), (0.0, 0.2), (200, 260), rect_fov=(0.7, 0.85),
          optional=0.6, names=("t2_haste_tra_mbh", "Ax SSFSE", "T2W_SSH_TRA")),
        T("T1", "T1_GRE_2D", "axial", (350, 420), (256, 320), (5, 6), (0.0, 0.2), (200, 260), rect_fov=(0.7, 0.85),
          names=("t1_fl2d_opp-in_tra", "Ax Dual Echo", "T1_FFE_IP_OP")),
        T("T2FS", "T2_TSE_FS", "axial", (350, 420), (256, 320), (5, 6), (0.0, 0.2), (200, 260), rect_fov=(0.7, 0.85),
          fat_suppression="spectral", names=("t2_tse_fs_tra_trig", "Ax T2 FRFSE FS", "T2W_SPAIR")),
        T("DWI", "DWI_SS_EPI", "axial", (350, 420), (128, 160), (5, 6), (0.0, 0.2), (200, 260), rect_fov=(0.7, 0.85),
          b_values=(50, 400, 800), fat_suppression="spectral",
          names=("ep2d_diff_b50_400_800_tra_TRACEW", "Ax DWI", "DWI_b0_800")),
        T("T1C", "T1_3D_GRE_FS", "axial", (350, 420), (256, 320), (2.5, 3), (0, 0), (200, 260), rect_fov=(0.7, 0.85),
          fat_suppression="spectral", post_contrast=True,
          names=("t1_vibe_fs_tra_bh_portal", "Ax LAVA-Flex portal", "THRIVE_dyn_portal")),
    ],
    "pelvis_prostate": [
        T("T1", "T1_SE_2D", "axial", (300, 380), (256, 320), (5, 6), (0.1, 0.2), (150, 200),
          names=("t1_tse_tra_large_fov", "Ax T1 FSE large FOV", "T1W_TSE_TRA_LFOV")),
        T("T2", "T2_TSE_2D", "axial", (160, 200), (256, 320), (3, 3), (0, 0), (60, 90), oblique_deg=12,
          names=_TSE_NAMES["T2ax"]),
        T("T2", "T2_TSE_2D", "sagittal", (180, 220), (256, 320), (3, 3), (0, 0), (60, 90),
          names=_TSE_NAMES["T2sag"]),
        T("T2", "T2_TSE_2D", "coronal", (180, 220), (256, 320), (3, 3), (0, 0), (60, 90), optional=0.6,
          names=_TSE_NAMES["T2cor"]),
        T("DWI", "DWI_SS_EPI", "axial", (160, 220), (128, 160), (3, 4), (0, 0), (60, 90), b_values=(50, 800, 1400),
          fat_suppression="spectral", names=("ep2d_diff_b50_800_1400_tra_TRACEW", "Ax DWI b1400", "DWI_b0_b1000_b1400")),
        T("T1C", "T1_3D_GRE_FS", "axial", (180, 260), (192, 256), (3, 3), (0, 0), (60, 90), post_contrast=True,
          fat_suppression="spectral", optional=0.7, names=("t1_vibe_fs_tra_dyn", "Ax DCE DISCO", "DCE_THRIVE")),
    ],
    "pelvis_female": [
        T("T2", "T2_TSE_2D", "sagittal", (200, 240), (256, 384), (3, 4), (0.1, 0.3), (90, 130),
          names=_TSE_NAMES["T2sag"]),
        T("T2", "T2_TSE_2D", "axial", (200, 240), (256, 384), (3, 4), (0.1, 0.3), (90, 130), oblique_deg=15,
          names=("t2_tse_tra_obl", "Ax Obl T2", "T2W_TSE_TRA_OBL")),
        T("T1", "T1_SE_2D", "axial", (300, 380), (256, 320), (5, 6), (0.1, 0.2), (150, 200),
          names=_TSE_NAMES["T1ax"]),
        T("DWI", "DWI_SS_EPI", "axial", (260, 340), (128, 160), (4, 5), (0.0, 0.2), (120, 160), b_values=(50, 1000),
          fat_suppression="spectral", names=("ep2d_diff_tra_TRACEW", "Ax DWI", "DWI")),
        T("T1C", "T1_3D_GRE_FS", "sagittal", (240, 300), (256, 320), (3, 4), (0, 0), (100, 140), post_contrast=True,
          fat_suppression="spectral", optional=0.7, names=("t1_vibe_fs_sag_post", "Sag LAVA FS +C", "THRIVE_SAG +C")),
    ],
    "knee": [
        T("PDFS", "PD_TSE_FS", "sagittal", (120, 160), (256, 384), (3, 4), (0.0, 0.1), (80, 110), oblique_deg=12,
          fat_suppression="spectral", names=("pd_tse_fs_sag", "Sag PD FS", "PDW_SPAIR_SAG")),
        T("PDFS", "PD_TSE_FS", "coronal", (120, 160), (256, 384), (3, 4), (0.0, 0.1), (70, 100), oblique_deg=10,
          fat_suppression="spectral", names=("pd_tse_fs_cor", "Cor PD FS", "PDW_SPAIR_COR")),
        T("PDFS", "PD_TSE_FS", "axial", (120, 160), (256, 320), (3, 4), (0.0, 0.1), (80, 120),
          fat_suppression="spectral", names=("pd_tse_fs_tra", "Ax PD FS", "PDW_SPAIR_TRA")),
        T("PD", "PD_TSE_2D", "sagittal", (120, 160), (256, 384), (3, 4), (0.0, 0.1), (80, 110), oblique_deg=12,
          optional=0.6, names=("pd_tse_sag", "Sag PD", "PDW_TSE_SAG")),
        T("T1", "T1_SE_2D", "coronal", (120, 160), (256, 320), (3, 4), (0.0, 0.1), (70, 100), optional=0.5,
          names=_TSE_NAMES["T1cor"]),
    ],
    "shoulder": [
        T("PDFS", "PD_TSE_FS", "coronal", (140, 180), (256, 384), (3, 4), (0.0, 0.1), (60, 90), oblique_deg=30,
          fat_suppression="spectral", names=("pd_tse_fs_cor_obl", "Cor Obl PD FS", "PDW_SPAIR_COR")),
        T("T2FS", "T2_TSE_FS", "sagittal", (140, 180), (256, 320), (3, 4), (0.0, 0.1), (70, 110), oblique_deg=30,
          fat_suppression="spectral", names=("t2_tse_fs_sag", "Sag Obl T2 FS", "T2W_SPAIR_SAG")),
        T("PDFS", "PD_TSE_FS", "axial", (140, 180), (256, 320), (3, 4), (0.0, 0.1), (70, 110),
          fat_suppression="spectral", names=("pd_tse_fs_tra", "Ax PD FS", "PDW_SPAIR_TRA")),
        T("T1", "T1_SE_2D", "coronal", (140, 180), (256, 320), (3, 4), (0.0, 0.1), (60, 90), oblique_deg=30,
          names=("t1_tse_cor", "Cor Obl T1", "T1W_TSE_COR")),
    ],
}

# Subregions whose protocol gives gadolinium (probability): protocols.csv "contrast" column.
CONTRAST_RATE: dict[str, float] = {
    "brain": 0.6, "neck": 0.9, "cervical_spine": 0.0, "lumbar_spine": 0.0, "breast": 1.0, "chest": 0.8,
    "cardiac": 1.0, "abdomen": 0.95, "pelvis_prostate": 0.7, "pelvis_female": 0.6, "knee": 0.0, "shoulder": 0.0,
}

# StudyDescription examples (protocols.csv StudyDescription_examples), {wo} = contrast wording.
STUDY_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "brain": ("MRI BRAIN {wwo}", "MR BRAIN {wwo_short}", "MR HEAD {wwo_short}", "Head^Routine", "Neuro^Brain"),
    "neck": ("MRI NECK SOFT TISSUE {wwo}", "MR NECK {wwo_short}", "MRI OROPHARYNX", "MR NASOPHARYNX", "Neck^HN"),
    "cervical_spine": ("MRI CERVICAL SPINE WO", "MR C-SPINE WO", "Spine^CSpine"),
    "lumbar_spine": ("MRI LUMBAR SPINE WO CONTRAST", "MR L-SPINE WO", "Spine^LSpine"),
    "breast": ("MRI BREAST BILATERAL W WO CONTRAST", "MR BREAST DYNAMIC", "MRI BREAST SCREENING HIGH RISK"),
    "chest": ("MRI CHEST {wwo}", "MR THORAX", "MRI MEDIASTINUM"),
    "cardiac": ("MRI HEART FUNCTION AND MORPHOLOGY W WO CONTRAST", "CARDIAC MRI", "CMR VIABILITY"),
    "abdomen": ("MRI ABDOMEN {wwo}", "MR LIVER W WO", "Abdomen^Liver"),
    "pelvis_prostate": ("MRI PROSTATE MULTIPARAMETRIC W WO", "MR PROSTATE MPMRI", "Prostate^mpMRI"),
    "pelvis_female": ("MRI PELVIS FEMALE {wwo}", "MR PELVIS UTERUS", "MRI PELVIS ADNEXA"),
    "knee": ("MRI KNEE {side} WO CONTRAST", "MR KNEE {side_long} WITHOUT", "Knee^Routine"),
    "shoulder": ("MRI SHOULDER {side} WO CONTRAST", "MR SHOULDER {side_long} W/O", "Shoulder^Routine"),
}

# BodyPartExamined: (correct defined terms, non-standard values seen in archives, plausible wrong values).
BODY_PART: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "brain": (("HEAD", "BRAIN"), ("MR BRAIN W CON", "Head"), ("NECK", "HEADNECK")),
    "neck": (("NECK", "HEADNECK"), ("HEAD_NECK", "HEAD-AND-NECK", "SOFT TISSUE NECK"), ("HEAD", "CSPINE")),
    "cervical_spine": (("CSPINE",), ("CERVICAL_SPINE", "C-SPINE", "SPINE"), ("NECK",)),
    "lumbar_spine": (("LSPINE", "LSSPINE"), ("LUMBAR", "L-SPINE", "LUMBO-SACRAL SP", "SPINE"), ("ABDOMEN", "PELVIS")),
    "breast": (("BREAST",), ("Breast", "BREASTS"), ("CHEST",)),
    "chest": (("CHEST",), ("THORAX", "Thorax"), ("ABDOMEN", "HEART")),
    "cardiac": (("HEART",), ("CARDIAC", "Heart"), ("CHEST",)),
    "abdomen": (("ABDOMEN", "LIVER"), ("ABDOMENPELVIS", "Kidney"), ("CHEST", "PELVIS")),
    "pelvis_prostate": (("PROSTATE", "PELVIS"), ("Prostate",), ("ABDOMEN", "HIP")),
    "pelvis_female": (("PELVIS",), ("UTERUS", "OVARY"), ("ABDOMEN",)),
    "knee": (("KNEE",), ("Knee", "KNEE JOINT"), ("EXTREMITY", "LEG")),
    "shoulder": (("SHOULDER",), ("Shoulder",), ("EXTREMITY", "ARM", "CHEST")),
}

# Scanners by vendor: (model, field strength).
SCANNERS: dict[str, tuple[tuple[str, float], ...]] = {
    "SIEMENS": (("Aera", 1.5), ("Avanto_fit", 1.5), ("Skyra", 3.0), ("Prisma", 3.0), ("MAGNETOM Vida", 3.0)),
    "GE MEDICAL SYSTEMS": (("Signa HDxt", 1.5), ("Optima MR450w", 1.5), ("DISCOVERY MR750", 3.0),
                           ("SIGNA Premier", 3.0)),
    "Philips Medical Systems": (("Ingenia", 1.5), ("Achieva", 1.5), ("Ingenia", 3.0), ("Achieva dStream", 3.0)),
}
VENDOR_INDEX = {"SIEMENS": 0, "GE MEDICAL SYSTEMS": 1, "Philips Medical Systems": 2}

"""Breast: the bilateral dynamic breast protocol, its header vocabulary, report tables and findings."""

from __future__ import annotations

from ...protocols import SeriesTemplate as T
from ..spec import FindingKind, RegionSpec, Subregion

BREAST = Subregion(
    name="breast",
    weight=1.0,
    protocol=(
        T("T2", "T2_TSE_2D", "axial", (300, 360), (320, 384), (3, 4), (0, 0), (120, 160),
          names=("t2_tse_tra", "Ax T2 FSE", "T2W_TSE")),
        T("DWI", "DWI_SS_EPI", "axial", (300, 360), (160, 192), (3, 4), (0, 0), (120, 160), b_values=(50, 800),
          fat_suppression="spectral", names=("ep2d_diff_tra_TRACEW", "Ax DWI", "DWI")),
        T("T1", "T1_3D_GRE_FS", "axial", (300, 360), (320, 384), (1.5, 3), (0, 0), (120, 160),
          fat_suppression="spectral", names=("fl3d_dyn_fs_pre", "Ax VIBRANT pre", "e-THRIVE_pre")),
        T("T1C", "T1_3D_GRE_FS", "axial", (300, 360), (320, 384), (1.5, 3), (0, 0), (120, 160),
          fat_suppression="spectral", post_contrast=True,
          names=("fl3d_dyn_fs_post1", "Ax VIBRANT multiphase", "e-THRIVE_dyn")),
    ),
    contrast_rate=1.0,
    study_descriptions=("MRI BREAST BILATERAL W WO CONTRAST", "MR BREAST DYNAMIC", "MRI BREAST SCREENING HIGH RISK"),
    body_part=(("BREAST",), ("Breast", "BREASTS"), ("CHEST",)),
    exam_titles=("MRI BILATERAL BREASTS", "MRI BREAST", "BILATERAL BREAST MRI"),
    normal_reasons="High-risk screening.||Dense breasts; supplemental screening.||BRCA carrier, annual screening.||"
                   "Problem solving for an equivocal mammogram.",
    prior_modalities=("Mammogram", "Breast ultrasound"),
    normal_slots=(
        ("fgt", "Breast composition", [
            ("fgt", "", "[Scattered|Heterogeneous] fibroglandular tissue (ACR [b|c]).||The breasts are composed "
                        "of [scattered|heterogeneous] fibroglandular tissue.||Amount of fibroglandular tissue: "
                        "[scattered (b)|heterogeneous (c)].")]),
        ("bpe", "BPE", [
            ("bpe", "t1c", "[Minimal|Mild] background parenchymal enhancement.||Background parenchymal enhancement "
                           "is [minimal|mild] and symmetric.||BPE: [minimal|mild].")]),
        ("right_breast", "Right breast", [
            ("right_breast", "", "The right breast is unremarkable.||No suspicious mass in the right breast.||"
                                 "Right breast: [no suspicious finding|unremarkable]."),
            ("right_breast", "t1c", "No suspicious mass or non-mass enhancement in the right breast.")]),
        ("left_breast", "Left breast", [
            ("left_breast", "", "The left breast is unremarkable.||No suspicious mass in the left breast.||"
                                "Left breast: [no suspicious finding|unremarkable]."),
            ("left_breast", "t1c", "No suspicious mass or non-mass enhancement in the left breast.")]),
        ("axillae", "Axillae", [
            ("nodes", "", "No axillary lymphadenopathy.||The axillae are [unremarkable|clear].||No "
                          "[suspicious|enlarged] axillary or internal mammary [lymph |]nodes.")]),
        ("other", "Other", [
            ("skin", "", "The skin and nipples are [normal|unremarkable]."),
            ("other", "", "No incidental finding in the included chest and upper abdomen.||The included thorax "
                          "is unremarkable.")]),
    ),
    impression_normal="No MRI evidence of malignancy. BI-RADS 1.||Negative breast MRI (BI-RADS 1).||No suspicious "
                      "finding in either breast. BI-RADS 1: negative.",
)

SPEC = RegionSpec(
    name="breast",
    subregions=(BREAST,),
    reference_tissue="breast_fgt",
    coil="Breast_16",
    age_range=(30, 75),
    sex="F",
    findings={
        "breast_mass": FindingKind(
            tumour=True, size_mm=(6.0, 40.0),
            sites={"upper_outer_quadrant": 0.5, "upper_inner_quadrant": 0.15, "lower_outer_quadrant": 0.15,
                   "lower_inner_quadrant": 0.1, "retroareolar": 0.1},
            histologies={"*": {"invasive_ductal_carcinoma": 0.65, "fibroadenoma": 0.35}}),
        "breast_cyst": FindingKind(sites={"any": 1.0}, size_mm=(4, 20)),
    },
)

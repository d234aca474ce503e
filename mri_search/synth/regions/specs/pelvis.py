"""Pelvis: prostate (PI-RADS v2.1) and female pelvis protocols, chosen by sex; vocabulary, reports, findings."""

from __future__ import annotations

from ...protocols import TSE_NAMES
from ...protocols import SeriesTemplate as T
from ..spec import FindingKind, RegionSpec, Subregion

PELVIS_PROSTATE = Subregion(
    name="pelvis_prostate",
    sex="M",
    protocol=(
        T("T1", "T1_SE_2D", "axial", (300, 380), (256, 320), (5, 6), (0.1, 0.2), (150, 200),
          names=("t1_tse_tra_large_fov", "Ax T1 FSE large FOV", "T1W_TSE_TRA_LFOV")),
        T("T2", "T2_TSE_2D", "axial", (160, 200), (256, 320), (3, 3), (0, 0), (60, 90), oblique_deg=12,
          names=TSE_NAMES["T2ax"]),
        T("T2", "T2_TSE_2D", "sagittal", (180, 220), (256, 320), (3, 3), (0, 0), (60, 90),
          names=TSE_NAMES["T2sag"]),
        T("T2", "T2_TSE_2D", "coronal", (180, 220), (256, 320), (3, 3), (0, 0), (60, 90), optional=0.6,
          names=TSE_NAMES["T2cor"]),
        T("DWI", "DWI_SS_EPI", "axial", (160, 220), (128, 160), (3, 4), (0, 0), (60, 90), b_values=(50, 800, 1400),
          fat_suppression="spectral", names=("ep2d_diff_b50_800_1400_tra_TRACEW", "Ax DWI b1400", "DWI_b0_b1000_b1400")),
        T("T1C", "T1_3D_GRE_FS", "axial", (180, 260), (192, 256), (3, 3), (0, 0), (60, 90), post_contrast=True,
          fat_suppression="spectral", optional=0.7, names=("t1_vibe_fs_tra_dyn", "Ax DCE DISCO", "DCE_THRIVE")),
    ),
    contrast_rate=0.7,
    study_descriptions=("MRI PROSTATE MULTIPARAMETRIC W WO", "MR PROSTATE MPMRI", "Prostate^mpMRI"),
    body_part=(("PROSTATE", "PELVIS"), ("Prostate",), ("ABDOMEN", "HIP")),
    exam_titles=("MRI PROSTATE (MULTIPARAMETRIC)", "MP-MRI PROSTATE", "MRI PELVIS (PROSTATE)"),
    normal_reasons="Raised PSA ({psa} ng/mL).||PSA {psa} ng/mL, no prior biopsy.||Elevated PSA, ?prostate "
                   "cancer.",
    normal_slots=(
        ("gland", "Prostate", [
            ("gland", "", "The prostate gland is [normal in configuration|of normal shape].||The prostatic "
                          "capsule is [smooth|well defined]."),
            ("hemorrhage", "t1", "No [post-biopsy |]hemorrhage [on T1-weighted images|].||No intraprostatic "
                                 "hemorrhage.")]),
        ("pz", "Peripheral zone", [
            ("pz", "t2", "The peripheral zone is [homogeneously |]T2 hyperintense without focal lesion."),
            ("pz", "", "No suspicious peripheral zone lesion.||No focal abnormality in the peripheral zone.||"
                       "Peripheral zone: no focal lesion.")]),
        ("tz", "Transition zone", [
            ("tz", "", "No suspicious transition zone lesion.||The transition zone is [unremarkable|normal in "
                       "signal].||Transition zone: no suspicious lesion.")]),
        ("lesion", "", []),
        ("epe", "", [("epe", "", "No extraprostatic extension.||No EPE.||The capsule is intact without "
                                 "extraprostatic extension."),
                     ("nvb", "", "The neurovascular bundles are [preserved|unremarkable].")]),
        ("sv", "Seminal vesicles", [("sv", "", "The seminal vesicles are [normal|unremarkable].||Normal seminal "
                                               "vesicles.||No seminal vesicle invasion.")]),
        ("nodes", "Lymph nodes", [("nodes", "", "No pelvic lymphadenopathy.||No enlarged pelvic [or inguinal "
                                                "|]lymph nodes.")]),
        ("bones", "Bones", [("bone", "", "No suspicious bone lesion.||No focal osseous lesion to suggest "
                                         "metastasis.||Normal marrow signal in the imaged pelvis.")]),
        ("other", "Other", [("bladder rectum", "", "The bladder and rectum are unremarkable.||Unremarkable "
                                                   "bladder and rectum.")]),
    ),
    impression_normal="No suspicious lesion in the prostate (PI-RADS 1).||No clinically significant prostate "
                      "cancer identified. PI-RADS 1.||Negative prostate MRI (PI-RADS 1).",
)

PELVIS_FEMALE = Subregion(
    name="pelvis_female",
    sex="F",
    protocol=(
        T("T2", "T2_TSE_2D", "sagittal", (200, 240), (256, 384), (3, 4), (0.1, 0.3), (90, 130),
          names=TSE_NAMES["T2sag"]),
        T("T2", "T2_TSE_2D", "axial", (200, 240), (256, 384), (3, 4), (0.1, 0.3), (90, 130), oblique_deg=15,
          names=("t2_tse_tra_obl", "Ax Obl T2", "T2W_TSE_TRA_OBL")),
        T("T1", "T1_SE_2D", "axial", (300, 380), (256, 320), (5, 6), (0.1, 0.2), (150, 200),
          names=TSE_NAMES["T1ax"]),
        T("DWI", "DWI_SS_EPI", "axial", (260, 340), (128, 160), (4, 5), (0.0, 0.2), (120, 160), b_values=(50, 1000),
          fat_suppression="spectral", names=("ep2d_diff_tra_TRACEW", "Ax DWI", "DWI")),
        T("T1C", "T1_3D_GRE_FS", "sagittal", (240, 300), (256, 320), (3, 4), (0, 0), (100, 140), post_contrast=True,
          fat_suppression="spectral", optional=0.7, names=("t1_vibe_fs_sag_post", "Sag LAVA FS +C", "THRIVE_SAG +C")),
    ),
    contrast_rate=0.6,
    study_descriptions=("MRI PELVIS FEMALE {wwo}", "MR PELVIS UTERUS", "MRI PELVIS ADNEXA"),
    body_part=(("PELVIS",), ("UTERUS", "OVARY"), ("ABDOMEN",)),
    exam_titles=("MRI PELVIS", "MRI FEMALE PELVIS", "MR PELVIS"),
    normal_reasons="Pelvic pain.||Menorrhagia.||Abnormal uterine bleeding.||Pelvic pain, ?endometriosis.",
    normal_slots=(
        ("uterus", "Uterus", [
            ("position", "", "The uterus is [anteverted|anteverted and anteflexed|retroverted]."),
            ("uterus myometrium", "", "The uterus is normal in size with homogeneous myometrium.||Normal uterine "
                                      "size and myometrial signal."),
            ("myometrium", "", "No uterine mass.||[Normal|Homogeneous] myometrial signal.")]),
        ("endometrium", "Endometrium", [
            ("endometrium", "", "The endometrium is [normal|of normal thickness] [for age|].||Normal endometrial "
                                "thickness.||The endometrial cavity is not distorted."),
            ("jz", "t2", "The junctional zone is [normal|not thickened].||No junctional zone thickening [to "
                         "suggest adenomyosis|].")]),
        ("cervix", "Cervix", [("cervix", "", "The cervix is [unremarkable|normal].||Normal cervix and vagina.")]),
        ("ovaries", "Adnexa", [
            ("right_ovary left_ovary", "", "Both ovaries are [normal|unremarkable] [in size and appearance|].||"
                                           "Normal ovaries."),
            ("right_ovary", "", "The right ovary is [normal|unremarkable].||Normal right ovary."),
            ("left_ovary", "", "The left ovary is [normal|unremarkable].||Normal left ovary.")]),
        ("fluid", "", [("fluid", "", "No free pelvic fluid.||No pelvic free fluid.")]),
        ("other", "Other", [
            ("bladder", "", "The bladder is [unremarkable|normal]."),
            ("nodes", "", "No pelvic lymphadenopathy.||No enlarged pelvic lymph nodes."),
            ("bone", "", "No [suspicious|focal] bone lesion.")]),
    ),
    impression_normal="Normal MRI of the pelvis.||No pelvic mass.||Normal uterus and ovaries.||Unremarkable "
                      "female pelvis.",
)

SPEC = RegionSpec(
    name="pelvis",
    subregions=(PELVIS_PROSTATE, PELVIS_FEMALE),
    reference_tissue="myometrium",
    findings={
        "prostate_lesion": FindingKind(
            tumour=True, size_mm=(6.0, 25.0),
            sites={"peripheral_zone_base": 0.25, "peripheral_zone_mid": 0.45, "peripheral_zone_apex": 0.3},
            histologies={"*": {"prostate_adenocarcinoma": 1.0}}),
        "uterine_fibroid": FindingKind(sites={"intramural": 0.6, "submucosal": 0.2, "subserosal": 0.2},
                                       size_mm=(15, 80), lateralised=False,
                                       histologies={"*": {"leiomyoma": 1.0}}),
        "ovarian_cyst": FindingKind(sites={"ovary": 1.0}, size_mm=(15, 50)),
    },
)

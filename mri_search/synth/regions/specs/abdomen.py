"""Abdomen: the liver protocol, its header vocabulary, report tables and findings."""

from __future__ import annotations

from ...protocols import SeriesTemplate as T
from ..spec import FindingKind, RegionSpec, Subregion

ABDOMEN = Subregion(
    name="abdomen",
    weight=1.0,
    protocol=(
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
    ),
    contrast_rate=0.95,
    study_descriptions=("MRI ABDOMEN {wwo}", "MR LIVER W WO", "Abdomen^Liver"),
    body_part=(("ABDOMEN", "LIVER"), ("ABDOMENPELVIS", "Kidney"), ("CHEST", "PELVIS")),
    exam_titles=("MRI ABDOMEN", "MRI LIVER", "MR ABDOMEN (LIVER PROTOCOL)", "MRI UPPER ABDOMEN"),
    normal_reasons="Abnormal liver function tests.||Cirrhosis, HCC surveillance.||Right upper quadrant pain.||"
                   "Indeterminate liver lesion on ultrasound.",
    prior_modalities=("Ultrasound abdomen", "CT abdomen"),
    normal_slots=(
        ("liver", "Liver", [
            ("liver_size", "", "The liver is normal in size and contour.||Normal liver size[ and contour|].||The "
                               "liver is not enlarged and has a smooth contour."),
            ("liver_lesion", "", "No focal liver lesion.||No focal hepatic lesion is identified.||No suspicious "
                                 "focal liver lesion.")]),
        ("biliary", "Biliary", [
            ("biliary", "", "No [intrahepatic or extrahepatic |]biliary dilatation.||The biliary tree is not "
                            "dilated.||Normal caliber common bile duct.")]),
        ("gallbladder", "Gallbladder", [
            ("gallbladder", "", "The gallbladder is [unremarkable|normal].||No gallstones [or gallbladder wall "
                                "thickening|].")]),
        ("pancreas", "Pancreas", [
            ("pancreas", "", "The pancreas is [normal|unremarkable][ in signal|].||Normal pancreas[ without duct "
                             "dilatation|].")]),
        ("spleen", "Spleen", [("spleen", "", "The spleen is normal in size.||Normal spleen.||The spleen is "
                                             "[unremarkable|not enlarged].")]),
        ("adrenals", "Adrenals", [("adrenals", "", "The adrenal glands are [normal|unremarkable].||Normal "
                                                   "adrenals.")]),
        ("kidneys", "Kidneys", [
            ("kidneys", "", "The kidneys are [normal|unremarkable] [in size and signal|].||Normal kidneys."),
            ("hydronephrosis", "", "No hydronephrosis.||No hydronephrosis on either side.")]),
        ("bowel", "Bowel", [("bowel", "", "The [visualized|included] bowel is unremarkable.||No bowel wall "
                                          "thickening.")]),
        ("peritoneum", "Peritoneum", [("ascites", "", "No ascites.||No free fluid.||No ascites or peritoneal "
                                                      "nodularity.")]),
        ("nodes", "Lymph nodes", [("nodes", "", "No [retroperitoneal or mesenteric |]lymphadenopathy.||No "
                                                "enlarged abdominal lymph nodes.")]),
        ("vessels", "Vessels", [
            ("portal", "", "The portal and hepatic veins are patent.||Patent portal and hepatic veins."),
            ("aorta", "", "[Normal caliber abdominal aorta|The abdominal aorta is normal in caliber].")]),
        ("bones", "Bones", [("bone", "", "No [suspicious|aggressive] osseous lesion.||Normal marrow signal in the "
                                         "imaged skeleton.")]),
        ("lung_bases", "Lung bases", [("lung_bases", "", "The lung bases are clear.||No pleural effusion.")]),
    ),
    impression_normal="Normal MRI of the abdomen.||No focal liver lesion.||No significant abdominal abnormality.||"
                      "Unremarkable MRI abdomen.",
)

SPEC = RegionSpec(
    name="abdomen",
    subregions=(ABDOMEN,),
    reference_tissue="liver",
    findings={
        "liver_lesion": FindingKind(
            tumour=True, size_mm=(10.0, 60.0),
            sites={f"segment_{s}": w for s, w in [("II", .08), ("III", .08), ("IVa", .08), ("IVb", .06), ("V", .12),
                                                   ("VI", .14), ("VII", .2), ("VIII", .24)]},
            histologies={"*": {"hepatocellular_carcinoma": 0.35, "haemangioma": 0.35, "colorectal_metastasis": 0.3}}),
        "liver_cyst": FindingKind(sites={"any": 1.0}, size_mm=(5, 25), lateralised=False),
        "renal_cyst": FindingKind(sites={"upper_pole": 0.4, "lower_pole": 0.4, "interpolar": 0.2},
                                  size_mm=(8, 40)),
    },
)

"""Chest: chest and cardiac protocols, their header vocabulary, report tables and findings."""

from __future__ import annotations

from ...protocols import SeriesTemplate as T
from ..spec import FindingKind, RegionSpec, Subregion

CHEST = Subregion(
    name="chest",
    weight=0.5,
    protocol=(
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
    ),
    contrast_rate=0.8,
    study_descriptions=("MRI CHEST {wwo}", "MR THORAX", "MRI MEDIASTINUM"),
    body_part=(("CHEST",), ("THORAX", "Thorax"), ("ABDOMEN", "HEART")),
    exam_titles=("MRI CHEST", "MR THORAX", "MRI OF THE CHEST"),
    normal_reasons="Chest wall pain.||Indeterminate mediastinal contour on chest radiograph.||Chest pain.",
    normal_slots=(
        ("lesion", "", []),
        ("mediastinum", "Mediastinum", [
            ("mediastinum nodes", "", "No mediastinal or hilar lymphadenopathy.||The mediastinum and hila are "
                                      "[unremarkable|normal].||No [enlarged|suspicious] mediastinal or hilar nodes."),
            ("pericardium", "", "The heart is normal in size. No pericardial effusion.||No pericardial effusion.")]),
        ("pleura", "Pleura", [
            ("pleura", "", "No pleural effusion [or thickening|].||The pleural spaces are clear.")]),
        ("chest_wall", "Chest wall", [
            ("chest_wall", "", "The chest wall is unremarkable.||No chest wall [mass|abnormality].")]),
        ("lungs", "Lungs", [
            ("lungs", "", "No pulmonary mass [within the limits of MRI|is identified].||The lungs are clear within "
                          "the limits of MRI.||No [consolidation or |]pulmonary mass.")]),
        ("upper_abdomen", "Upper abdomen", [
            ("upper_abdomen", "", "The included upper abdomen is unremarkable.||No abnormality in the imaged "
                                  "upper abdomen.")]),
    ),
    impression_normal="No [significant |]abnormality in the chest.||Normal MRI of the chest.||No thoracic mass.",
)

CARDIAC = Subregion(
    name="cardiac",
    weight=0.5,
    protocol=(
        T("SSFP", "BSSFP", "axial", (300, 380), (192, 256), (6, 8), (0.25, 0.5), (80, 110), oblique_deg=40,
          rect_fov=(0.8, 1.0), names=("trufi_cine_sax", "FIESTA CINE SAX", "sBTFE_CINE_SA")),
        T("STIR", "STIR", "axial", (300, 380), (192, 256), (8, 8), (0.25, 0.5), (80, 110), oblique_deg=40,
          fat_suppression="stir", optional=0.7, rect_fov=(0.8, 1.0), names=("T2_TSE_DB_STIR", "T2 STIR SAX", "STIR_BB")),
        T("T1C", "LGE_IR_GRE", "axial", (300, 380), (192, 256), (6, 8), (0.25, 0.5), (80, 110), oblique_deg=40,
          post_contrast=True, rect_fov=(0.8, 1.0), names=("tfl_psir_sax", "MDE SAX", "PSIR_SA")),
    ),
    contrast_rate=1.0,
    study_descriptions=("MRI HEART FUNCTION AND MORPHOLOGY W WO CONTRAST", "CARDIAC MRI", "CMR VIABILITY"),
    body_part=(("HEART",), ("CARDIAC", "Heart"), ("CHEST",)),
    exam_titles=("CARDIAC MRI", "MRI HEART", "CARDIAC MR"),
    normal_reasons="Chest pain; assess for cardiomyopathy.||Palpitations.||Reduced ejection fraction on echo.||"
                   "Breathlessness.",
    normal_slots=(
        ("lv", "Left ventricle", [
            ("lv", "", "The left ventricle is normal in size.||Normal LV [size|dimensions].||The left ventricle is "
                       "not dilated."),
            ("lv_wall", "", "Normal LV wall thickness.||No regional wall thinning.||LV wall thickness is normal.")]),
        ("rv", "Right ventricle", [
            ("rv", "", "The right ventricle is normal in size.||Normal RV size.||[Normal|Unremarkable] right "
                       "ventricle.")]),
        ("atria", "Atria", [("atria", "", "The atria are [normal in size|not dilated].||Normal biatrial size.")]),
        ("pericardium", "Pericardium", [
            ("pericardium", "", "No pericardial effusion [or thickening|].||The pericardium is "
                                "[normal|unremarkable].||Normal pericardium.")]),
        ("tissue", "Tissue characterization", [
            ("edema", "t2", "No myocardial edema on T2-weighted imaging.||No focal myocardial T2 signal "
                            "abnormality.")]),
        ("lge", "LGE", [
            ("lge", "t1c", "No late gadolinium enhancement.||No myocardial LGE [to suggest scar or fibrosis|].||"
                           "Late gadolinium enhancement imaging shows no scar.")]),
        ("vessels", "Great vessels", [
            ("vessels", "", "The thoracic aorta and pulmonary arteries are normal in caliber.||Normal great "
                            "vessels.")]),
        ("extracardiac", "Extracardiac", [
            ("extracardiac", "", "No significant extracardiac findings.||The imaged extracardiac structures are "
                                 "unremarkable.")]),
    ),
    impression_normal="Normal cardiac MRI.||Structurally normal heart.||No [cardiac |]abnormality detected.",
)

SPEC = RegionSpec(
    name="chest",
    subregions=(CHEST, CARDIAC),
    reference_tissue="muscle",
    findings={
        "lung_mass": FindingKind(tumour=True, size_mm=(15, 50),
                                 sites={"right_upper_lobe": 0.3, "left_upper_lobe": 0.25, "right_lower_lobe": 0.25,
                                        "left_lower_lobe": 0.2},
                                 histologies={"*": {"scc": 0.5, "metastasis": 0.5}}),
        "myocardial_scar": FindingKind(sites={"lad_territory": 0.5, "rca_territory": 0.3,
                                                              "lcx_territory": 0.2}, size_mm=(10, 40),
                                       lateralised=False),
        "pericardial_effusion": FindingKind(sites={"pericardium": 1.0}, size_mm=(5, 20),
                                            lateralised=False),
    },
)

"""Knee: the routine knee protocol (OAI), its header vocabulary, report tables and findings."""

from __future__ import annotations

from ...protocols import TSE_NAMES
from ...protocols import SeriesTemplate as T
from ..spec import FindingKind, RegionSpec, Subregion

KNEE = Subregion(
    name="knee",
    weight=1.0,
    protocol=(
        T("PDFS", "PD_TSE_FS", "sagittal", (120, 160), (256, 384), (3, 4), (0.0, 0.1), (80, 110), oblique_deg=12,
          fat_suppression="spectral", names=("pd_tse_fs_sag", "Sag PD FS", "PDW_SPAIR_SAG")),
        T("PDFS", "PD_TSE_FS", "coronal", (120, 160), (256, 384), (3, 4), (0.0, 0.1), (70, 100), oblique_deg=10,
          fat_suppression="spectral", names=("pd_tse_fs_cor", "Cor PD FS", "PDW_SPAIR_COR")),
        T("PDFS", "PD_TSE_FS", "axial", (120, 160), (256, 320), (3, 4), (0.0, 0.1), (80, 120),
          fat_suppression="spectral", names=("pd_tse_fs_tra", "Ax PD FS", "PDW_SPAIR_TRA")),
        T("PD", "PD_TSE_2D", "sagittal", (120, 160), (256, 384), (3, 4), (0.0, 0.1), (80, 110), oblique_deg=12,
          optional=0.6, names=("pd_tse_sag", "Sag PD", "PDW_TSE_SAG")),
        T("T1", "T1_SE_2D", "coronal", (120, 160), (256, 320), (3, 4), (0.0, 0.1), (70, 100), optional=0.5,
          names=TSE_NAMES["T1cor"]),
    ),
    contrast_rate=0.0,
    study_descriptions=("MRI KNEE {side} WO CONTRAST", "MR KNEE {side_long} WITHOUT", "Knee^Routine"),
    body_part=(("KNEE",), ("Knee", "KNEE JOINT"), ("EXTREMITY", "LEG")),
    exam_titles=("MRI {SIDE} KNEE", "MR KNEE {SIDE}", "MRI OF THE {SIDE} KNEE"),
    normal_reasons="Twisting injury, locking.||Knee pain.||Medial joint line pain.||Sports injury; instability.",
    normal_slots=(
        ("medial_meniscus", "Medial meniscus", [
            ("medial_meniscus", "", "The medial meniscus is intact.||Medial meniscus: intact.||No medial meniscal "
                                    "tear.||The medial meniscus is normal in morphology and signal.")]),
        ("lateral_meniscus", "Lateral meniscus", [
            ("lateral_meniscus", "", "The lateral meniscus is intact.||Lateral meniscus: intact.||No lateral "
                                     "meniscal tear.||The lateral meniscus is normal in morphology and signal.")]),
        ("acl", "ACL", [("acl", "", "The ACL is intact.||The anterior cruciate ligament is intact.||Intact ACL.||"
                                    "The ACL is normal in [course|orientation] and signal.")]),
        ("pcl", "PCL", [("pcl", "", "The PCL is intact.||The posterior cruciate ligament is normal.||Intact "
                                    "PCL.")]),
        ("collaterals", "Collateral ligaments", [
            ("collaterals", "", "The [medial and lateral |]collateral ligaments are intact.||The MCL and LCL are "
                                "intact.||[Intact|Normal] collateral ligaments [and posterolateral corner|].")]),
        ("extensor", "Extensor mechanism", [
            ("extensor", "", "The extensor mechanism is intact.||The quadriceps and patellar tendons are "
                             "[normal|intact].")]),
        ("cartilage", "Cartilage", [
            ("cartilage", "", "Articular cartilage is preserved [in all three compartments|].||No [focal "
                              "|]chondral defect.||The cartilage is preserved in the medial, lateral and "
                              "patellofemoral compartments.")]),
        ("marrow", "Bone marrow", [
            ("marrow", "", "No bone marrow edema.||[Normal|Unremarkable] bone marrow signal.||No fracture or "
                           "marrow edema.")]),
        ("effusion", "Joint", [("effusion", "", "No joint effusion.||No significant knee joint effusion.||There "
                                                "is no effusion.")]),
        ("baker", "Soft tissues", [("baker", "", "No Baker's cyst.||No popliteal cyst.||The popliteal fossa is "
                                                 "unremarkable.")]),
    ),
    impression_normal="Normal MRI of the knee.||No internal derangement.||No meniscal or ligamentous tear.||"
                      "Unremarkable knee MRI.",
)

SPEC = RegionSpec(
    name="knee",
    subregions=(KNEE,),
    reference_tissue="muscle",
    coil="TxRx_Knee_15",
    age_range=(18, 75),
    unilateral=True,
    feet_first=True,
    line_per_slot=True,
    findings={
        "meniscal_tear": FindingKind(
            size_mm=(5, 25),
            sites={"medial_meniscus_posterior_horn": 0.55, "medial_meniscus_body": 0.1,
                   "lateral_meniscus_posterior_horn": 0.15, "lateral_meniscus_anterior_horn": 0.1,
                   "lateral_meniscus_body": 0.1}, lateralised=False),
        "acl_tear": FindingKind(sites={"acl_midsubstance": 1.0}, size_mm=(10, 30), lateralised=False),
        "bone_contusion": FindingKind(sites={"lateral_femoral_condyle": 0.5,
                                                            "lateral_tibial_plateau": 0.3,
                                                            "medial_femoral_condyle": 0.2},
                                      size_mm=(8, 30), lateralised=False),
        "joint_effusion": FindingKind(sites={"suprapatellar_recess": 1.0}, size_mm=(5, 25),
                                      lateralised=False),
        "baker_cyst": FindingKind(sites={"popliteal": 1.0}, size_mm=(15, 50), lateralised=False),
    },
)

"""Shoulder: the routine shoulder protocol, its header vocabulary, report tables and findings."""

from __future__ import annotations

from ...protocols import SeriesTemplate as T
from ..spec import FindingKind, RegionSpec, Subregion

SHOULDER = Subregion(
    name="shoulder",
    weight=1.0,
    protocol=(
        T("PDFS", "PD_TSE_FS", "coronal", (140, 180), (256, 384), (3, 4), (0.0, 0.1), (60, 90), oblique_deg=30,
          fat_suppression="spectral", names=("pd_tse_fs_cor_obl", "Cor Obl PD FS", "PDW_SPAIR_COR")),
        T("T2FS", "T2_TSE_FS", "sagittal", (140, 180), (256, 320), (3, 4), (0.0, 0.1), (70, 110), oblique_deg=30,
          fat_suppression="spectral", names=("t2_tse_fs_sag", "Sag Obl T2 FS", "T2W_SPAIR_SAG")),
        T("PDFS", "PD_TSE_FS", "axial", (140, 180), (256, 320), (3, 4), (0.0, 0.1), (70, 110),
          fat_suppression="spectral", names=("pd_tse_fs_tra", "Ax PD FS", "PDW_SPAIR_TRA")),
        T("T1", "T1_SE_2D", "coronal", (140, 180), (256, 320), (3, 4), (0.0, 0.1), (60, 90), oblique_deg=30,
          names=("t1_tse_cor", "Cor Obl T1", "T1W_TSE_COR")),
    ),
    contrast_rate=0.0,
    study_descriptions=("MRI SHOULDER {side} WO CONTRAST", "MR SHOULDER {side_long} W/O", "Shoulder^Routine"),
    body_part=(("SHOULDER",), ("Shoulder",), ("EXTREMITY", "ARM", "CHEST")),
    exam_titles=("MRI {SIDE} SHOULDER", "MR SHOULDER {SIDE}", "MRI OF THE {SIDE} SHOULDER"),
    normal_reasons="Shoulder pain, ?rotator cuff tear.||Painful arc.||Weakness on abduction.||Shoulder pain after "
                   "a fall.",
    normal_slots=(
        ("cuff", "Rotator cuff", [
            ("supraspinatus infraspinatus subscapularis teres_minor", "", "The rotator cuff is intact.||No rotator "
             "cuff tear.||[Intact|Normal] rotator cuff tendons."),
            ("supraspinatus", "", "The supraspinatus tendon is intact.||Supraspinatus: intact."),
            ("infraspinatus", "", "The infraspinatus tendon is [intact|normal].||Infraspinatus: intact."),
            ("subscapularis", "", "The subscapularis tendon is [intact|normal].||Subscapularis: intact."),
            ("teres_minor", "", "Teres minor is normal.")]),
        ("muscles", "Muscles", [
            ("muscles", "", "No rotator cuff muscle atrophy or fatty infiltration.||Normal rotator cuff muscle "
                            "bulk.")]),
        ("biceps", "Biceps", [
            ("biceps", "", "The long head of biceps tendon is [normally located|intact][ within the bicipital "
                           "groove|].||Normal LHB tendon.")]),
        ("labrum", "Labrum", [
            ("labrum", "", "The glenoid labrum is [intact|unremarkable] [within the limits of non-arthrographic "
                           "MRI|].||No [displaced |]labral tear.")]),
        ("cartilage", "Glenohumeral joint", [
            ("gh_cartilage", "", "The glenohumeral [articular |]cartilage is preserved.||No glenohumeral joint "
                                 "effusion.")]),
        ("ac_joint", "AC joint", [("ac", "", "The AC joint is [unremarkable|normal].||No significant AC joint "
                                             "arthropathy.")]),
        ("bursa", "Bursa", [("bursa", "", "No subacromial-subdeltoid bursal fluid.||No bursitis.||The "
                                          "subacromial-subdeltoid bursa is [normal|not distended].")]),
        ("marrow", "Bone marrow", [("marrow", "", "Normal bone marrow signal.||No bone marrow edema [or "
                                                  "fracture|].")]),
    ),
    impression_normal="Normal MRI of the shoulder.||Intact rotator cuff.||No rotator cuff tear.||Unremarkable shoulder "
                      "MRI.",
)

SPEC = RegionSpec(
    name="shoulder",
    subregions=(SHOULDER,),
    reference_tissue="muscle",
    coil="Shoulder_16",
    age_range=(25, 80),
    unilateral=True,
    line_per_slot=True,
    findings={
        "rotator_cuff_tear": FindingKind(sites={"supraspinatus": 0.8, "infraspinatus": 0.1,
                                                                   "subscapularis": 0.1},
                                         size_mm=(4, 30), lateralised=False),
        "subacromial_bursitis": FindingKind(sites={"subacromial_bursa": 1.0}, size_mm=(2, 8),
                                            lateralised=False),
    },
)

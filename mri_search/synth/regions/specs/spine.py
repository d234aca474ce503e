"""Spine: lumbar and cervical protocols, their header vocabulary, report tables and findings."""

from __future__ import annotations

from ...protocols import TSE_NAMES
from ...protocols import SeriesTemplate as T
from ..spec import FindingKind, RegionSpec, Subregion


def _slots(cord_label: str, cord: list, other: list) -> tuple:
    """The spine's search pattern; the cord (conus) and extra-spinal statements differ per subregion."""
    return (
        ("alignment", "Alignment", [
            ("alignment", "", "[Normal|Preserved] alignment.||Alignment is [normal|maintained].||No "
                              "[spondylolisthesis|listhesis].||The vertebrae are normally aligned.")]),
        ("vertebrae", "Vertebrae", [
            ("heights", "", "Vertebral body heights are [maintained|preserved].||No vertebral [compression "
                            "|]fracture.||Normal vertebral body heights.")]),
        ("marrow", "Marrow", [
            ("marrow", "", "[Normal|Unremarkable] bone marrow signal.||No [focal|suspicious] marrow lesion.||The "
                           "marrow signal is normal.")]),
        ("cord", cord_label, cord),
        ("levels", "Levels", []),  # level-by-level review, written by reports/findings.spine_levels
        ("paraspinal", "Paraspinal", [
            ("paraspinal", "", "The paraspinal soft tissues are [unremarkable|normal].||No paraspinal "
                               "[collection|mass].||Normal paraspinal musculature.")]),
        ("other", "Other", other),
    )


LUMBAR_SPINE = Subregion(
    name="lumbar_spine",
    weight=0.65,
    protocol=(
        T("T1", "T1_SE_2D", "sagittal", (260, 320), (320, 384), (3.5, 4), (0.1, 0.1), (50, 70),
          names=TSE_NAMES["T1sag"]),
        T("T2", "T2_TSE_2D", "sagittal", (260, 320), (320, 384), (3.5, 4), (0.1, 0.1), (50, 70),
          names=TSE_NAMES["T2sag"]),
        T("STIR", "STIR", "sagittal", (260, 320), (256, 320), (3.5, 4), (0.1, 0.1), (50, 70), fat_suppression="stir",
          optional=0.7, names=("t2_tirm_sag", "Sag STIR", "STIR_SAG")),
        T("T2", "T2_TSE_2D", "axial", (180, 220), (256, 320), (3.5, 4), (0.1, 0.25), (70, 110), oblique_deg=15,
          names=TSE_NAMES["T2ax"]),
    ),
    contrast_rate=0.0,
    study_descriptions=("MRI LUMBAR SPINE WO CONTRAST", "MR L-SPINE WO", "Spine^LSpine"),
    body_part=(("LSPINE", "LSSPINE"), ("LUMBAR", "L-SPINE", "LUMBO-SACRAL SP", "SPINE"), ("ABDOMEN", "PELVIS")),
    exam_titles=("MRI LUMBAR SPINE", "MR L-SPINE", "MRI OF THE LUMBAR SPINE"),
    normal_reasons="Low back pain.||Low back pain with sciatica.||Radiculopathy.||Back pain, failed conservative "
                   "management.",
    normal_slots=_slots(
        "Conus",
        [("conus", "", "The conus [medullaris |]terminates [normally |]at [L1|the L1 level|T12-L1] [with normal "
                       "signal|].||Normal conus position and signal.||The conus and cauda equina are "
                       "[normal|unremarkable].")],
        [("kidneys", "", "The [included |]kidneys and aorta are unremarkable.||No incidental abnormality in the "
                         "included retroperitoneum.")]),
    impression_normal="Normal MRI of the lumbar spine.||No [significant |]disc herniation or nerve root "
                      "compression.||Unremarkable lumbar spine.||No canal or foraminal stenosis.",
)

CERVICAL_SPINE = Subregion(
    name="cervical_spine",
    weight=0.35,
    protocol=(
        T("T1", "T1_SE_2D", "sagittal", (220, 260), (320, 384), (3, 3), (0.1, 0.1), (40, 55), names=TSE_NAMES["T1sag"]),
        T("T2", "T2_TSE_2D", "sagittal", (220, 260), (320, 384), (3, 3), (0.1, 0.1), (40, 55), names=TSE_NAMES["T2sag"]),
        T("STIR", "STIR", "sagittal", (220, 260), (256, 320), (3, 3), (0.1, 0.1), (40, 55), fat_suppression="stir",
          optional=0.7, names=("t2_tirm_sag", "Sag STIR", "STIR_SAG")),
        T("T2", "T2_TSE_2D", "axial", (160, 180), (256, 320), (3, 4), (0.0, 0.15), (70, 100), oblique_deg=12,
          names=TSE_NAMES["T2ax"]),
    ),
    contrast_rate=0.0,
    study_descriptions=("MRI CERVICAL SPINE WO", "MR C-SPINE WO", "Spine^CSpine"),
    body_part=(("CSPINE",), ("CERVICAL_SPINE", "C-SPINE", "SPINE"), ("NECK",)),
    exam_titles=("MRI CERVICAL SPINE", "MR C-SPINE", "MRI OF THE CERVICAL SPINE"),
    normal_reasons="Neck pain radiating to the arm.||Cervical radiculopathy.||Neck pain.||Hand numbness; "
                   "?myelopathy.",
    normal_slots=_slots(
        "Cord",
        [("cord", "", "The cervical cord is normal in [caliber and signal|signal].||No cord signal abnormality.||"
                      "Normal cord signal and caliber.")],
        [("posterior_fossa", "", "The included posterior fossa is unremarkable.||The prevertebral soft tissues "
                                 "are normal.")]),
    impression_normal="Normal MRI of the cervical spine.||No [significant |]canal or foraminal stenosis.||"
                      "Unremarkable cervical spine.||No cord compression.",
)

SPEC = RegionSpec(
    name="spine",
    subregions=(LUMBAR_SPINE, CERVICAL_SPINE),
    reference_tissue="marrow_red",
    coil="Spine_32",
    age_range=(25, 80),
    line_per_slot=True,
    findings={
        "disc_herniation": FindingKind(
            size_mm=(3.0, 12.0),
            sites={"L3-L4": 0.1, "L4-L5": 0.45, "L5-S1": 0.45, "C4-C5": 0.15, "C5-C6": 0.45, "C6-C7": 0.4}),
        "disc_degeneration": FindingKind(sites={"L4-L5": 0.5, "L5-S1": 0.5, "C5-C6": 0.5, "C6-C7": 0.5},
                                         size_mm=(0, 0), lateralised=False),
        "vertebral_haemangioma": FindingKind(sites={"vertebral_body": 1.0}, size_mm=(6, 20),
                                             lateralised=False),
    },
)

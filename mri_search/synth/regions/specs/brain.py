"""Brain: the routine brain protocol (MS-SMART, ACR), its header vocabulary, report tables and findings."""

from __future__ import annotations

from ...protocols import TSE_NAMES
from ...protocols import SeriesTemplate as T
from ..spec import FindingKind, RegionSpec, Subregion

# paranasal sinuses and mastoids: also in the field of a neck study
SINUS = [
    ("sinuses", "", "The [included|visualized] paranasal sinuses are clear.||Clear paranasal sinuses.||"
                    "The paranasal sinuses are [well aerated|clear]."),
    ("mastoids", "", "The mastoid air cells are [clear|well aerated].||Clear mastoid air cells."),
]

BRAIN = Subregion(
    name="brain",
    weight=1.0,
    t1_required=True,  # at least one T1 (the first template) whatever the optional draws
    protocol=(
        T("T1", "T1_3D_IR_GRE", "sagittal", (230, 256), (224, 256), (0.9, 1.2), (0, 0), (150, 176), optional=0.5,
          names=("t1_mprage_sag_iso", "SAG T1 3D BRAVO", "sT1W_3D_TFE")),
        T("T1", "T1_FLAIR_2D", "sagittal", (220, 250), (256, 320), (4, 5), (0.1, 0.2), (120, 150), optional=0.5,
          names=("t1_tirm_sag", "Sag T1 FLAIR", "T1W_IR_SAG")),
        T("T2", "T2_TSE_2D", "axial", (220, 250), (320, 384), (4, 5), (0.0, 0.1), (130, 160),
          names=TSE_NAMES["T2ax"]),
        T("FLAIR", "T2_FLAIR_2D", "axial", (220, 250), (256, 320), (3, 5), (0.0, 0.1), (130, 160),
          names=("t2_tirm_tra_dark-fluid", "Ax T2 FLAIR", "T2W_FLAIR_TRA")),
        T("DWI", "DWI_SS_EPI", "axial", (220, 240), (128, 192), (4, 5), (0.0, 0.3), (130, 150), b_values=(0, 1000),
          fat_suppression="spectral", names=("ep2d_diff_tra_TRACEW", "Ax DWI", "DWI_SSh")),
        T("T1C", "T1_3D_IR_GRE", "sagittal", (230, 256), (224, 256), (0.9, 1.2), (0, 0), (150, 176),
          post_contrast=True, names=("t1_mprage_sag_iso_post", "3D AX T1 BRAVO+C", "sT1W_3D_TFE_GD")),
    ),
    contrast_rate=0.6,
    study_descriptions=("MRI BRAIN {wwo}", "MR BRAIN {wwo_short}", "MR HEAD {wwo_short}", "Head^Routine",
                        "Neuro^Brain"),
    body_part=(("HEAD", "BRAIN"), ("MR BRAIN W CON", "Head"), ("NECK", "HEADNECK")),
    exam_titles=("MRI BRAIN", "MR HEAD", "MRI OF THE BRAIN", "MR BRAIN"),
    normal_reasons="Headache.||Dizziness.||Seizure.||Memory loss.||Visual disturbance.||Headache, rule out mass.",
    prior_modalities=("CT head",),
    normal_slots=(
        ("lesion", "", []),
        ("parenchyma", "Parenchyma", [
            ("parenchyma mass", "", "The brain parenchyma is normal in signal[ and morphology|].||No focal "
                                    "parenchymal signal abnormality.||The cerebral and cerebellar hemispheres are "
                                    "normal in signal."),
            ("mass", "", "No intracranial mass [lesion|].||There is no intracranial mass."),
            ("parenchyma", "", "Normal gray-white matter differentiation.||Gray-white matter differentiation is "
                               "preserved.")]),
        ("white_matter", "White matter", [
            ("white_matter", "wm", "No significant white matter [signal abnormality|hyperintensities].||The white "
                                   "matter is normal in signal [for age|].||No white matter lesions.")]),
        ("diffusion", "Diffusion", [
            ("diffusion", "dwi", "No restricted diffusion [to suggest acute infarct|].||No acute infarct on "
                                 "diffusion-weighted imaging.||Diffusion-weighted images are unremarkable.||There "
                                 "is no diffusion restriction.")]),
        ("hemorrhage", "", [
            ("hemorrhage", "", "No intracranial hemorrhage.||No [evidence of |]hemorrhage.||No blood products "
                               "are seen.")]),
        ("extra_axial", "", [
            ("extra_axial", "", "No extra-axial collection.||The extra-axial spaces are [normal|unremarkable].||No "
                                "subdural or extradural collection.")]),
        ("ventricles", "Ventricles", [
            ("ventricles", "", "The ventricles and sulci are normal [in size |]for age.||Ventricular size is "
                               "normal.||The ventricles are normal in size and configuration."),
            ("mass_effect", "", "No mass effect or midline shift.||Midline structures are [central|not "
                                "displaced].||No midline shift."),
            ("hydrocephalus", "", "No hydrocephalus.")]),
        ("enhancement", "Enhancement", [
            ("enhancement", "t1c", "No abnormal [intracranial |]enhancement.||No pathological enhancement "
                                   "[after contrast|following gadolinium].||Post-contrast images show no abnormal "
                                   "enhancement.||No enhancing lesion.")]),
        ("vessels", "Vessels", [
            ("vessels", "", "Normal flow voids in the major intracranial vessels.||The major intracranial flow "
                            "voids are preserved.||[Normal|Preserved] arterial flow voids.")]),
        ("sella_orbits", "", [
            ("pituitary orbits", "", "The pituitary [gland |]and orbits are unremarkable.||[Normal|Unremarkable] "
                                     "sella and orbits."),
            ("pituitary", "", "Normal pituitary [gland|fossa]."),
            ("orbits", "", "The orbits are unremarkable.")]),
        ("sinuses", "", SINUS),
        ("calvarium", "", [
            ("bone", "", "The calvarium and scalp are unremarkable.||No [aggressive|focal] calvarial lesion.||"
                         "Normal calvarial marrow signal.")]),
    ),
    impression_normal="Normal MRI of the brain.||No acute intracranial abnormality.||No intracranial mass or "
                      "hemorrhage.||Unremarkable MRI brain.",
)

SPEC = RegionSpec(
    name="brain",
    subregions=(BRAIN,),
    reference_tissue="grey_matter",
    coil="HeadNeck_20",
    findings={
        "brain_tumour": FindingKind(
            tumour=True, size_mm=(15.0, 60.0),
            sites={"frontal_lobe": 0.35, "temporal_lobe": 0.25, "parietal_lobe": 0.25, "occipital_lobe": 0.05,
                   "cerebellum": 0.10},
            histologies={"*": {"glioblastoma": 0.4, "low_grade_glioma": 0.2, "meningioma": 0.25, "metastasis": 0.15}}),
        "acute_infarct": FindingKind(sites={"mca_territory": 0.7, "lacunar_basal_ganglia": 0.3},
                                     size_mm=(8.0, 50.0)),
        "white_matter_hyperintensities": FindingKind(sites={"periventricular": 1.0}, size_mm=(2, 12),
                                                     lateralised=False),
    },
)

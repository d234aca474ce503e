"""Normal (and pertinent-negative) statements per subregion, in search-pattern order (report_structure.md 2-3).

``NORMALS[subregion]`` is the ordered list of findings *slots* (organs/structures). Each slot has a label (used as
a subheading in structured reports) and alternatives ``(tags, needs, templates)``:

- ``tags``: what the statement asserts is normal. A planted finding *blocks* tags, and a blocked statement is never
  written, so a report cannot say "No cervical lymphadenopathy" when nodes were planted.
- ``needs``: a sequence condition ("", "t1c", "dwi", "flair", "t2", "t1", "wm" = FLAIR or T2), so that nothing
  is said about enhancement without a post-contrast series, or about diffusion without DWI.
- ``templates``: ``||``-separated sentences with ``[a|b]`` choice groups (see ``style.expand``).
"""

from __future__ import annotations

Alt = tuple[str, str, str]

_SINUS: list[Alt] = [
    ("sinuses", "", "The [included|visualized] paranasal sinuses are clear.||Clear paranasal sinuses.||"
                    "The paranasal sinuses are [well aerated|clear]."),
    ("mastoids", "", "The mastoid air cells are [clear|well aerated].||Clear mastoid air cells."),
]

NORMALS: dict[str, list[tuple[str, str, list[Alt]]]] = {
    "neck": [
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
        ("other", "Other", _SINUS[:1] + [
            ("apices", "", "The lung apices are [clear|unremarkable].||Clear lung apices."),
            ("orbits", "", "The [included |]orbits are unremarkable."),
            ("spine", "", "The [imaged |]cervical spine is unremarkable.||No aggressive marrow lesion in the "
                          "imaged spine.")]),
    ],
    "brain": [
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
        ("sinuses", "", _SINUS),
        ("calvarium", "", [
            ("bone", "", "The calvarium and scalp are unremarkable.||No [aggressive|focal] calvarial lesion.||"
                         "Normal calvarial marrow signal.")]),
    ],
    "spine": [
        ("alignment", "Alignment", [
            ("alignment", "", "[Normal|Preserved] alignment.||Alignment is [normal|maintained].||No "
                              "[spondylolisthesis|listhesis].||The vertebrae are normally aligned.")]),
        ("vertebrae", "Vertebrae", [
            ("heights", "", "Vertebral body heights are [maintained|preserved].||No vertebral [compression "
                            "|]fracture.||Normal vertebral body heights.")]),
        ("marrow", "Marrow", [
            ("marrow", "", "[Normal|Unremarkable] bone marrow signal.||No [focal|suspicious] marrow lesion.||The "
                           "marrow signal is normal.")]),
        ("cord", "Cord", []),  # filled per subregion below
        ("levels", "Levels", []),  # level-by-level review, written by findings.spine_levels
        ("paraspinal", "Paraspinal", [
            ("paraspinal", "", "The paraspinal soft tissues are [unremarkable|normal].||No paraspinal "
                               "[collection|mass].||Normal paraspinal musculature.")]),
        ("other", "Other", []),
    ],
    "breast": [
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
    ],
    "chest": [
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
    ],
    "cardiac": [
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
    ],
    "abdomen": [
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
    ],
    "pelvis_prostate": [
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
    ],
    "pelvis_female": [
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
    ],
    "knee": [
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
    ],
    "shoulder": [
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
    ],
}

_CORD = {
    "lumbar_spine": [("conus", "", "The conus [medullaris |]terminates [normally |]at [L1|the L1 level|T12-L1] "
                                   "[with normal signal|].||Normal conus position and signal.||The conus and "
                                   "cauda equina are [normal|unremarkable].")],
    "cervical_spine": [("cord", "", "The cervical cord is normal in [caliber and signal|signal].||No cord signal "
                                    "abnormality.||Normal cord signal and caliber.")],
}
_SPINE_OTHER = {
    "lumbar_spine": [("kidneys", "", "The [included |]kidneys and aorta are unremarkable.||No incidental "
                                     "abnormality in the included retroperitoneum.")],
    "cervical_spine": [("posterior_fossa", "", "The included posterior fossa is unremarkable.||The prevertebral "
                                               "soft tissues are normal.")],
}

IMPRESSION_NORMAL: dict[str, str] = {
    "neck": "Normal MRI of the neck.||No [mass or |]lymphadenopathy in the neck.||Unremarkable MRI neck.||No "
            "[suspicious|significant] abnormality in the neck.",
    "brain": "Normal MRI of the brain.||No acute intracranial abnormality.||No intracranial mass or hemorrhage.||"
             "Unremarkable MRI brain.",
    "cervical_spine": "Normal MRI of the cervical spine.||No [significant |]canal or foraminal stenosis.||"
                      "Unremarkable cervical spine.||No cord compression.",
    "lumbar_spine": "Normal MRI of the lumbar spine.||No [significant |]disc herniation or nerve root "
                    "compression.||Unremarkable lumbar spine.||No canal or foraminal stenosis.",
    "breast": "No MRI evidence of malignancy. BI-RADS 1.||Negative breast MRI (BI-RADS 1).||No suspicious "
              "finding in either breast. BI-RADS 1: negative.",
    "chest": "No [significant |]abnormality in the chest.||Normal MRI of the chest.||No thoracic mass.",
    "cardiac": "Normal cardiac MRI.||Structurally normal heart.||No [cardiac |]abnormality detected.",
    "abdomen": "Normal MRI of the abdomen.||No focal liver lesion.||No significant abdominal abnormality.||"
               "Unremarkable MRI abdomen.",
    "pelvis_prostate": "No suspicious lesion in the prostate (PI-RADS 1).||No clinically significant prostate "
                       "cancer identified. PI-RADS 1.||Negative prostate MRI (PI-RADS 1).",
    "pelvis_female": "Normal MRI of the pelvis.||No pelvic mass.||Normal uterus and ovaries.||Unremarkable "
                     "female pelvis.",
    "knee": "Normal MRI of the knee.||No internal derangement.||No meniscal or ligamentous tear.||Unremarkable "
            "knee MRI.",
    "shoulder": "Normal MRI of the shoulder.||Intact rotator cuff.||No rotator cuff tear.||Unremarkable shoulder "
                "MRI.",
}


def slots_for(subregion: str) -> list[tuple[str, str, list[Alt]]]:
    """Ordered slots of a subregion (spine variants get their cord and extra-spinal statements)."""
    if subregion in ("cervical_spine", "lumbar_spine"):
        out = []
        for slot, label, alts in NORMALS["spine"]:
            if slot == "cord":
                alts = _CORD[subregion]
                label = "Conus" if subregion == "lumbar_spine" else "Cord"
            elif slot == "other":
                alts = _SPINE_OTHER[subregion]
            out.append((slot, label, alts))
        return out
    return NORMALS.get(subregion) or NORMALS[_FALLBACK.get(subregion, "brain")]


_FALLBACK = {"pelvis": "pelvis_female", "head_neck": "neck", "spine": "lumbar_spine"}

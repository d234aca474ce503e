"""The report-label parser on sentences written by hand for this test, in wording the generator does not use
(other phrasings, abbreviations, UK/US spellings, negation and hedging styles), and on bad input."""

from __future__ import annotations

import pytest

from mri_search.report_labels import load_vocabulary, parse_labels

# (report text, expected labels): each written by hand; none is generator output
CASES = [
    # negation and uncertainty
    ("FINDINGS: No mass in the tonsil. IMPRESSION: Normal appearances.", {"tumour": "absent", "tumour_site": ""}),
    ("FINDINGS: The left tonsillar fossa is free of tumour.", {"tumour": "absent"}),
    ("IMPRESSION: A small tonsillar neoplasm cannot be excluded on the left.", {"tumour": "uncertain"}),
    ("IMPRESSION: Cannot exclude a subtle lesion of the tongue base; suggest direct endoscopy.",
     {"tumour": "absent"}),  # "lesion" alone is a finding, not a tumour word
    ("IMPRESSION: Possible carcinoma of the right vocal fold.", {"tumour": "uncertain", "tumour_site": "larynx_glottic",
                                                                "laterality": "right"}),
    ("FINDINGS: There is no evidence of malignancy in the larynx or pharynx.", {"tumour": "absent"}),
    ("FINDINGS: Neither parotid gland contains a mass.", {"tumour": "absent"}),
    # sub-sites in other words
    ("IMPRESSION: Large exophytic carcinoma arising from the R palatine tonsil, spreading into the tongue base.",
     {"tumour": "present", "tumour_site": "oropharynx_tonsil"}),
    ("IMPRESSION: Ulcerating SCC along the lateral border of the tongue (left), depth of invasion 9 mm.",
     {"tumour_site": "oral_tongue", "histology": "scc", "laterality": "left"}),
    ("IMPRESSION: Transglottic tumour centred on the right true cord.",
     {"tumour_site": "larynx_glottic", "laterality": "right"}),
    ("IMPRESSION: Bulky tumour of the epiglottis and both aryepiglottic folds.",
     {"tumour_site": "larynx_supraglottic"}),
    ("IMPRESSION: Postnasal space mass, likely undifferentiated carcinoma; EBV serology advised.",
     {"tumour_site": "nasopharynx", "histology": "nasopharyngeal_carcinoma"}),
    ("IMPRESSION: Carcinoma of the left piriform fossa with a necrotic level III node.",
     {"tumour_site": "hypopharynx", "laterality": "left"}),
    ("IMPRESSION: Enhancing mass filling the left maxillary antrum and eroding the orbital floor.",
     {"tumour_site": "sinonasal", "laterality": "left"}),
    ("IMPRESSION: Anterior floor of the mouth carcinoma crossing the midline.",
     {"tumour_site": "floor_of_mouth", "laterality": "midline"}),
    ("IMPRESSION: 2 cm deep lobe parotid tumour on the right, benign mixed tumour favoured.",
     {"tumour_site": "parotid", "histology": "pleomorphic_adenoma", "laterality": "right"}),
    ("IMPRESSION: Solid nodule in the right lobe of the thyroid, cytology showed papillary carcinoma.",
     {"tumour_site": "thyroid", "histology": "papillary_thyroid_carcinoma"}),
    ("IMPRESSION: Left submandibular gland tumour, possibly adenoid cystic carcinoma given perineural spread.",
     {"tumour_site": "submandibular", "laterality": "left"}),
    ("IMPRESSION: HPV-mediated squamous carcinoma of the BOT, 25 mm.",
     {"tumour_site": "base_of_tongue", "histology": "scc_hpv_positive"}),
    ("IMPRESSION: Lymphoma involving Waldeyer's ring and the left tonsil.", {"histology": "lymphoma"}),
    # regions from the exam title and the organs named
    ("EXAM: MR lumbosacral spine. FINDINGS: Broad-based L4/5 disc bulge. IMPRESSION: Mild degeneration.",
     {"region": "spine"}),
    ("PROCEDURE: MRI left knee. FINDINGS: Bucket-handle tear of the medial meniscus.",
     {"region": "knee", "exam_side": "left", "laterality": "left"}),
    ("EXAMINATION: Right shoulder MR arthrogram. IMPRESSION: Full thickness tear of supraspinatus.",
     {"region": "shoulder", "laterality": "right", "exam_side": "right"}),
    ("EXAM: MRI head. IMPRESSION: Enhancing mass in the left temporal lobe, high-grade glioma likely.",
     {"region": "brain", "tumour": "present", "laterality": "left"}),
    ("EXAM: MR liver. IMPRESSION: 3 cm arterially enhancing observation in segment VI, LI-RADS 5.",
     {"region": "abdomen", "tumour": "present", "laterality": "right"}),
    ("EXAM: Multiparametric prostate MRI. IMPRESSION: PI-RADS 5 lesion in the left peripheral zone at the apex.",
     {"region": "pelvis", "laterality": "left", "tumour": "present"}),
    ("EXAM: MRI both breasts. IMPRESSION: Irregular enhancing mass at 11 o'clock in the right breast, BI-RADS 5.",
     {"region": "breast", "laterality": "right", "tumour": "present"}),
    ("EXAM: Cardiac MRI. IMPRESSION: Inferolateral myocardial scar in the circumflex territory.",
     {"region": "chest", "laterality": ""}),
    ("EXAM: MRI HEAD AND NECK. IMPRESSION: Left tonsillar carcinoma.", {"region": "head_neck"}),
    ("EXAM: MR neck. IMPRESSION: No significant abnormality. Incidental left maxillary mucosal cyst.",
     {"region": "head_neck", "laterality": "", "tumour": "absent"}),
    # contrast, UK and US
    ("EXAM: MRI brain with gadolinium. TECHNIQUE: Axial T1 before and after intravenous gadolinium.",
     {"contrast": True}),
    ("EXAM: MRI knee (non-contrast). TECHNIQUE: PD fat-saturated in three planes.", {"contrast": False}),
    ("EXAM: MRI brain. TECHNIQUE: Sagittal T1, axial T2 and FLAIR, DWI.", {"contrast": False}),
    ("FINDINGS: The tumour enhances avidly.", {"contrast": None}),  # no exam title or technique: not said
    ("IMPRESSION: Right-sided haemorrhagic tumour of the frontal lobe.", {"laterality": "right", "region": "brain"}),
]


@pytest.mark.parametrize("text,expected", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_hand_written_sentences(text, expected):
    labels = parse_labels(text).to_dict()
    assert {k: labels[k] for k in expected} == expected, labels


def test_there_are_enough_hand_written_cases():
    assert len(CASES) >= 30


def test_organs_named_and_negated_ones_count():
    labels = parse_labels("FINDINGS: The liver is normal. No pancreatic mass. The spleen is enlarged.")
    assert labels.organs == ("liver", "abdomen") and labels.region == "abdomen"


def test_unreadable_reports_give_empty_labels_not_a_crash():
    for bad in ["", "   ", "\x00\x00", "." * 5000]:
        labels = parse_labels(bad)
        assert labels.region == "" and labels.tumour in ("", "absent")
    assert parse_labels("").problems


def test_a_user_table_extends_the_vocabulary(tmp_path):
    own = tmp_path / "local.tsv"
    own.write_text("field\tvalue\tterm\tregion\nsite\toropharynx_tonsil\tamygdala palatina\thead_neck\n")
    text = "IMPRESSION: Carcinoma of the left amygdala palatina."
    assert parse_labels(text).tumour_site == ""
    assert parse_labels(text, load_vocabulary(own)).tumour_site == "oropharynx_tonsil"
    (tmp_path / "bad.tsv").write_text("field\tvalue\tterm\nwhatever\tx\ty\n")
    with pytest.raises(ValueError, match="unknown field 'whatever'"):
        load_vocabulary(tmp_path / "bad.tsv")
    with pytest.raises(ValueError, match="needs the tab-separated columns"):
        (tmp_path / "cols.tsv").write_text("a,b\n1,2\n")
        load_vocabulary(tmp_path / "cols.tsv")


def test_hostile_lengths_are_cut_per_section():
    labels = parse_labels("IMPRESSION: " + "carcinoma " * 99_000)  # 1 MB, one sentence of tumour words (0.3 s)
    assert labels.tumour == "present"
    long = "FINDINGS: " + "The liver is normal. " * 2000 + "IMPRESSION: Carcinoma of the right tonsil."
    assert parse_labels(long).tumour_site == "oropharynx_tonsil"  # the impression after a long findings section

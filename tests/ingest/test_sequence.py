"""Sequence inference: every vendor name our generator writes, technologist free text, and tags alone."""

from __future__ import annotations

import pytest

from mri_search.ingest.sequence import SEQUENCES, infer_sequence
from mri_search.synth.regions import SUBREGIONS

VENDOR_NAMES = sorted({(name, t.sequence, t.post_contrast) for sub in SUBREGIONS.values()
                       for t in sub.protocol for name in t.names if name})


@pytest.mark.parametrize("name,sequence,post", VENDOR_NAMES)
def test_every_generator_vendor_name(name, sequence, post):
    seq, evidence, post_contrast, _ = infer_sequence(description=name)
    assert (seq, evidence, post_contrast) == (sequence, "description", post)
    assert infer_sequence(description=name.upper())[0] == sequence  # 10 % of exports are upper-cased
    assert infer_sequence(description="", protocol=name)[:2] == (sequence, "description")  # empty description


# (description, expected sequence, post-contrast, fat-suppressed)
TEXT = [
    ("t2_tse_tra", "T2", False, False), ("Ax T2 FRFSE", "T2", False, False), ("T2W_TSE_TRA", "T2", False, False),
    ("t2_tirm_tra_dark-fluid", "FLAIR", False, False), ("Sag CUBE FLAIR", "FLAIR", False, False),
    ("Sag T1 FLAIR", "T1", False, False), ("t1_tirm_sag", "T1", False, False),
    ("PDW_SPAIR_SAG", "PDFS", False, True), ("pd_tse_sag", "PD", False, False),
    ("ep2d_diff_b50_800_1400_tra_TRACEW", "DWI", False, False), ("ep2d_diff_b50_800_1400_tra_ADC", "ADC", False, False),
    ("3D AX T1 BRAVO+C", "T1C", True, False), ("t1_vibe_fs_tra_post", "T1C", True, True),
    ("sBTFE_CINE_SA", "SSFP", False, False), ("tfl_psir_sax", "T1C", True, False),
    ("AX T2", "T2", False, False), ("SAG T1 POST", "T1C", True, False), ("T1 +C", "T1C", True, False),
    ("COR STIR", "STIR", False, True), ("T2 FS AX", "T2FS", False, True), ("ax pd fs", "PDFS", False, True),
    ("T1 POST COR POST GAD", "T1C", True, False), ("AX T1 POST+GAD", "T1C", True, False),
    ("T1 POST TRA GD", "T1C", True, False), ("CINE AX", "SSFP", False, False), ("ADC axial", "ADC", False, False),
    ("DWI TRA", "DWI", False, False), ("fl3d_dyn_fs_pre", "T1", False, True), ("Ax VIBRANT pre", "T1", False, False),
    ("t2_tse_dixon_tra_W", "T2FS", False, True), ("T2W_MultiVane_SPAIR", "T2FS", False, True),
    ("SWI_Images", "other", False, False), ("tof_fl3d_tra", "other", False, False),
    ("t2_fl2d_tra_hemo", "other", False, False), ("Sag T1 posterior fossa", "T1", False, False),
]


@pytest.mark.parametrize("text,sequence,post,fat", TEXT)
def test_vendor_and_free_text(text, sequence, post, fat):
    assert infer_sequence(description=text) == (sequence, "description", post, fat)


def test_text_and_tags_combine():
    # Siemens "tirm" is an inversion recovery: the TI tells STIR from FLAIR
    assert infer_sequence("t2_tirm_tra", ti=2500.0, tr=9000.0)[0] == "FLAIR"
    assert infer_sequence("t2_tirm_tra", ti=160.0, tr=4000.0)[0] == "STIR"
    # contrast agent tag makes a T1 a T1C; "pre" in the text wins over it
    assert infer_sequence("Ax T1 FSE", contrast_agent="gadobutrol") == ("T1C", "description", True, False)
    assert infer_sequence("Ax VIBRANT pre", contrast_agent="gadobutrol")[0] == "T1"
    # FS scan option adds fat suppression to a T2 description
    assert infer_sequence("AX T2", scan_options="PFP\\FS") == ("T2FS", "description", False, True)
    # an ADC ImageType overrides a DWI-looking description
    assert infer_sequence("Ax DWI", image_type="DERIVED\\PRIMARY\\DIFFUSION\\ADC")[:2] == ("ADC", "tags")
    # description decides before the protocol; an uninformative description defers to it
    assert infer_sequence("AX T2", protocol="t1_tse_tra")[0] == "T2"
    assert infer_sequence("Series 4", protocol="t1_tse_tra")[:2] == ("T1", "description")


# (tags, expected sequence): ranges of mri_search/synth/data/sequences.csv
TAGS = [
    (dict(scanning_sequence="SE", tr=550.0, te=12.0), "T1"),  # T1 SE
    (dict(scanning_sequence="SE", tr=4500.0, te=95.0), "T2"),  # T2 TSE
    (dict(scanning_sequence="SE", tr=1200.0, te=90.0), "T2"),  # single-shot FSE
    (dict(scanning_sequence="SE", tr=3000.0, te=30.0), "PD"),  # PD TSE
    (dict(scanning_sequence="SE", tr=3500.0, te=40.0, scan_options="FS"), "PDFS"),
    (dict(scanning_sequence="SE", tr=3800.0, te=75.0, scan_options="PFP\\FS"), "T2FS"),
    (dict(scanning_sequence="SE\\IR", tr=9500.0, te=120.0, ti=2400.0), "FLAIR"),
    (dict(scanning_sequence="SE\\IR", tr=4000.0, te=50.0, ti=160.0), "STIR"),
    (dict(scanning_sequence="SE\\IR", tr=2200.0, te=12.0, ti=800.0), "T1"),  # T1 FLAIR
    (dict(scanning_sequence="GR\\IR", tr=2300.0, te=3.0, ti=950.0, flip=9.0), "T1"),  # MPRAGE
    (dict(scanning_sequence="GR\\IR", tr=700.0, te=3.0, ti=300.0, flip=25.0, contrast_agent="gadobutrol"), "T1C"),
    (dict(scanning_sequence="GR", tr=4.5, te=1.8, flip=12.0), "T1"),  # VIBE / LAVA
    (dict(scanning_sequence="GR", tr=4.5, te=1.8, flip=12.0, contrast_agent="Gadovist"), "T1C"),
    (dict(scanning_sequence="GR", tr=3.2, te=1.6, flip=60.0), "SSFP"),
    (dict(scanning_sequence="GR", sequence_variant="SK\\SS", tr=3.3, te=1.6), "SSFP"),
    (dict(scanning_sequence="GR", sequence_variant="SS\\SP", tr=30.0, te=6.0, flip=35.0), "T1"),  # GE fast GRE
    (dict(scanning_sequence="GR", tr=150.0, te=2.3, flip=70.0), "T1"),  # in/opposed phase
    (dict(scanning_sequence="GR", tr=650.0, te=20.0, flip=20.0), "other"),  # T2* GRE
    (dict(scanning_sequence="EP", tr=5000.0, te=80.0, b_values=(0, 1000)), "DWI"),
    (dict(b_values=(50, 800)), "DWI"),
    (dict(scanning_sequence="EP", tr=2000.0, te=30.0), "other"),  # BOLD
    (dict(scanning_sequence="EP", image_type="DERIVED\\PRIMARY\\DIFFUSION\\ADC", tr=5000.0, te=80.0), "ADC"),
    (dict(acquisition_contrast="FLUID_ATTENUATED"), "FLAIR"),
    (dict(), "other"),
]


@pytest.mark.parametrize("tags,sequence", TAGS)
def test_tags_alone(tags, sequence):
    seq, evidence, post, fat = infer_sequence(description="", protocol="", **tags)
    assert (seq, evidence) == (sequence, "tags")
    assert seq in SEQUENCES
    assert post == bool(tags.get("contrast_agent"))
    assert fat == (sequence in ("STIR", "PDFS", "T2FS"))

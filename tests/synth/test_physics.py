"""The MR signal model reproduces the contrasts radiologists rely on (tissue orderings per sequence)."""

import numpy as np
import pytest

from mri_search.synth.physics.acquisition import adc_map, rician
from mri_search.synth.physics.sequences import FAMILIES, draw_timing, signal, water_pool
from mri_search.synth.physics.tissues import label_table, property_arrays, tissue, tissue_table


def _maps(names, field_t):
    props = property_arrays()
    lab = np.array([tissue(n).label for n in names])
    key = "15" if field_t == 1.5 else "30"
    t1, t2 = water_pool(props[f"t1_{key}"][lab], props[f"t2_{key}"][lab], props["ff"][lab], field_t)
    flow = np.isin(lab, [tissue("artery").label, tissue("vein").label]).astype(np.float32)
    return {"t1": t1, "t2": t2, "pd": props["pd"][lab], "ff": props["ff"][lab], "adc": props["adc"][lab],
            "gd": props["gd"][lab], "flow": flow}


def _sig(names, family, field_t=1.5, fs="none", gd=0.0, b=0.0, seed=0):
    timing = draw_timing(family, field_t, np.random.default_rng(seed))
    s = signal(_maps(names, field_t), family, timing, field_t, fs, gd, "gadobutrol" if gd else None, b)
    return dict(zip(names, s))


@pytest.mark.parametrize("field_t", [1.5, 3.0])
def test_brain_contrasts(field_t):
    names = ["white_matter", "grey_matter", "csf", "fat"]
    t1 = _sig(names, "T1_3D_IR_GRE", field_t)
    assert t1["white_matter"] > t1["grey_matter"] > t1["csf"]
    t2 = _sig(names, "T2_TSE_2D", field_t)
    assert t2["csf"] > t2["grey_matter"] > t2["white_matter"]
    flair = _sig(names, "T2_FLAIR_2D", field_t)
    assert flair["csf"] < 0.1 * flair["grey_matter"]  # CSF nulled
    assert flair["grey_matter"] > flair["white_matter"]


def test_fat_suppression_and_stir_null_fat():
    names = ["fat", "muscle", "marrow_edema"]
    plain = _sig(names, "T2_TSE_2D")
    fs = _sig(names, "T2_TSE_FS", fs="spectral")
    stir = _sig(names, "STIR", fs="stir")
    assert plain["fat"] > plain["muscle"]
    assert fs["fat"] < 0.5 * fs["marrow_edema"]
    assert stir["fat"] < 0.05 * stir["marrow_edema"]  # inversion time chosen at the fat null


def test_gadolinium_brightens_enhancing_tissue_on_t1_only_where_it_accumulates():
    names = ["meningioma", "white_matter", "necrosis"]
    pre = _sig(names, "T1_SE_2D")
    post = _sig(names, "T1_SE_2D", gd=1.0)
    assert post["meningioma"] > 1.3 * pre["meningioma"]
    assert post["white_matter"] == pytest.approx(pre["white_matter"])  # blood-brain barrier intact
    assert post["necrosis"] == pytest.approx(pre["necrosis"])


def test_diffusion_restriction_and_adc_fit():
    names = ["lymphoma", "pleomorphic_adenoma", "csf"]
    b0 = _sig(names, "DWI_SS_EPI", fs="spectral", b=0)
    b1000 = _sig(names, "DWI_SS_EPI", fs="spectral", b=1000)
    ratio = {n: b1000[n] / b0[n] for n in names}
    assert ratio["lymphoma"] > ratio["pleomorphic_adenoma"] > ratio["csf"]
    stack = np.array([[list(b0.values())], [list(b1000.values())]], np.float32)[:, None]  # [B, 1, 1, 3]
    adc = adc_map(stack, (0, 1000))[0, 0]
    expected = [tissue(n).adc for n in names]
    np.testing.assert_allclose(adc, expected, rtol=1e-3)


def test_flowing_blood_is_dark_on_spin_echo_and_bright_on_post_contrast_gre():
    se = _sig(["artery", "muscle"], "T2_TSE_2D")
    assert se["artery"] < se["muscle"]
    gre = _sig(["artery", "muscle"], "T1_3D_GRE_FS", fs="spectral", gd=1.0)
    assert gre["artery"] > gre["muscle"]


def test_rician_noise_floor():
    rng = np.random.default_rng(0)
    zero = rician(np.zeros(200_000, np.float32), 2.0, rng)
    assert zero.mean() == pytest.approx(2.0 * np.sqrt(np.pi / 2), rel=0.02)  # Rayleigh mean
    high = rician(np.full(200_000, 100.0, np.float32), 2.0, rng)
    assert high.mean() == pytest.approx(100.0, rel=0.01)


def test_tissue_table_is_complete_and_labels_unique():
    table = tissue_table()
    labels = [t.label for t in table.values()]
    assert len(labels) == len(set(labels))
    assert {"liver", "parotid", "scc", "meniscus", "spinal_cord", "breast_fgt"} <= set(table)
    assert all(t.t1[0] > 0 and t.t2[1] > 0 for t in table.values())
    assert tissue("white_matter").t1 == (650.0, 830.0)  # straight from tissue_relaxation.csv
    assert len(label_table()) == len(table)
    with pytest.raises(ValueError, match="unknown tissue"):
        tissue("unobtainium")


def test_every_family_draws_timings_within_its_ranges():
    rng = np.random.default_rng(1)
    for name, fam in FAMILIES.items():
        for field_t in (1.5, 3.0):
            t = draw_timing(name, field_t, rng)
            lo, hi = fam.tr[field_t]
            assert lo <= t["tr_ms"] <= hi, name
            assert fam.te[0] <= t["te_ms"] <= fam.te[1], name

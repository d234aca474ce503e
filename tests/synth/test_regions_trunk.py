"""Trunk region phantoms (spine, chest, abdomen): anatomy volumes, FOV margins, planted findings, determinism."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from mri_search.synth import catalog
from mri_search.synth.regions import abdomen, chest, spine
from mri_search.synth.physics.tissues import label_of
from mri_search.synth.types import Lesion, Patient

MODULES = {"cervical_spine": spine, "lumbar_spine": spine, "chest": chest, "cardiac": chest, "abdomen": abdomen}

# Findings planted in the first build of each subregion (seed 1); seed 2 uses whatever sample_findings draws.
PLANTED = {
    "lumbar_spine": ([("disc_herniation", "L5-S1", None), ("disc_degeneration", "L4-L5", None)],
                     [("vertebral_haemangioma", "vertebral_body", None)]),
    "cervical_spine": ([("disc_herniation", "C6-C7", None), ("disc_herniation", "L4-L5", None)], []),
    "chest": ([("lung_mass", "left_upper_lobe", "scc")], [("pericardial_effusion", "pericardium", None)]),
    "cardiac": ([("myocardial_scar", "rca_territory", None), ("pericardial_effusion", "pericardium", None)], []),
    "abdomen": ([("liver_lesion", "segment_VI", "colorectal_metastasis")],
                [("renal_cyst", "lower_pole", "simple_cyst"), ("liver_cyst", "any", "simple_cyst")]),
}


def _patient(seed: int) -> Patient:
    sex, w, h, sc = (("M", 82.0, 1.78, 1.02), ("F", 68.0, 1.64, 0.93))[seed % 2]
    return Patient(f"P{seed}", "DOE^J", sex, 48 + 7 * seed, "19700101", w, h, sc, "train")


@lru_cache(maxsize=None)
def _built(sub: str, seed: int):
    rng = np.random.default_rng(seed)
    p = _patient(seed)
    if seed == 1:
        les = [Lesion(k, s, h) for k, s, h in PLANTED[sub][0]]
        inc = [Lesion(k, s, h) for k, s, h in PLANTED[sub][1]]
    else:
        les, inc = MODULES[sub].sample_findings(p, sub, rng)
    ph = MODULES[sub].build(p, sub, les, inc, rng)
    return ph, les, inc


def _ml(ph, *names) -> float:
    return sum(ph.volume_ml(n) for n in names)


@pytest.mark.parametrize("sub", list(MODULES))
@pytest.mark.parametrize("seed", [1, 2])
def test_fov_center_inside_and_margins(sub, seed):
    ph, _, _ = _built(sub, seed)
    lo, hi = ph.extent()
    c = ph.landmarks["fov_center"]
    assert np.all(c > lo) and np.all(c < hi)
    fov = {"cervical_spine": 260, "lumbar_spine": 320, "chest": 450, "cardiac": 380, "abdomen": 420}[sub]
    # craniocaudally the body goes on: the canvas must cover FOV/2 + 30 mm both sides of the centre
    assert min(c[2] - lo[2], hi[2] - c[2]) >= fov / 2 + 30 - 2 * ph.spacing
    assert max(ph.labels.shape) <= 230
    if sub in ("chest", "cardiac", "abdomen"):  # laterally and AP the body ends inside the canvas (air around it)
        for face in (ph.labels[0], ph.labels[-1], ph.labels[:, 0], ph.labels[:, -1]):
            assert not face.any()


@pytest.mark.parametrize("seed", [1, 2])
def test_abdomen_organ_volumes(seed):
    ph, _, _ = _built("abdomen", seed)
    assert 1000 < ph.volume_ml("liver") < 2600, "adult liver ~1.2-2.0 L (scaled by body size)"
    assert 50 < ph.volume_ml("spleen") < 350, "spleen ~0.1-0.3 L"
    assert 180 < _ml(ph, "kidney_cortex", "kidney_medulla") < 450, "two kidneys ~120-180 mL each"
    assert ph.volume_ml("pancreas") > 8 and ph.volume_ml("bile") > 5
    for seg in ("II", "III", "IVa", "IVb", "V", "VI", "VII", "VIII"):
        p = ph.landmarks[f"liver_segment_{seg}"]
        i = tuple(np.round((p - ph.origin) / ph.spacing).astype(int))
        inside = [label_of(t) for t in ("liver", "liver_metastasis", "hcc", "hemangioma", "simple_cyst", "necrosis")]
        assert ph.labels[i] in inside, seg


@pytest.mark.parametrize("sub", ["chest", "cardiac"])
def test_thorax_volumes(sub):
    ph, _, _ = _built(sub, 1)
    assert 2500 < ph.volume_ml("lung") < 7000, "lungs in breath-hold ~3-6 L"
    assert 100 < ph.volume_ml("myocardium") < 300, "LV mass ~90-200 g plus RV and atrial walls"
    assert ph.volume_ml("artery") > 150 and ph.volume_ml("vein") > 150  # left/right heart blood + great vessels
    assert ph.volume_ml("air") > 10  # trachea and bronchi
    if sub == "chest":
        assert ph.volume_ml("cortical_bone") > 200  # ribs, sternum, spine
        assert ph.volume_ml("liver") > 300  # liver dome at the bottom of the chest window


def test_breasts_only_in_women():
    assert _patient(1).sex == "F" and _patient(2).sex == "M"
    assert _built("chest", 1)[0].volume_ml("breast_fgt") > 2
    assert _built("chest", 2)[0].volume_ml("breast_fgt") == 0


@pytest.mark.parametrize("sub", ["cervical_spine", "lumbar_spine"])
def test_spine_structures(sub):
    ph, _, _ = _built(sub, 2)
    for t in ("disc_nucleus", "disc_annulus", "csf", "spinal_cord", "marrow_red", "ligament_fat_pad"):
        assert ph.volume_ml(t) > 0.5, t
    names = ("C3", "C4", "C5", "C6", "C7") if sub == "cervical_spine" else ("L1", "L2", "L3", "L4", "L5")
    zs = [ph.landmarks[n][2] for n in names]
    assert all(a > b for a, b in zip(zs, zs[1:])), "levels stacked head to foot"
    if sub == "lumbar_spine":
        assert ph.volume_ml("kidney_cortex") > 50 and ph.volume_ml("artery") > 20  # kidneys and aorta in the FOV
        # conus ends ~T12-L2: no cord below the L2-L3 disc, cauda equina roots are thin
        k = int((ph.landmarks["L3"][2] - ph.origin[2]) / ph.spacing)
        cord_mm3 = (ph.labels[:, :, :k] == label_of("spinal_cord")).sum() * ph.spacing**3
        assert cord_mm3 < 3000, "below L3 only thin roots, no 8 mm cord"
    else:
        assert ph.volume_ml("thyroid") > 5 and ph.volume_ml("air") > 5  # airway and thyroid in front


def _check_lesion(ph, les):
    assert les.center_lps is not None and les.tissue
    c = np.asarray(les.center_lps)
    half = np.array([les.size_mm[1], les.size_mm[0], les.size_mm[2]]) / 2 + ph.spacing
    lo = np.maximum(np.floor((c - half - ph.origin) / ph.spacing).astype(int), 0)
    hi = np.ceil((c + half - ph.origin) / ph.spacing).astype(int) + 1
    box = ph.labels[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    assert (box == label_of(les.tissue)).any(), f"{les.kind}: no {les.tissue} voxel at the reported place"
    lo_mm, hi_mm = catalog.KINDS[les.kind].size_mm
    if hi_mm > 0 and les.kind != "pericardial_effusion":  # effusion: size is the rim extent, depth -> severity
        assert lo_mm / 2.5 <= max(les.size_mm) <= hi_mm * 2.0, (les.kind, les.size_mm)
    if les.laterality in ("left", "right"):
        assert les.laterality == ("left" if c[0] > 0 else "right")
    assert set(les.attributes) <= set(catalog.ATTRIBUTES), les.attributes


@pytest.mark.parametrize("sub", list(MODULES))
@pytest.mark.parametrize("seed", [1, 2])
def test_lesions_painted_measured_and_lateralised(sub, seed):
    ph, les, inc = _built(sub, seed)
    for x in les + inc:
        _check_lesion(ph, x)


def test_planted_findings_sites():
    ph, les, inc = _built("lumbar_spine", 1)
    herniation = next(x for x in les if x.kind == "disc_herniation")
    disc = ph.landmarks["L5-S1"]
    assert np.linalg.norm(np.asarray(herniation.center_lps) - disc) < 30
    assert herniation.center_lps[1] > disc[1], "herniation lies posterior to its disc (into the canal)"
    assert herniation.attributes["nerve_root"] in ("S1", "L5") and herniation.attributes["zone"] in spine.ZONES
    assert {x.kind for x in inc} == {"vertebral_haemangioma"}
    ph, les, _ = _built("cervical_spine", 1)
    assert [x.site for x in les] == ["C6-C7"], "a lumbar level cannot be painted in a neck: dropped"
    ph, les, _ = _built("chest", 1)
    assert les[0].laterality == "left" and les[0].center_lps[2] > ph.landmarks["carina"][2] - 80
    ph, les, _ = _built("cardiac", 1)
    assert np.linalg.norm(np.asarray(les[0].center_lps) - ph.landmarks["heart_center"]) < 80
    assert les[1].attributes["severity"] in ("small", "moderate")
    ph, les, inc = _built("abdomen", 1)
    assert les[0].attributes["segment"] in ("VI", "V", "VII") and les[0].attributes["count"] >= 1
    assert next(x for x in inc if x.kind == "renal_cyst").laterality in ("left", "right")


def test_deterministic_and_patient_specific():
    a, _, _ = _built("lumbar_spine", 1)
    rng = np.random.default_rng(1)
    les = [Lesion(k, s, h) for k, s, h in PLANTED["lumbar_spine"][0]]
    inc = [Lesion(k, s, h) for k, s, h in PLANTED["lumbar_spine"][1]]
    b = spine.build(_patient(1), "lumbar_spine", les, inc, rng)
    assert np.array_equal(a.labels, b.labels)
    c, _, _ = _built("abdomen", 1)
    d, _, _ = _built("abdomen", 2)
    assert c.labels.shape != d.labels.shape or not np.array_equal(c.labels, d.labels)
    assert abs(c.volume_ml("liver") - d.volume_ml("liver")) > 20


def test_sample_findings_prevalence_and_sites():
    rng = np.random.default_rng(0)
    p = _patient(1)
    for sub, mod, lo, hi in (("lumbar_spine", spine, 0.2, 0.4), ("chest", chest, 0.25, 0.45),
                             ("abdomen", abdomen, 0.25, 0.45)):
        draws = [mod.sample_findings(p, sub, rng) for _ in range(400)]
        normal = np.mean([not les for les, _ in draws])
        assert lo < normal < hi, (sub, normal)
        for les, inc in draws:
            for x in les + inc:
                assert x.center_lps is None and set(x.attributes) <= set(catalog.ATTRIBUTES)
    for _ in range(50):
        les, _ = spine.sample_findings(p, "cervical_spine", rng)
        assert all(x.site.startswith("C") for x in les)
    with pytest.raises(ValueError):
        spine.sample_findings(p, "thoracic_spine", rng)
    with pytest.raises(ValueError):
        abdomen.build(p, "pelvis", [], [], rng)

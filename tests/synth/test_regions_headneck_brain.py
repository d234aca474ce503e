"""Head-and-neck and brain phantoms: anatomy volumes, canvas contract, findings painted where they are reported."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from mri_search.synth import catalog
from mri_search.synth.regions import brain, head_neck
from mri_search.synth.regions.base import side_of
from mri_search.synth.physics.tissues import label_of
from mri_search.synth.types import Lesion, Patient

MAN = Patient("T1", "DOE^JOHN", "M", 58, "19670101", 84.0, 1.78, 1.01, "train")
WOMAN = Patient("T2", "DOE^JANE", "F", 74, "19510101", 61.0, 1.60, 0.97, "test")

# One histology per sub-site and where its painted centre must lie (landmark stem, max distance mm)
HN_CASES = {
    "nasopharynx": ("nasopharyngeal_carcinoma", "rosenmuller", 20),
    "oropharynx_tonsil": ("scc_hpv_positive", "tonsil", 20),
    "base_of_tongue": ("scc_hpv_negative", "base_of_tongue", 20), "oral_tongue": ("scc", "oral_tongue", 20),
    "floor_of_mouth": ("scc", "floor_of_mouth", 20), "larynx_glottic": ("scc", "true_cord", 12),
    "larynx_supraglottic": ("scc", "epiglottis|false_cord", 20), "hypopharynx": ("scc", "pyriform", 20),
    "parotid": ("pleomorphic_adenoma", "parotid", 22),
    "submandibular": ("adenoid_cystic_carcinoma", "submandibular", 20),
    "thyroid": ("papillary_thyroid_carcinoma", "thyroid", 20), "sinonasal": ("scc", "maxillary_sinus|nasal_cavity", 22),
}


def _forced(kind: str, site: str, hist: str | None, d: float) -> Lesion:
    return Lesion(kind, site, hist, tissue=catalog.HISTOLOGY_TISSUE.get(hist or "", ""), size_mm=(d, d, d))


@pytest.fixture(scope="module")
def hn_sites():
    """One neck phantom per sub-site (seeded), shared by the tests below."""
    out = {}
    for k, (site, (hist, _, _)) in enumerate(HN_CASES.items()):
        d = 14.0 if site == "larynx_glottic" else 28.0
        les = [_forced("hn_tumour", site, hist, d)]
        ph = head_neck.build(MAN if k % 2 else WOMAN, "neck", les, [], np.random.default_rng(500 + k))
        out[site] = (ph, les, d)
    return out


def _nearest_landmark(ph, stems: str, centre) -> float:
    pts = [v for n, v in ph.landmarks.items() if any(n == s or n.startswith(s + "_") for s in stems.split("|"))]
    return min(float(np.linalg.norm(np.asarray(centre) - p)) for p in pts)


def _inside(ph, point) -> bool:
    lo, hi = ph.extent()
    return bool(np.all(np.asarray(point) >= lo) and np.all(np.asarray(point) <= hi))


def test_neck_anatomy_volumes_and_canvas(hn_sites):
    ph, _, _ = hn_sites["thyroid"]
    # normal adult values [R]: parotid 10-30 mL each, submandibular 5-15 mL each, thyroid 10-25 mL in total,
    # tongue 50-100 mL, cervical cord ~1 cm^2 x ~15 cm within the canvas
    assert 15 < ph.volume_ml("parotid") < 60
    assert 8 < ph.volume_ml("submandibular") < 35
    assert 6 < ph.volume_ml("thyroid") < 35
    assert 40 < ph.volume_ml("tongue") < 120
    assert 10 < ph.volume_ml("spinal_cord") < 40
    for t in ("air", "mucosa", "laryngeal_cartilage", "lymph_node", "artery", "vein", "marrow_red", "vitreous"):
        assert ph.volume_ml(t) > 0.5, t
    fc = ph.landmarks["fov_center"]
    assert _inside(ph, fc)
    lo, hi = ph.extent()
    # contract: 30 mm beyond a 260 mm FOV left-right and head-foot; AP ends in air on both sides
    assert lo[0] <= fc[0] - 159 and hi[0] >= fc[0] + 159 and lo[2] <= fc[2] - 159 and hi[2] >= fc[2] + 159
    assert not ph.labels[:, 0, :].any() and not ph.labels[:, -1, :].any()
    assert ph.labels.shape[0] <= 220 and max(ph.labels.shape) <= 220


@pytest.mark.parametrize("site", list(HN_CASES))
def test_hn_tumour_painted_at_its_subsite(hn_sites, site):
    ph, les, d = hn_sites[site]
    assert len(les) == 1, f"{site} was dropped"
    L = les[0]
    hist, stems, tol = HN_CASES[site]
    tissue = catalog.HISTOLOGY_TISSUE[hist]
    assert L.tissue == tissue and (ph.labels == label_of(tissue)).any()
    assert _nearest_landmark(ph, stems, L.center_lps) < tol
    assert 0.35 * d <= max(L.size_mm) <= 1.7 * d
    # laterality agrees with the painted voxels' side
    mask = ph.labels == label_of(tissue)
    x = ph.origin[0] + ph.spacing * np.nonzero(mask)[0]
    if L.laterality == "left":
        assert x.mean() > 0
    elif L.laterality == "right":
        assert x.mean() < 0
    else:
        assert L.laterality in ("midline", "bilateral")
    assert isinstance(L.attributes["extension"], list) and isinstance(L.attributes["nodes"], list)


def test_hn_nodes_painted_where_listed(hn_sites):
    listed = 0
    for site, (ph, les, _) in hn_sites.items():
        for node in les[0].attributes["nodes"]:
            listed += 1
            side = "L" if node["side"] == "left" else "R"
            c = ph.landmarks[f"node_{node['level']}_{side}"]
            i = np.round((c - ph.origin) / ph.spacing).astype(int)
            r = 8
            box = ph.labels[i[0] - r:i[0] + r, i[1] - r:i[1] + r, i[2] - r:i[2] + r]
            assert np.isin(box, [label_of("nodal_metastasis"), label_of("lymphoma"), label_of("necrosis")]).any()
            assert 5.0 <= node["short_axis_mm"] <= 35.0
    assert listed > 0  # the seeded cohort has nodal disease somewhere (nasopharynx: 85%)


def test_hn_subsites_are_distinct(hn_sites):
    centres = {s: np.asarray(v[1][0].center_lps) for s, v in hn_sites.items()}
    # same-side comparisons are not needed: every pair of sub-site centres is at least ~8 mm apart
    names = list(centres)
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            ca, cb = centres[names[a]].copy(), centres[names[b]].copy()
            ca[0], cb[0] = abs(ca[0]), abs(cb[0])  # mirror: a left tonsil and a right tonsil are the same sub-site
            assert np.linalg.norm(ca - cb) > 8.0, (names[a], names[b])


def test_neck_determinism_and_variation(hn_sites):
    ph, _, _ = hn_sites["parotid"]
    les = [_forced("hn_tumour", "parotid", "pleomorphic_adenoma", 28.0)]
    again = head_neck.build(MAN if list(HN_CASES).index("parotid") % 2 else WOMAN, "neck", les, [],
                            np.random.default_rng(500 + list(HN_CASES).index("parotid")))
    assert np.array_equal(ph.labels, again.labels)
    # two patients (same sex, other seed): glands differ in size and position
    other, _, _ = hn_sites[list(HN_CASES)[list(HN_CASES).index("parotid") + 2]]

    def gland(p):
        idx = np.argwhere(p.labels == label_of("submandibular"))
        return p.origin + p.spacing * idx.mean(0), len(idx) * p.spacing**3

    (c1, v1), (c2, v2) = gland(ph), gland(other)
    assert np.linalg.norm(c1 - c2) > 1.0 and abs(v1 - v2) > 0.01 * v1


def test_unpaintable_findings_are_dropped():
    les = [Lesion("hn_tumour", "no_such_site", "scc", size_mm=(20, 20, 20))]
    inc = [Lesion("renal_cyst", "upper_pole", None, size_mm=(10, 10, 10))]
    head_neck.build(MAN, "neck", les, inc, np.random.default_rng(3))
    assert les == [] and inc == []
    with pytest.raises(ValueError, match="neck"):
        head_neck.build(MAN, "lumbar_spine", [], [], np.random.default_rng(3))
    with pytest.raises(ValueError, match="brain"):
        brain.sample_findings(MAN, "neck", np.random.default_rng(3))


def test_sample_findings_prevalence():
    rng = np.random.default_rng(11)
    draws = [head_neck.sample_findings(MAN, "neck", rng) for _ in range(400)]
    tumour = np.mean([bool(les) for les, _ in draws])
    assert 0.75 < tumour < 0.89
    assert {les[0].site for les, _ in draws if les} == set(catalog.HN_SITES)
    assert 0.05 < np.mean([bool(inc) for _, inc in draws]) < 0.16
    rng = np.random.default_rng(12)
    ages = rng.integers(20, 86, 500)  # the planner's adult age range
    normal = [not les and not inc for les, inc in (brain.sample_findings(
        Patient("T", "A^B", "F", int(a), "19600101", 70.0, 1.65, 1.0, "train"), "brain", rng) for a in ages)]
    assert 0.27 < np.mean(normal) < 0.43  # ~35% normal studies (brief)


BRAIN_CASES = [("brain_tumour", "frontal_lobe", "glioblastoma", 45.0),
               ("brain_tumour", "parietal_lobe", "meningioma", 30.0),
               ("brain_tumour", "temporal_lobe", "metastasis", 36.0),
               ("acute_infarct", "mca_territory", None, 40.0),
               ("brain_tumour", "cerebellum", "low_grade_glioma", 26.0)]


@pytest.fixture(scope="module")
def brain_cases():
    out = []
    for k, (kind, site, hist, d) in enumerate(BRAIN_CASES):
        les = [_forced(kind, site, hist, d)]
        inc = [Lesion("white_matter_hyperintensities", "periventricular", tissue="edema", attributes={"fazekas": 2})]
        ph = brain.build(WOMAN if k % 2 else MAN, "brain", les, inc, np.random.default_rng(900 + k))
        out.append((ph, les, inc, d))
    return out


def test_brain_anatomy_and_canvas(brain_cases):
    # adult brain parenchyma 1.1-1.5 L in men, ~10% less in women and shrinking with age [R]; lesions and
    # oedema replace parenchyma, so they are counted with it
    for k, lo_ml, hi_ml in ((2, 1100, 1600), (1, 900, 1400)):  # 58-year-old man, 74-year-old woman
        ph = brain_cases[k][0]
        parenchyma = sum(ph.volume_ml(t) for t in ("grey_matter", "white_matter", "edema", "metastasis",
                                                   "necrosis", "meningioma"))
        assert lo_ml < parenchyma < hi_ml
    ph = brain_cases[1][0]
    gm, wm = ph.volume_ml("grey_matter"), ph.volume_ml("white_matter")
    assert 0.35 < gm / (gm + wm) < 0.65
    for t in ("csf", "cortical_bone", "vein", "artery", "vitreous", "spinal_cord"):
        assert ph.volume_ml(t) > 1.0, t
    fc = ph.landmarks["fov_center"]
    lo, hi = ph.extent()
    assert _inside(ph, fc) and lo[2] <= fc[2] - 155
    for face in (ph.labels[0], ph.labels[-1], ph.labels[:, 0], ph.labels[:, -1], ph.labels[:, :, -1]):
        assert not face.any()  # left, right, front, back and vertex all end in air
    assert max(ph.labels.shape) <= 220


def test_brain_findings(brain_cases):
    for ph, les, inc, d in brain_cases:
        assert len(les) == 1
        L = les[0]
        assert 0.3 * d <= max(L.size_mm) <= 2.0 * d, (L.histology, L.size_mm)
        assert (L.laterality == "left") == (L.center_lps[0] > 0) or L.laterality == "midline"
        assert side_of(L.center_lps[0], tol=6.0) in (L.laterality, "midline")
        assert (ph.labels == label_of(L.tissue)).any()
        assert inc and inc[0].attributes["count"] >= 1 and inc[0].attributes["fazekas"] == 2
    gbm, men, met, infarct, lgg = (c[1][0] for c in brain_cases)
    assert gbm.attributes["necrotic"] and gbm.attributes["edema"] and gbm.attributes["midline_shift_mm"] >= 2
    assert men.attributes["midline_shift_mm"] == 0.0 and not men.attributes["necrotic"]
    assert 1 <= met.attributes["count"] <= 4 and met.attributes["edema"]
    assert not lgg.attributes["edema"] and lgg.center_lps[1] > 20 and lgg.center_lps[2] < 70  # posterior fossa
    assert infarct.tissue == brain.INFARCT_TISSUE


def test_meningioma_is_extra_axial(brain_cases):
    ph, les, _, _ = brain_cases[1]
    mask = ph.labels == label_of("meningioma")
    near = ndimage.binary_dilation(mask, iterations=4)
    assert (near & (ph.labels == label_of("cortical_bone"))).any()  # dural-based: touches the inner table


def test_midline_shift_moves_the_ventricles(brain_cases):
    ph, les, _, _ = brain_cases[0]
    L = les[0]
    csf = ph.labels == label_of("csf")
    # third ventricle region: mean x of CSF within 4 cm of the midline at the level of the ventricles
    i0 = int(round((-40 - ph.origin[0]) / ph.spacing))
    i1 = int(round((40 - ph.origin[0]) / ph.spacing))
    k = int(round((ph.landmarks["fov_center"][2] + 10 - ph.origin[2]) / ph.spacing))
    xs = ph.origin[0] + ph.spacing * (i0 + np.nonzero(csf[i0:i1, :, k - 3:k + 3])[0])
    assert np.sign(xs.mean()) == -np.sign(L.center_lps[0])

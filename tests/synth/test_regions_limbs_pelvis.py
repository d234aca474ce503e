"""Breast, pelvis, knee and shoulder phantoms: anatomy volumes, canvas margins, planted findings, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from mri_search.synth.regions import breast, knee, pelvis, shoulder
from mri_search.synth.regions.base import side_of
from mri_search.synth.physics.tissues import label_of
from mri_search.synth.types import Lesion, Patient


def _patient(sex: str = "F", age: int = 50, scale: float = 1.0, weight: float = 72.0) -> Patient:
    return Patient("P1", "DOE^JANE", sex, age, "19750101", weight, 1.70, scale, "train")


def _les(kind, site, size, tissue, histology=None) -> Lesion:
    return Lesion(kind, site, histology, tissue=tissue, size_mm=(size, size, size))


# (module, subregion, side, sex, lesions factory, incidentals factory) per case; seeds 0 and 1 use other sites
CASES = {
    "breast": (breast, "breast", None, "F",
               lambda k: [_les("breast_mass", ["upper_outer_quadrant", "lower_inner_quadrant"][k], 18,
                               ["breast_carcinoma", "pleomorphic_adenoma"][k],
                               ["invasive_ductal_carcinoma", "fibroadenoma"][k])],
               lambda k: [_les("breast_cyst", "any", 10, "simple_cyst")]),
    "prostate": (pelvis, "pelvis_prostate", None, "M",
                 lambda k: [_les("prostate_lesion", ["peripheral_zone_mid", "peripheral_zone_base"][k], 14,
                                 "prostate_cancer", "prostate_adenocarcinoma")],
                 lambda k: []),
    "female": (pelvis, "pelvis_female", None, "F",
               lambda k: [_les("uterine_fibroid", ["intramural", "subserosal"][k], 30, "fibroid", "leiomyoma"),
                          _les("ovarian_cyst", "ovary", 30, "simple_cyst")],
               lambda k: []),
    "knee": (knee, "knee", "left", "F",
             lambda k: [_les("meniscal_tear", ["medial_meniscus_posterior_horn", "lateral_meniscus_body"][k], 12,
                             "meniscal_tear"),
                        _les("acl_tear", "acl_midsubstance", 15, "tendon_tear"),
                        _les("bone_contusion", ["lateral_femoral_condyle", "lateral_tibial_plateau"][k], 16,
                             "marrow_edema"),
                        _les("joint_effusion", "suprapatellar_recess", 15, "joint_fluid")],
             lambda k: [_les("baker_cyst", "popliteal", 30, "joint_fluid")]),
    "knee_right": (knee, "knee", "right", "M",
                   lambda k: [_les("meniscal_tear", "medial_meniscus_body", 15, "meniscal_tear")], lambda k: []),
    "shoulder": (shoulder, "shoulder", "right", "M",
                 lambda k: [_les("rotator_cuff_tear", ["supraspinatus", "infraspinatus"][k], 16, "tendon_tear"),
                            _les("subacromial_bursitis", "subacromial_bursa", 5, "joint_fluid")],
                 lambda k: []),
}

_BUILT: dict = {}


def built(case: str, seed: int):
    """(phantom, lesions, incidentals, drawn sizes) of one case, built once per session."""
    key = (case, seed)
    if key not in _BUILT:
        mod, sub, side, sex, lf, inf = CASES[case]
        les, inc = lf(seed), inf(seed)
        drawn = [x.size_mm[0] for x in les + inc]
        ph = mod.build(_patient(sex, 45 + 20 * seed, 0.95 + 0.1 * seed), sub, les, inc,
                       np.random.default_rng(seed), side=side)
        _BUILT[key] = (ph, les, inc, drawn)
    return _BUILT[key]


# expected volumes (mL) of defining tissues; ranges are adult literature values widened for phantom discretisation
VOLUMES = {
    "breast": {"breast_fgt": (15, 1500), "lung": (800, 8000), "myocardium": (50, 900), "lymph_node": (0.2, 20)},
    # prostate 20-60 mL (brief; PI-RADS ellipsoid volumes), bladder 40-400 mL, femoral heads ~2 x 55 mL
    "prostate": {"urine": (30, 450), "marrow_yellow": (120, 900), "seminal_vesicle": (2, 30)},
    # premenopausal uterus ~80-200 mL (incl. cervix), ovaries 5-15 mL each
    "female": {"myometrium": (15, 300), "ovary": (4, 60), "endometrium": (0.5, 40), "cervix": (5, 80)},
    # knee cartilage ~15-25 mL, menisci ~2-3 mL each (MRI volumetry), patella ~15-20 mL of bone
    "knee": {"cartilage": (8, 45), "meniscus": (2.5, 14), "tendon": (5, 60), "ligament_fat_pad": (5, 40)},
    "shoulder": {"tendon": (8, 70), "cartilage": (5, 40), "meniscus": (0.5, 10), "lung": (100, 3000)},
}
# half-extent (mm) the canvas must offer around fov_center: largest protocol FOV / 2 + 30 (data/protocols.csv)
MARGINS = {"breast": (210, 210, 130), "prostate": (220, 220, 160), "female": (220, 220, 160),
           "knee": (110, 110, 110), "knee_right": (110, 110, 110), "shoulder": (120, 120, 120)}


@pytest.mark.parametrize("case", ["breast", "prostate", "female", "knee", "shoulder"])
@pytest.mark.parametrize("seed", [0, 1])
def test_anatomy_volumes(case, seed):
    ph = built(case, seed)[0]
    for tissue, (lo, hi) in VOLUMES[case].items():
        assert lo <= ph.volume_ml(tissue) <= hi, (tissue, ph.volume_ml(tissue))
    for tissue in ("skin", "fat", "muscle", "cortical_bone"):
        assert ph.volume_ml(tissue) > 5, tissue


@pytest.mark.parametrize("seed", [0, 1])
def test_prostate_volume_and_zones(seed):
    ph = built("prostate", seed)[0]
    gland = ph.volume_ml("prostate_pz") + ph.volume_ml("prostate_tz") + 2.0  # + stroma/urethra (small)
    assert 15 <= gland <= 66
    pz, tz = (np.argwhere(ph.labels == label_of(t)).mean(0) for t in ("prostate_pz", "prostate_tz"))
    assert pz[1] > tz[1]  # the peripheral zone lies posterior (+y) to the transition zone


def test_prostate_grows_with_age():
    vols = []
    for age in (45, 80):
        ph = pelvis.build(_patient("M", age), "pelvis_prostate", [], [], np.random.default_rng(5))
        vols.append(ph.volume_ml("prostate_pz") + ph.volume_ml("prostate_tz"))
    assert vols[1] > vols[0] * 1.3


@pytest.mark.parametrize("case", list(MARGINS))
def test_fov_centre_and_canvas_margins(case):
    ph = built(case, 0)[0]
    lo, hi = ph.extent()
    c = ph.landmarks["fov_center"]
    assert np.all(c > lo) and np.all(c < hi)
    for ax, need in enumerate(MARGINS[case]):
        for face, dist in ((0, c[ax] - lo[ax]), (-1, hi[ax] - c[ax])):
            edge = np.take(ph.labels, face, axis=ax)
            assert dist >= need or not edge.any(), (case, ax, face, dist)  # far enough, or the body ended


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("seed", [0, 1])
def test_findings_painted_measured_and_lateralised(case, seed):
    ph, les, inc, drawn = built(case, seed)
    side = CASES[case][2]
    assert len(les) + len(inc) == len(drawn)  # nothing dropped: every site here is paintable
    for lesion, size in zip(les + inc, drawn):
        assert lesion.center_lps is not None and lesion.tissue
        ijk = np.round((np.asarray(lesion.center_lps) - ph.origin) / ph.spacing).astype(int)
        half = np.ceil(np.asarray(lesion.size_mm)[[1, 0, 2]] / 2 / ph.spacing).astype(int) + 1
        box = ph.labels[tuple(slice(max(i - h, 0), i + h + 1) for i, h in zip(ijk, half))]
        assert (box == label_of(lesion.tissue)).any(), lesion.kind
        if lesion.kind not in ("subacromial_bursitis", "joint_effusion"):  # these report severity, not size
            assert size / 3 <= max(lesion.size_mm) <= size * 2.5, (lesion.kind, size, lesion.size_mm)
        if side is not None:
            assert lesion.laterality == side
            assert side_of(lesion.center_lps[0]) == side  # the joint lies on the imaged side of the body
        elif lesion.kind != "uterine_fibroid":
            assert lesion.laterality == side_of(lesion.center_lps[0], tol=1.0 if case == "prostate" else 3.0)


def test_finding_attributes_follow_the_image():
    ph, les, _, _ = built("prostate", 0)
    (ca,) = les
    big = max(ca.size_mm)
    assert ca.attributes["zone"] == "peripheral" and ca.attributes["pirads"] == (5 if big >= 15 else 4)
    z = {k: ph.landmarks[f"prostate_{k}"][2] for k in ("base", "mid", "apex")}
    assert min(z, key=lambda k: abs(z[k] - ca.center_lps[2])) == "mid"
    ph, les, inc, _ = built("breast", 0)
    mass = les[0]
    assert mass.site == "upper_outer_quadrant" and mass.attributes["birads"] in (4, 5)
    hour = int(mass.attributes["clock"].split()[0])
    assert hour in ((9, 10, 11, 12) if mass.laterality == "right" else (12, 1, 2, 3))
    ph, les, _, _ = built("knee", 0)
    tear = next(x for x in les if x.kind == "meniscal_tear")
    assert np.linalg.norm(np.asarray(tear.center_lps) - ph.landmarks[tear.site]) < 14
    assert tear.attributes["tear_type"] in ("oblique", "horizontal", "radial", "complex", "vertical")
    assert isinstance(next(x for x in les if x.kind == "acl_tear").attributes["complete"], bool)
    cuff = built("shoulder", 0)[1][0]
    assert cuff.attributes["thickness"] in ("partial", "full")


def test_clock_face_convention():
    assert breast.clock_of(-30.0, 0.0) == "9 o'clock"  # right breast lateral (patient right = -x)
    assert breast.clock_of(30.0, 0.0) == "3 o'clock"  # left breast lateral
    assert breast.clock_of(0.0, 30.0) == "12 o'clock" and breast.clock_of(0.0, -30.0) == "6 o'clock"


def test_unpaintable_finding_is_dropped():
    les = [_les("baker_cyst", "popliteal", 20, "joint_fluid")]  # not a shoulder finding: nowhere to paint it
    shoulder.build(_patient("M"), "shoulder", les, [], np.random.default_rng(0), side="left")
    assert les == []


def test_placeholder_tissue_never_left():
    for case in ("knee", "shoulder"):
        assert built(case, 0)[0].volume_ml("mucosa") == 0.0


def test_determinism_and_variation():
    a = knee.build(_patient(), "knee", [], [], np.random.default_rng(7), side="right")
    b = knee.build(_patient(), "knee", [], [], np.random.default_rng(7), side="right")
    assert np.array_equal(a.labels, b.labels)
    c = built("knee_right", 0)[0]
    assert a.labels.shape != c.labels.shape or not np.array_equal(a.labels, c.labels)
    assert abs(a.volume_ml("cartilage") - c.volume_ml("cartilage")) > 0.1


def test_sides_and_sexes_are_checked():
    with pytest.raises(ValueError, match="pelvis_female"):
        pelvis.sample_findings(_patient("F"), "pelvis_prostate", np.random.default_rng(0))
    with pytest.raises(ValueError, match="side"):
        knee.build(_patient(), "knee", [], [], np.random.default_rng(0))
    left = built("knee", 0)[0].landmarks["fov_center"]
    right = built("knee_right", 0)[0].landmarks["fov_center"]
    assert left[0] > 40 and right[0] < -40


@pytest.mark.parametrize("mod,sub,sex,lo,hi", [(breast, "breast", "F", 0.3, 0.5), (knee, "knee", "M", 0.2, 0.4),
                                               (shoulder, "shoulder", "M", 0.2, 0.4),
                                               (pelvis, "pelvis_prostate", "M", 0.25, 0.45)])
def test_normal_study_prevalence(mod, sub, sex, lo, hi):
    rng = np.random.default_rng(11)
    normal = [not mod.sample_findings(_patient(sex), sub, rng)[0] for _ in range(400)]
    assert lo <= np.mean(normal) <= hi

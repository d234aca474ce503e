"""Abdomen phantom: liver with Couinaud landmarks and vessels, gallbladder, spleen, kidneys, pancreas, GI tract,
aorta and IVC, painted into the shared trunk frame (see ``_trunk_common``); liver lesions and renal/liver cysts.

Reference sizes [R]: liver ~1.2-2.0 L (right lobe ~15 cm craniocaudal), spleen ~0.1-0.3 L (<13 cm), kidneys
10-12 cm long, pancreas head ~25 mm / body ~20 mm, aorta ~20 mm, IVC ~22 mm.
"""

from __future__ import annotations

import numpy as np

from .. import catalog
from ..physics.phantom import Canvas, Phantom
from ..types import Lesion, Patient
from . import _trunk_common as tc
from ._torso import paint_trunk
from ._viscera import SEGMENTS
from .base import side_of

SUBREGIONS = ("abdomen",)

P_NORMAL = 0.35  # liver protocol population (surveillance, characterisation): ~1/3 without a lesion [E]
P_LIVER_CYST = 0.18  # simple hepatic cysts: several % to ~18% of adults on MRI [R]
P_RENAL_CYST = 0.25  # simple renal cysts: ~25% of adults, rising with age [R]
P_METASTASES_MULTIPLE = 0.6  # colorectal liver metastases are usually multiple [R]
SPACING = 2.2  # mm: coronal FOV 420 + 2 x 30 mm over z at <= ~220 voxels
FOV_MM = 420.0

def sample_findings(patient: Patient, subregion: str,
                    rng: np.random.Generator) -> tuple[list[Lesion], list[Lesion]]:
    """Draw the liver lesion (site, histology) and incidental cysts of one abdomen study; ``build`` sizes them."""
    if subregion not in SUBREGIONS:
        raise ValueError(f"abdomen has subregions {SUBREGIONS}, not {subregion!r}")
    lesions, incidentals = [], []
    if rng.random() >= P_NORMAL:
        site = catalog.draw_site("liver_lesion", rng)
        hist = catalog.draw_histology("liver_lesion", site, rng)
        lesions.append(Lesion("liver_lesion", site, hist, attributes={"segment": site.removeprefix("segment_")}))
    if rng.random() < P_LIVER_CYST:
        incidentals.append(Lesion("liver_cyst", "any", "simple_cyst"))
    if rng.random() < P_RENAL_CYST * min(1.5, patient.age / 50):
        incidentals.append(Lesion("renal_cyst", catalog.draw_site("renal_cyst", rng), "simple_cyst"))
    return lesions, incidentals


# ---- build and findings --------------------------------------------------------------------------------------
def build(patient: Patient, subregion: str, lesions: list[Lesion], incidentals: list[Lesion],
          rng: np.random.Generator, side: str | None = None) -> Phantom:
    """Paint the abdomen of ``patient`` (liver dome to iliac crests) and its findings.

    Lesions that cannot be painted are removed from ``lesions``/``incidentals`` in place.
    """
    if subregion not in SUBREGIONS:
        raise ValueError(f"abdomen has subregions {SUBREGIONS}, not {subregion!r}")
    body = tc.draw_body(patient, rng)
    s = body.scale
    centre = np.array([0.0, 0.0, -335.0]) * s  # between the liver dome and the iliac crests
    canvas = tc.trunk_canvas(body, rng, centre[2], FOV_MM / 2 + 30, SPACING)
    paint_trunk(canvas, body)
    canvas.mark("fov_center", centre)
    lesions[:] = [les for les in lesions if _paint_finding(canvas, body, les, rng)]
    incidentals[:] = [les for les in incidentals if _paint_finding(canvas, body, les, rng)]
    return canvas.finish(texture_seed=int(rng.integers(2**31)))


def _nearest_segment(canvas: Canvas, p: np.ndarray) -> str:
    names = [n for n in canvas.landmarks if n.startswith("liver_segment_")]
    return min(names, key=lambda n: np.linalg.norm(canvas.landmarks[n] - p)).removeprefix("liver_segment_")


def _place(canvas: Canvas, base: np.ndarray, size: float, rng: np.random.Generator, organs: tuple[str, ...],
           spread: float = 8.0, min_size: float = 5.0) -> tuple[np.ndarray | None, float]:
    """A centre near ``base`` where a lesion of ``size`` lies mostly inside ``organs``; shrinks it if needed."""
    while size >= min_size:
        for _ in range(25):
            c = base + rng.normal(0, spread, 3)
            if tc.fraction_of(canvas, c, size / 2, organs) > 0.8:
                return c, size
        size *= 0.8
    return None, size


def _paint_finding(canvas: Canvas, body: tc.Body, les: Lesion, rng: np.random.Generator) -> bool:
    """Paint one finding at its site; False when it cannot be painted (it is then dropped)."""
    liver = ("liver", "vein", "bile")
    before = canvas.labels.copy()
    if les.kind in ("liver_lesion", "liver_cyst"):
        seg = les.site.removeprefix("segment_") if les.kind == "liver_lesion" else str(rng.choice(list(SEGMENTS)))
        base = canvas.landmarks[f"liver_segment_{seg}"]
        c, size = _place(canvas, base, catalog.draw_size(les.kind, rng), rng, liver,
                         min_size=10.0 if les.kind == "liver_lesion" else 5.0)
        if c is None:
            return False
        tissue = catalog.HISTOLOGY_TISSUE.get(les.histology, "simple_cyst")
        extra = _liver_lesion(canvas, les, c, size, tissue, rng) if les.kind == "liver_lesion" else ()
        if les.kind == "liver_cyst":
            canvas.blob("simple_cyst", c, size / 2, 0.03, restrict=("liver", "vein"))
        if not tc.measure_changed(canvas, les, before, (tissue,) + extra):
            return False
        les.attributes["segment"] = _nearest_segment(canvas, np.asarray(les.center_lps))
        if les.kind == "liver_lesion":
            les.site = f"segment_{les.attributes['segment']}"
            _satellites(canvas, les, tissue, rng)
        les.tissue = tissue
        les.laterality = side_of(les.center_lps[0]) if les.kind == "liver_lesion" else None
        return True
    if les.kind == "renal_cyst":
        sx = -1 if rng.random() < 0.5 else 1  # either kidney
        c, rot, r = body.geo[f"kidney{sx}"]
        pole = {"upper_pole": 0.6, "lower_pole": -0.6, "interpolar": 0.0}[les.site]
        base = c + rot @ np.array([sx * r[0] * 0.55, 0, pole * r[2]])
        size = min(catalog.draw_size("renal_cyst", rng), 2.2 * r[0])
        canvas.blob("simple_cyst", base, size / 2, 0.03, restrict=("kidney_cortex", "kidney_medulla", "fat"))
        if not tc.measure_changed(canvas, les, before, ("simple_cyst",)):
            return False
        les.tissue = "simple_cyst"
        les.laterality = "right" if sx < 0 else "left"
        return True
    raise ValueError(f"abdomen cannot paint a {les.kind!r} finding")


def _liver_lesion(canvas: Canvas, les: Lesion, c: np.ndarray, size: float, tissue: str,
                  rng: np.random.Generator) -> tuple[str, ...]:
    """Shape by histology [other_lesions.csv]: HCC capsule/necrosis + LI-RADS, lobulated haemangioma, metastasis."""
    res = ("liver", "vein", "bile")
    if les.histology == "hepatocellular_carcinoma":
        canvas.blob(tissue, c, size / 2, 0.12, restrict=res)
        capsule = size >= 15 and rng.random() < 0.7
        if capsule:  # fibrous pseudocapsule, a LI-RADS major feature
            canvas.dilate_label("tendon", tissue, 2.0, restrict=("liver",))
        if size >= 30 and rng.random() < 0.5:
            canvas.blob("necrosis", c, size * 0.2, 0.3, restrict=(tissue,))
            les.attributes["necrotic"] = True
        les.attributes["lirads"] = 5 if size >= 20 or capsule else 4 if size >= 10 else 3
        return ("tendon", "necrosis") if capsule else ("necrosis",)
    if les.histology == "haemangioma":
        canvas.blob(tissue, c, size / 2, 0.3, restrict=res)  # lobulated, circumscribed
        return ()
    canvas.blob(tissue, c, size / 2, 0.15, restrict=res)  # colorectal metastasis
    if size >= 30 and rng.random() < 0.5:
        canvas.blob("necrosis", c, size * 0.2, 0.2, restrict=(tissue,))
        les.attributes["necrotic"] = True
    return ("necrosis",)


def _satellites(canvas: Canvas, les: Lesion, tissue: str, rng: np.random.Generator) -> None:
    """Further colorectal metastases elsewhere in the liver; ``count`` counts what was painted."""
    if les.histology != "colorectal_metastasis":
        return
    count = 1
    if rng.random() < P_METASTASES_MULTIPLE:
        for _ in range(int(rng.integers(1, 5))):
            base = canvas.landmarks[f"liver_segment_{rng.choice(list(SEGMENTS))}"]
            c, size = _place(canvas, base, rng.uniform(8, 20), rng, ("liver",), spread=15.0)
            if c is not None:
                canvas.blob(tissue, c, size / 2, 0.1, restrict=("liver",))
                count += 1
    les.attributes["count"] = count

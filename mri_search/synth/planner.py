"""Draw a study: patient, scanner, protocol series and their geometry, header strings as messy as real ones.

All randomness flows from ``np.random.default_rng([seed, study_index])`` so that a study is the same whatever else
is generated; patients are split into train/val/test by a hash of (seed, patient number), recorded in the manifest.
"""

from __future__ import annotations

import hashlib

import numpy as np

from .physics.phantom import rotation
from .physics.sequences import draw_timing
from .protocols import SCANNERS, VENDOR_INDEX, SeriesTemplate
from .regions import RegionSpec, region_spec, subregion_spec
from .types import Geometry, Patient, SeriesPlan

SPLIT_FRACTIONS = (("train", 0.70), ("val", 0.15), ("test", 0.15))
AGENTS = (("gadobutrol", 0.5), ("gadoterate", 0.3), ("gadoteridol", 0.1), ("gadobenate", 0.1))
FIELD_3T_RATE = 0.45
MOTION_RATE = 0.2  # fraction of series with visible motion ghosts [E]
_FAMILY_NAMES = ("SMITH", "JONES", "GARCIA", "MUELLER", "ROSSI", "NGUYEN", "KOWALSKI", "TANAKA", "DUBOIS", "SILVA",
                 "KHAN", "OKAFOR", "JENSEN", "NOVAK", "COHEN", "HALL", "PATEL", "LARSEN", "MORENO", "IVANOV")
_GIVEN = {"M": ("JOHN", "LUCAS", "AHMED", "WEI", "PIOTR", "DAVID", "KOFI", "MARCO"),
          "F": ("MARY", "SOFIA", "FATIMA", "MEI", "ANNA", "GRACE", "AMARA", "ELENA")}


def split_of(seed: int, patient_number: int) -> str:
    """train/val/test for a patient, from a hash of (seed, patient number): stable and recorded."""
    h = hashlib.sha256(f"{seed}:{patient_number}".encode()).digest()
    u = int.from_bytes(h[:8], "big") / 2**64
    acc = 0.0
    for name, frac in SPLIT_FRACTIONS:
        acc += frac
        if u < acc:
            return name
    return SPLIT_FRACTIONS[-1][0]


def uid(*parts: object) -> str:
    """A deterministic DICOM UID under the 2.25 (UUID-derived) root."""
    h = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return "2.25." + str(int.from_bytes(h[:16], "big"))


def pick(rng: np.random.Generator, weighted: tuple[tuple[str, float], ...]) -> str:
    """Draw one key of a ((key, weight), ...) table."""
    p = np.array([w for _, w in weighted], float)
    return weighted[int(rng.choice(len(weighted), p=p / p.sum()))][0]


def draw_patient(seed: int, number: int, region: str, study_date: str) -> Patient:
    """A fake patient whose age and sex suit the region (``RegionSpec.age_range`` and ``sex``)."""
    spec = region_spec(region)
    rng = np.random.default_rng([seed, 1_000_003, number])
    sex = spec.sex or ("M" if rng.random() < 0.5 else "F")
    lo, hi = spec.age_range
    age = int(rng.integers(lo, hi + 1))
    year = int(study_date[:4]) - age
    birth = f"{year:04d}{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}"
    height = float(rng.normal(1.76 if sex == "M" else 1.63, 0.07))
    weight = float(np.clip(rng.normal(82 if sex == "M" else 68, 14), 42, 150))
    scale = float(np.clip(height / (1.76 if sex == "M" else 1.63) * rng.normal(1.0, 0.03), 0.85, 1.15))
    name = f"{_FAMILY_NAMES[rng.integers(len(_FAMILY_NAMES))]}^{_GIVEN[sex][rng.integers(len(_GIVEN[sex]))]}"
    return Patient(patient_id=f"MRN{seed % 1000:03d}{number:06d}", name=name, sex=sex, age=age, birth_date=birth,
                   weight_kg=round(weight, 1), height_m=round(height, 2), size_scale=scale,
                   split=split_of(seed, number))


def draw_subregion(spec: RegionSpec, patient: Patient, rng: np.random.Generator) -> str:
    """The protocol variant of a study: the patient's sex decides where a subregion has one (pelvis), else the
    subregions' weights."""
    by_sex = [sub.name for sub in spec.subregions if sub.sex == patient.sex]
    if by_sex:
        return by_sex[0]
    return pick(rng, tuple((sub.name, sub.weight) for sub in spec.subregions))


def draw_side(spec: RegionSpec, rng: np.random.Generator) -> str | None:
    """The examined side of a one-sided exam (knee, shoulder); None for the others."""
    return ("left", "right")[int(rng.integers(2))] if spec.unilateral else None


def draw_scanner(rng: np.random.Generator) -> tuple[str, str, float]:
    """(manufacturer, model, field strength)."""
    vendor = pick(rng, (("SIEMENS", 0.4), ("GE MEDICAL SYSTEMS", 0.33), ("Philips Medical Systems", 0.27)))
    want3 = rng.random() < FIELD_3T_RATE
    options = [m for m in SCANNERS[vendor] if (m[1] == 3.0) == want3]
    model, field = options[int(rng.integers(len(options)))]
    return vendor, model, field


def study_description(subregion: str, contrast: bool, side: str | None, rng: np.random.Generator) -> str:
    """StudyDescription as the RIS order text or a Siemens exam-tree path."""
    templates = subregion_spec(subregion).study_descriptions
    tpl = templates[int(rng.integers(len(templates)))]
    return tpl.format(wwo="WITH AND WITHOUT CONTRAST" if contrast else "WITHOUT CONTRAST",
                      wwo_short="W/WO" if contrast else "WO",
                      side={"left": "LT", "right": "RT"}.get(side or "", ""),
                      side_long=(side or "").upper()).replace("  ", " ").strip()


def body_part(subregion: str, rng: np.random.Generator) -> str | None:
    """BodyPartExamined: usually a defined term, sometimes non-standard, sometimes wrong, sometimes missing."""
    good, odd, wrong = subregion_spec(subregion).body_part
    u = rng.random()
    if u < 0.10:
        return None
    pool = good if u < 0.78 else odd if u < 0.93 else wrong
    return pool[int(rng.integers(len(pool)))]


def series_description(tpl: SeriesTemplate, vendor: str, rng: np.random.Generator) -> tuple[str, str]:
    """(SeriesDescription, ProtocolName): vendor convention, sometimes technologist free text or nothing."""
    proto = tpl.names[VENDOR_INDEX[vendor]]
    u = rng.random()
    if u < 0.04:
        return "", proto
    if u < 0.22:
        plane = {"axial": ("AX", "Ax", "TRA", "axial"), "sagittal": ("SAG", "Sag", "sag"),
                 "coronal": ("COR", "Cor", "cor")}[tpl.plane]
        seq = {"T1": "T1", "T2": "T2", "FLAIR": "FLAIR", "PD": "PD", "STIR": "STIR", "T2FS": "T2 FS",
               "PDFS": "PD FS", "DWI": "DWI", "ADC": "ADC", "T1C": "T1 POST", "SSFP": "CINE"}[tpl.sequence]
        p = plane[int(rng.integers(len(plane)))]
        free = f"{p} {seq}" if rng.random() < 0.6 else f"{seq} {p}"
        if tpl.post_contrast and rng.random() < 0.5:
            free += (" +C", " GD", " POST GAD", "+GAD")[int(rng.integers(4))]
        return (free.upper() if rng.random() < 0.5 else free), proto
    desc = proto
    if rng.random() < 0.1:
        desc = desc.upper()
    return desc, proto


def _plane_axes(plane: str) -> tuple[np.ndarray, np.ndarray]:
    """DICOM row and column directions of a cardinal plane (LPS)."""
    if plane == "axial":
        return np.array([1.0, 0, 0]), np.array([0, 1.0, 0])
    if plane == "sagittal":
        return np.array([0, 1.0, 0]), np.array([0, 0, -1.0])
    if plane == "coronal":
        return np.array([1.0, 0, 0]), np.array([0, 0, -1.0])
    raise ValueError(f"unknown plane {plane!r}")


def make_geometry(tpl: SeriesTemplate, center: np.ndarray, rng: np.random.Generator,
                  matrix_scale: float = 1.0) -> Geometry:
    """Draw FOV, matrix, thickness, gap, coverage and obliquity; centre the slab on ``center`` (+ jitter)."""
    fov = float(rng.uniform(*tpl.fov_mm))
    matrix = int(rng.integers(tpl.matrix[0] // 16, tpl.matrix[1] // 16 + 1) * 16)
    matrix = max(32, int(round(matrix * matrix_scale / 16)) * 16)
    ratio = float(rng.uniform(*tpl.rect_fov))
    n_cols = matrix
    n_rows = max(16, int(round(matrix * ratio / 16)) * 16)
    pix = fov / n_cols
    thick = float(np.round(rng.uniform(*tpl.slice_mm) * 2) / 2)
    step = thick * (1.0 + float(rng.uniform(*tpl.gap_frac)))
    coverage = float(rng.uniform(*tpl.coverage_mm))
    n_slices = max(1, int(round(coverage / step)))
    if tpl.family.startswith("T1_3D") and thick < 1.3:
        pix = thick = step = float(np.round(fov / n_cols, 3))  # isotropic 3D
        n_slices = max(1, int(round(coverage / step)))
    row, col = _plane_axes(tpl.plane)
    ang = rng.uniform(-tpl.oblique_deg, tpl.oblique_deg, size=3) * np.array([1.0, 1.0, 0.5])
    rot = rotation(*ang)
    row, col = rot @ row, rot @ col
    normal = np.cross(row, col)
    c = np.asarray(center, float) + rng.normal(0.0, [6.0, 6.0, 8.0])
    origin = c - (n_cols - 1) / 2 * pix * row - (n_rows - 1) / 2 * pix * col - (n_slices - 1) / 2 * step * normal
    r6 = lambda v: tuple(float(round(x, 6)) for x in v)  # noqa: E731 - what a DICOM DS string keeps
    return Geometry(origin=r6(origin), row_dir=r6(row), col_dir=r6(col), pixel_spacing=(round(pix, 6), round(pix, 6)),
                    slice_thickness=round(thick, 3), slice_step=round(step, 4), shape=(n_slices, n_rows, n_cols))


def snr_for(tpl: SeriesTemplate, geom: Geometry, field_t: float, rng: np.random.Generator) -> float:
    """SNR of the reference tissue: scales with voxel volume and field strength [E]."""
    vox = geom.pixel_spacing[0] * geom.pixel_spacing[1] * geom.slice_thickness
    base = 22.0 * (vox / 3.0) ** 0.5 * (field_t / 1.5) ** 0.7
    factor = {"DWI": 0.6, "SSFP": 1.2}.get(tpl.sequence, 1.0) * (0.8 if tpl.family == "SSFSE" else 1.0)
    return float(np.clip(base * factor * rng.uniform(0.7, 1.3), 6.0, 80.0))


def plan_series(subregion: str, vendor: str, field_t: float, contrast: bool, center: np.ndarray,
                study_key: tuple, rng: np.random.Generator, matrix_scale: float = 1.0) -> list[tuple[SeriesPlan, dict]]:
    """The protocol's series for this study, each with its drawn timing (ADC maps follow their DWI)."""
    sub = subregion_spec(subregion)
    templates = [t for t in sub.protocol if (contrast or not t.post_contrast)]
    chosen = [t for t in templates if rng.random() < t.optional]
    if sub.t1_required and not any(t.sequence == "T1" for t in chosen):
        chosen.insert(0, templates[0])
    if not chosen:
        chosen = templates[:1]
    out: list[tuple[SeriesPlan, dict]] = []
    number = 1
    for tpl in chosen:
        number += 1  # series 1 is the (unexported) localiser, as on real scanners
        timing = draw_timing(tpl.family, field_t, rng)
        geom = make_geometry(tpl, center, rng, matrix_scale)
        desc, proto = series_description(tpl, vendor, rng)
        plan = SeriesPlan(series_number=number, sequence=tpl.sequence, family=tpl.family, plane=tpl.plane,
                          geometry=geom, tr_ms=timing["tr_ms"], te_ms=timing["te_ms"], ti_ms=timing["ti_ms"],
                          flip_deg=timing["flip_deg"], echo_train_length=timing["echo_train_length"],
                          b_values=tpl.b_values, fat_suppression=tpl.fat_suppression,
                          post_contrast=tpl.post_contrast, description=desc, protocol_name=proto,
                          snr=snr_for(tpl, geom, field_t, rng),
                          motion=float(rng.uniform(0.05, 0.25)) if rng.random() < MOTION_RATE else 0.0,
                          bias_strength=float(rng.uniform(0.05, 0.35)),
                          seed=int(np.random.SeedSequence([*study_key, number]).generate_state(1)[0]))
        out.append((plan, timing))
        if tpl.sequence == "DWI":
            number += 1
            adc_desc = (desc.replace("TRACEW", "ADC") if "TRACEW" in desc else f"{desc} ADC".strip()) or "ADC"
            adc = SeriesPlan(series_number=number, sequence="ADC", family=tpl.family, plane=tpl.plane, geometry=geom,
                             tr_ms=plan.tr_ms, te_ms=plan.te_ms, b_values=(), fat_suppression=tpl.fat_suppression,
                             description=adc_desc, protocol_name=proto, derived_from=plan.series_number,
                             seed=plan.seed + 1)
            out.append((adc, timing))
    return out


def draw_agent(rng: np.random.Generator) -> str:
    """Gadolinium agent of a contrast study."""
    return pick(rng, AGENTS)


def contrast_given(subregion: str, rng: np.random.Generator) -> bool:
    """Whether this study's protocol gave gadolinium."""
    return rng.random() < subregion_spec(subregion).contrast_rate


"""What a body region declares: ``RegionSpec`` (one per region, in ``specs/<region>.py``) and its ``Subregion``s.

Everything the generator keys by region or by protocol variant lives here, so that the planner, the DICOM and NIfTI
writers, the report generator and the finding catalogue read one record instead of a table each:

- the **protocol** of each subregion (``SeriesTemplate`` lines, contrast rate) and the header vocabulary a study
  of it carries (StudyDescription templates, BodyPartExamined values, the receive coil, patient position);
- who is scanned (age range, sex) and whether the exam is of one side;
- the **report tables**: exam titles, the indication of a normal study, prior-imaging modalities, the normal
  statements of the search pattern (``normal_slots``), the normal impression and the reference tissue that signal
  words compare a lesion with;
- the **finding kinds** a region's phantom can plant (``FindingKind``: sites, histologies, sizes).

The phantom that paints a region is the module of the same name in ``regions/`` (see ``base.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..protocols import SeriesTemplate

# A normal statement: (tags it asserts normal, sequence it needs, templates). ``tags`` are blocked by a planted
# finding that contradicts them (no "No cervical lymphadenopathy" when nodes were planted); ``needs`` is "", "t1c",
# "dwi", "flair", "t2", "t1" or "wm" (FLAIR or T2), so nothing is said about enhancement without a post-contrast
# series; ``templates`` are ``||``-separated sentences with ``[a|b]`` choice groups (``reports/style.expand``).
Alt = tuple[str, str, str]
# A findings slot (organ or structure) of the search pattern: (key, label in structured reports, its statements).
Slot = tuple[str, str, list[Alt]]


@dataclass(frozen=True)
class FindingKind:
    """One kind of finding and how to draw its particulars."""

    sites: dict[str, float]  # named site -> relative weight
    histologies: dict[str, dict[str, float]] = field(default_factory=dict)  # site (or "*") -> histology -> weight
    size_mm: tuple[float, float] = (10.0, 30.0)  # range of the largest diameter
    tumour: bool = False  # True: fills the manifest's tumor_site / tumor_histology
    lateralised: bool = True  # True: the finding has a side (drawn by the region)


@dataclass(frozen=True)
class Subregion:
    """One protocol variant of a region (``StudyPlan.subregion``): its series, header strings and report tables."""

    name: str
    protocol: tuple[SeriesTemplate, ...]  # in acquisition order
    contrast_rate: float  # probability that a study gives gadolinium (protocols.csv "contrast")
    study_descriptions: tuple[str, ...]  # StudyDescription templates: {wwo}, {wwo_short}, {side}, {side_long}
    body_part: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]  # BodyPartExamined: right, odd, wrong
    exam_titles: tuple[str, ...]  # report exam line ({SIDE} for one-sided exams)
    normal_reasons: str  # indication of a study without findings (||-separated; {psa} allowed)
    normal_slots: tuple[Slot, ...]  # the search pattern, in report order
    impression_normal: str  # impression of a study without findings
    prior_modalities: tuple[str, ...] = ("Radiographs", "Prior MRI")  # the comparison line's prior studies
    weight: float = 1.0  # share among the region's subregions (unused where ``sex`` decides)
    sex: str | None = None  # "M"/"F": the subregion of patients of this sex (the region then picks by sex)
    t1_required: bool = False  # a study always holds a T1 (the first template when the optional draws left none)


@dataclass(frozen=True)
class RegionSpec:
    """Everything region-keyed about one body region (see the module docstring)."""

    name: str  # canonical region name; also the name of its phantom module in ``regions/``
    subregions: tuple[Subregion, ...]
    reference_tissue: str  # tissue a radiologist compares a lesion's signal with
    findings: dict[str, FindingKind]  # the finding kinds its phantom plants, by kind name
    coil: str = "Body_18"  # ReceiveCoilName of the enhanced MR header
    age_range: tuple[int, int] = (20, 85)  # patients' ages, inclusive
    sex: str | None = None  # every patient of this sex (breast: "F"); None: drawn
    unilateral: bool = False  # an exam of one side (left/right drawn per patient)
    feet_first: bool = False  # PatientPosition FFS rather than HFS
    line_per_slot: bool = False  # reports always put each findings slot on its own line

"""Plain records shared by the generator's stages.

The generator runs in one direction: a *study plan* (who, which region, which findings, which series) is drawn
first; each region builds a labelled *phantom*; each series is *acquired* from the phantom into a float volume on
its own grid; writers turn (volume, geometry, header) into DICOM and NIfTI; the report generator turns the plan into
text. These records are the hand-offs between those stages. Coordinates are DICOM patient coordinates (LPS, mm):
+x towards the patient's left, +y towards the back, +z towards the head.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Geometry:
    """Where a stack of slices lies in patient space (the DICOM image-plane module).

    Voxel ``[k, r, c]`` (slice, row, column) has its centre at
    ``origin + c * col_spacing * row_dir + r * row_spacing * col_dir + k * slice_step * normal``, exactly as DICOM's
    ImagePositionPatient / ImageOrientationPatient / PixelSpacing define it.
    """

    origin: tuple[float, float, float]  # centre of the first voxel of the first slice, LPS mm
    row_dir: tuple[float, float, float]  # unit vector along a row (increasing column index); DICOM IOP[0:3]
    col_dir: tuple[float, float, float]  # unit vector down a column (increasing row index); DICOM IOP[3:6]
    pixel_spacing: tuple[float, float]  # (row spacing, column spacing) mm, DICOM PixelSpacing order
    slice_thickness: float  # nominal slice thickness mm (the excited slab per slice)
    slice_step: float  # centre-to-centre distance between slices mm (thickness + gap)
    shape: tuple[int, int, int]  # (slices, rows, columns)

    @property
    def normal(self) -> np.ndarray:
        """Unit slice normal, row_dir x col_dir (slices advance along it)."""
        n = np.cross(np.asarray(self.row_dir), np.asarray(self.col_dir))
        return n / np.linalg.norm(n)

    def index_to_lps(self) -> np.ndarray:
        """4x4 matrix mapping homogeneous (column, row, slice, 1) indices to LPS mm."""
        m = np.eye(4)
        m[:3, 0] = np.asarray(self.row_dir) * self.pixel_spacing[1]
        m[:3, 1] = np.asarray(self.col_dir) * self.pixel_spacing[0]
        m[:3, 2] = self.normal * self.slice_step
        m[:3, 3] = self.origin
        return m

    def slice_positions(self) -> np.ndarray:
        """[S, 3] ImagePositionPatient of every slice, LPS mm."""
        k = np.arange(self.shape[0])[:, None]
        return np.asarray(self.origin)[None, :] + k * self.slice_step * self.normal[None, :]


@dataclass(frozen=True)
class Patient:
    """A fake but complete patient, as an export carries one."""

    patient_id: str  # MRN-like identifier (fake)
    name: str  # DICOM PN "FAMILY^GIVEN" (fake)
    sex: str  # "M" or "F"
    age: int  # years
    birth_date: str  # YYYYMMDD, consistent with age and study date
    weight_kg: float
    height_m: float
    size_scale: float  # overall body-size factor applied to the phantom (1.0 = reference adult)
    split: str  # "train", "val" or "test": decided per patient from the seed


@dataclass
class Lesion:
    """One planted abnormality: what it is, where it is, how big, and how it looks.

    ``kind`` is the catalogue key (e.g. "hn_tumour", "glioblastoma", "disc_herniation"); ``site`` the named
    (sub-)site (e.g. "oropharynx_palatine_tonsil", "L4-L5", "medial_meniscus_posterior_horn"); ``histology`` the
    tissue diagnosis where one applies. Geometry fields are filled by the region that places the lesion.
    """

    kind: str
    site: str
    histology: str | None = None
    laterality: str | None = None  # "left", "right", "midline", "bilateral" or None
    size_mm: tuple[float, float, float] = (0.0, 0.0, 0.0)  # AP x TR x CC diameters as a report gives them
    center_lps: tuple[float, float, float] | None = None
    tissue: str = ""  # tissue-table key of the solid component
    attributes: dict = field(default_factory=dict)  # kind-specific detail: necrosis, enhancement, level, grade...


@dataclass
class SeriesPlan:
    """One series to acquire: the sequence, its timing and its geometry."""

    series_number: int
    sequence: str  # manifest label: T1, T2, FLAIR, PD, STIR, T2FS, PDFS, DWI, ADC, T1C
    family: str  # technical family key in physics/sequences.py (e.g. "T2_TSE_2D", "T1_3D_IR_GRE")
    plane: str  # "axial", "sagittal" or "coronal" (nearest cardinal plane of an oblique stack)
    geometry: Geometry
    tr_ms: float
    te_ms: float
    ti_ms: float | None = None
    flip_deg: float = 90.0
    echo_train_length: int = 1
    b_values: tuple[int, ...] = ()  # DWI only: the b-values stored in this series (s/mm^2)
    fat_suppression: str = "none"  # "none", "spectral", "stir", "dixon"
    post_contrast: bool = False
    description: str = ""  # SeriesDescription as the scanner/technologist wrote it
    protocol_name: str = ""
    derived_from: int | None = None  # series number this one is computed from (ADC maps)
    snr: float = 30.0  # target SNR of the reference tissue before Rician noise
    motion: float = 0.0  # 0 = none; else strength of phase-encode ghosting
    bias_strength: float = 0.0  # amplitude of the multiplicative receive-field inhomogeneity
    seed: int = 0  # seed of this series' noise and artefacts


@dataclass
class StudyPlan:
    """Everything drawn for one study before any voxel is computed."""

    patient: Patient
    study_uid: str
    accession: str
    study_date: str  # YYYYMMDD
    study_time: str  # HHMMSS
    region: str  # canonical body region (see regions.REGIONS)
    subregion: str  # protocol variant: e.g. "lumbar_spine", "pelvis_prostate", "cardiac"
    manufacturer: str  # "SIEMENS", "GE MEDICAL SYSTEMS", "Philips Medical Systems"
    model_name: str
    field_strength: float  # tesla: 1.5 or 3.0
    institution: str
    study_description: str
    body_part_examined: str | None  # as written in the header: may be missing or wrong, like real archives
    laterality: str | None  # imaged side for unilateral exams (knee, shoulder): "left"/"right"
    contrast_agent: str | None  # None when no gadolinium was given
    indication: str  # clinical question, one line
    lesions: list[Lesion] = field(default_factory=list)
    incidentals: list[Lesion] = field(default_factory=list)  # minor findings (cysts, haemangioma, ...)
    series: list[SeriesPlan] = field(default_factory=list)
    seed: int = 0
    style: str = "US"  # report style: "US" or "UK"

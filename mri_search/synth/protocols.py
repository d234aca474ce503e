"""The vocabulary of protocols: a protocol line (``SeriesTemplate``), shared series names, the scanners.

Each subregion's protocol is its ``Subregion.protocol`` in ``regions/specs/<region>.py``. Values follow
``data/protocols.csv`` (per-region sequences in order, planes, FOV, matrix, slice thickness, gap, coverage; ACR,
PI-RADS v2.1, OAI, MS-SMART, SCMR sources) and ``data/sequences.csv``. Ranges overlap across regions the way real
protocols do (a neck and a brain FOV, a knee and a shoulder FOV), which is what keeps a geometry-only classifier
from being right for free.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeriesTemplate:
    """One line of a protocol."""

    sequence: str  # manifest label: T1, T2, FLAIR, PD, STIR, T2FS, PDFS, DWI, ADC, T1C, SSFP
    family: str  # sequences.FAMILIES key
    plane: str  # axial, sagittal, coronal
    fov_mm: tuple[float, float]  # in-plane FOV along the longer side
    matrix: tuple[int, int]  # acquisition matrix along the longer side
    slice_mm: tuple[float, float]  # slice thickness
    gap_frac: tuple[float, float] = (0.0, 0.1)  # gap as a fraction of the thickness
    coverage_mm: tuple[float, float] = (100.0, 160.0)  # extent along the slice normal
    rect_fov: tuple[float, float] = (1.0, 1.0)  # phase/readout FOV ratio (rectangular FOV in the body)
    oblique_deg: float = 8.0  # maximum random obliquity
    fat_suppression: str = "none"
    post_contrast: bool = False
    optional: float = 1.0  # probability that the series is acquired
    b_values: tuple[int, ...] = ()
    names: tuple[str, str, str] = ("", "", "")  # Siemens, GE, Philips SeriesDescription (protocols.csv)


# SeriesDescription of the plain turbo spin-echo series, as (Siemens, GE, Philips) name them
TSE_NAMES: dict[str, tuple[str, str, str]] = {
    "T2ax": ("t2_tse_tra", "Ax T2 FRFSE", "T2W_TSE_TRA"),
    "T2sag": ("t2_tse_sag", "Sag T2 FRFSE", "T2W_TSE_SAG"),
    "T2cor": ("t2_tse_cor", "Cor T2 FSE", "T2W_TSE_COR"),
    "T1ax": ("t1_tse_tra", "Ax T1 FSE", "T1W_TSE_TRA"),
    "T1sag": ("t1_tse_sag", "Sag T1 FSE", "T1W_TSE_SAG"),
    "T1cor": ("t1_tse_cor", "Cor T1 FSE", "T1W_TSE_COR"),
}


# Scanners by vendor: (model, field strength).
SCANNERS: dict[str, tuple[tuple[str, float], ...]] = {
    "SIEMENS": (("Aera", 1.5), ("Avanto_fit", 1.5), ("Skyra", 3.0), ("Prisma", 3.0), ("MAGNETOM Vida", 3.0)),
    "GE MEDICAL SYSTEMS": (("Signa HDxt", 1.5), ("Optima MR450w", 1.5), ("DISCOVERY MR750", 3.0),
                           ("SIGNA Premier", 3.0)),
    "Philips Medical Systems": (("Ingenia", 1.5), ("Achieva", 1.5), ("Ingenia", 3.0), ("Achieva dStream", 3.0)),
}
VENDOR_INDEX = {"SIEMENS": 0, "GE MEDICAL SYSTEMS": 1, "Philips Medical Systems": 2}

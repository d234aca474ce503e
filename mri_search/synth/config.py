"""Configuration of one ``mri-search synth`` run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .regions import REGIONS

FORMATS = ("dicom", "nifti", "both")


@dataclass(frozen=True)
class SynthConfig:
    """What to generate and where."""

    out: Path  # archive folder
    studies: int = 20  # number of studies
    seed: int = 0  # master seed: same seed -> same archive
    format: str = "both"  # "dicom", "nifti" or "both"
    regions: tuple[str, ...] | None = None  # body regions to draw from (None: all, in equal shares)
    workers: int = 1  # worker processes (studies are independent)
    enhanced_fraction: float = 0.2  # share of DICOM series written as one enhanced multi-frame file
    report_csv: bool = True  # also write reports.csv keyed by accession number / StudyInstanceUID
    overwrite: bool = False  # replace an existing archive in ``out``
    matrix_scale: float = 1.0  # < 1 shrinks acquisition matrices (large training corpora); 1 = clinical sizes
    label_maps: bool = False  # also write each series' tissue label map (NIfTI) for segmentation work

    def validate(self, preview: bool = False) -> None:
        """Raise ValueError with an actionable message for a bad setting."""
        if self.format not in FORMATS:
            raise ValueError(f"--format must be one of {', '.join(FORMATS)}, not {self.format!r}")
        if not preview and self.studies < 1:
            raise ValueError("--studies must be at least 1")
        if self.workers < 1:
            raise ValueError("--workers must be at least 1")
        if not 0.0 <= self.enhanced_fraction <= 1.0:
            raise ValueError("--enhanced-fraction must be between 0 and 1")
        if not 0.1 <= self.matrix_scale <= 1.0:
            raise ValueError("--matrix-scale must be between 0.1 and 1")
        for r in self.regions or ():
            if r not in REGIONS:
                raise ValueError(f"unknown region {r!r}; choose from {', '.join(REGIONS)}")

    @property
    def region_list(self) -> tuple[str, ...]:
        """The regions studies are drawn from."""
        return self.regions or REGIONS

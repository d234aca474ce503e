"""Configuration of one ``mri-search synth`` run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .regions import REGIONS

if TYPE_CHECKING:  # importing preprocessing pulls in MONAI; only the tensors format needs it
    from ..preprocess import PreprocessConfig

FORMATS = ("dicom", "nifti", "both", "tensors")


@dataclass(frozen=True)
class SynthConfig:
    """What to generate and where."""

    out: Path  # archive folder
    studies: int = 20  # number of studies
    seed: int = 0  # master seed: same seed -> same archive
    format: str = "both"  # "dicom", "nifti", "both", or "tensors" (model-ready: mri_search.tensor_archive)
    regions: tuple[str, ...] | None = None  # body regions to draw from (None: all, in equal shares)
    workers: int = 1  # worker processes (studies are independent)
    enhanced_fraction: float = 0.2  # share of DICOM series written as one enhanced multi-frame file
    report_csv: bool = True  # also write reports.csv keyed by accession number / StudyInstanceUID
    overwrite: bool = False  # replace an existing archive in ``out``
    matrix_scale: float = 1.0  # < 1 shrinks acquisition matrices (large training corpora); 1 = clinical sizes
    label_maps: bool = False  # also write each series' tissue label map (NIfTI) for segmentation work
    region_weights: tuple[tuple[str, float], ...] = ()  # (region, share) pairs; unnamed regions share the rest
    hn_tumour_fraction: float | None = None  # share of head-and-neck patients with a primary, sub-sites balanced
    preprocess: PreprocessConfig | None = None  # format "tensors": the model's preprocessing (None: the default)

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
        for r, w in self.region_weights:
            if r not in self.region_list:
                raise ValueError(f"--region-weights names {r!r}, which is not among the regions drawn from "
                                 f"({', '.join(self.region_list)})")
            if not 0.0 <= w <= 1.0:
                raise ValueError(f"--region-weights: the share of {r} must be between 0 and 1, got {w}")
        if self.region_weights:
            named = {r for r, _ in self.region_weights}
            if len(named) != len(self.region_weights):
                raise ValueError("--region-weights names a region twice")
            total = sum(w for _, w in self.region_weights)
            if total > 1.0 + 1e-9 or (named == set(self.region_list) and abs(total - 1.0) > 1e-6):
                raise ValueError(f"--region-weights: shares sum to {total:g}; they must sum to at most 1 (exactly 1 "
                                 "when every region is named)")
        if self.hn_tumour_fraction is not None and not 0.0 <= self.hn_tumour_fraction <= 1.0:
            raise ValueError("--hn-tumour-fraction must be between 0 and 1")
        if self.format == "tensors" and self.label_maps:
            raise ValueError("--label-maps writes files in each series' own geometry; it needs --format dicom, "
                             "nifti or both, not tensors")

    @property
    def region_list(self) -> tuple[str, ...]:
        """The regions studies are drawn from."""
        return self.regions or REGIONS

    def preprocess_config(self) -> PreprocessConfig:
        """The preprocessing a tensor archive's tensors follow (``preprocess``, else the default)."""
        from ..preprocess import PreprocessConfig

        return self.preprocess or PreprocessConfig()

    def region_shares(self) -> tuple[float, ...] | None:
        """Share of each of ``region_list`` (None: the unweighted cycle through the regions)."""
        if not self.region_weights:
            return None
        given = dict(self.region_weights)
        rest = [r for r in self.region_list if r not in given]
        left = max(0.0, 1.0 - sum(given.values()))
        return tuple(given.get(r, left / len(rest) if rest else 0.0) for r in self.region_list)


def parse_region_weights(text: str | None) -> tuple[tuple[str, float], ...]:
    """``"head_neck=0.4,brain=0.1"`` -> ``(("head_neck", 0.4), ("brain", 0.1))``.

    Raises:
        ValueError: an item that is not ``region=share`` with a number.
    """
    out = []
    for item in (text or "").split(","):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        try:
            share = float(value)
        except ValueError:
            share = None
        if not sep or share is None:
            raise ValueError(f"--region-weights: {item.strip()!r} is not REGION=SHARE (e.g. head_neck=0.4)")
        out.append((name.strip(), share))
    return tuple(out)

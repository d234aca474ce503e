"""Training and evaluation pairs: a series and its label file, brought onto the model's input grid together.

The image goes through the model's own preprocessing (``PreprocessCache``: orientation, anti-aliasing, spacing,
percentile scaling, crop/pad). The label map is then resampled onto exactly the grid the image landed on
(MONAI's ``ResampleToMatch``, nearest neighbour, by the two affines), so image and labels share every voxel
whatever the pipeline did; the same resampling in the other direction puts predictions back on the series' grid.

Pairs of a generated archive come from its manifest (``label_path``, ``lesion_mask_path``, ``split``): ground
truth is what the manifest is for. A series and its NIfTI twin make one pair (the NIfTI one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..ingest.archive import scan_archive
from ..ingest.records import SeriesRecord
from ..preprocess import PreprocessCache, PreprocessConfig
from .labels import load_label_map
from .structures import StructureSet

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Case:
    """One annotated series."""

    record: SeriesRecord  # the series (as scanned)
    label: Path  # tissue label map on the series' grid
    lesion_mask: Path | None  # 0/1 lesion mask on the same grid
    split: str  # "train", "val" or "test" (by patient)
    region: str  # body region
    patient: str  # patient id (ground truth; never reaches the model)
    sequence: str  # sequence label of the manifest


def archive_cases(archive: Path, splits: tuple[str, ...] = (), regions: tuple[str, ...] = (),
                  max_series: int = 0) -> list[Case]:
    """Annotated series of a generated archive (``mri-search synth --label-maps``), in manifest order.

    Args:
        archive: the archive folder.
        splits: keep these splits only (empty: all).
        regions: keep these body regions only (empty: all).
        max_series: keep at most this many (0: all), spread over the list.

    Raises:
        ValueError: no manifest, no label maps, or nothing left after the filters.
    """
    from ..synth.manifest import read_manifest

    archive = Path(archive)
    try:
        rows = read_manifest(archive).to_pylist()
    except FileNotFoundError as exc:
        raise ValueError(str(exc)) from None
    rows = [r for r in rows if r.get("label_path")]
    if not rows:
        raise ValueError(f"{archive}: the manifest lists no label maps; generate the archive with "
                         "`mri-search synth ... --label-maps`")
    rows = [r for r in rows if (not splits or r["split"] in splits) and (not regions or r["body_region"] in regions)]
    if not rows:
        raise ValueError(f"{archive}: no labelled series in split(s) {list(splits) or 'any'} and region(s) "
                         f"{list(regions) or 'any'}")
    if max_series and len(rows) > max_series:
        rows = [rows[i] for i in np.linspace(0, len(rows) - 1, max_series).round().astype(int)]
    use_nifti = all(r["nifti_path"] for r in rows)  # NIfTI twins everywhere: scan only those (faster)
    row_of: dict[str, int] = {}
    for i, r in enumerate(rows):
        for path in ([r["nifti_path"]] if use_nifti else [r["nifti_path"], *(r["dicom_paths"] or [])]):
            if path:
                row_of[path] = i
    found: dict[int, SeriesRecord] = {}
    for rec in scan_archive(archive / "nifti" if use_nifti else archive).series:
        ref = rec.files[0]
        i = row_of.get(str((Path(ref.container) / ref.member).relative_to(archive)))
        if i is not None and (i not in found or rec.source == "nifti"):  # a series and its NIfTI twin: the NIfTI
            found[i] = rec
    cases = []
    for i, r in enumerate(rows):
        if i not in found:
            log.warning("%s: series %s of the manifest was not found by the scan; skipped", archive,
                        r["nifti_path"] or (r["dicom_paths"] or ["?"])[0])
            continue
        cases.append(Case(record=found[i], label=archive / r["label_path"],
                          lesion_mask=archive / r["lesion_mask_path"] if r.get("lesion_mask_path") else None,
                          split=r["split"], region=r["body_region"], patient=r["patient_id"],
                          sequence=r["sequence"]))
    if not cases:
        raise ValueError(f"{archive}: none of the labelled series could be read")
    return cases


def to_model_grid(label, image):
    """Resample a label ``MetaTensor`` ``[1, ...]`` onto ``image``'s grid (nearest): ``[1, *image grid]`` uint8."""
    from monai.transforms import ResampleToMatch

    out = ResampleToMatch(mode="nearest", padding_mode="zeros")(label.float(), image)
    return out.as_tensor().round().to(torch.uint8)


class PairLoader:
    """A case -> ``{"image": [1, S, S, S] float32, "target": [1, S, S, S] uint8, "affine": [4, 4]}``.

    ``target`` holds class indices of ``structures`` (task ``segment``) or the 0/1 lesion mask (``localize``).

    Args:
        preprocess: the model's preprocessing.
        cache_dir: root of the preprocessing cache.
        task: "segment" or "localize".
        structures: the classes (``segment``).
        known: label values a tissue label map may hold (its label table).
    """

    def __init__(self, preprocess: PreprocessConfig, cache_dir: Path, task: str,
                 structures: StructureSet | None = None, known: set[int] | None = None) -> None:
        if task == "segment" and structures is None:
            raise ValueError("segmentation pairs need a structure set")
        self.cache = PreprocessCache(cache_dir, preprocess)
        self.task = task
        self.lookup = torch.as_tensor(structures.lookup()) if structures is not None else None
        self.known = known

    def native_target(self, case: Case):
        """The case's target on its own series grid: class indices (segment) or the lesion mask (localize)."""
        if self.task == "segment":
            lab = load_label_map(case.label, case.record, self.known)
            return _mapped(lab, self.lookup)
        if case.lesion_mask is not None:
            return load_label_map(case.lesion_mask, case.record, {0, 1})
        from ..synth.physics.tissues import LESION_LABEL_MIN

        lab = load_label_map(case.label, case.record, self.known)
        return _mapped(lab, (torch.arange(256) >= LESION_LABEL_MIN).to(torch.uint8))

    def __call__(self, case: Case) -> dict:
        image = self.cache(case.record)  # MetaTensor [1, S, S, S], RAS affine
        target = to_model_grid(self.native_target(case), image)
        return {"image": image.as_tensor().float(), "target": target,
                "affine": image.affine.to(torch.float64).clone()}


def _mapped(lab, lookup: torch.Tensor):
    """``lab`` with every value replaced through ``lookup`` (a [256] table), metadata kept."""
    from monai.data import MetaTensor

    meta = {k: v for k, v in lab.meta.items() if k != "affine"}
    return MetaTensor(lookup[lab.as_tensor().long()], affine=lab.affine, meta=meta)


def prepare(cases: list[Case], loader: PairLoader, errors: list[tuple[str, str]] | None = None) -> list[dict]:
    """Every case through ``loader``; a case that fails (bad label file, unreadable series) is left out with its
    reason appended to ``errors`` (or raised when ``errors`` is None)."""
    out = []
    for case in cases:
        try:
            sample = loader(case)
        except ValueError as exc:
            if errors is None:
                raise
            errors.append((str(case.label), str(exc)))
            continue
        sample["image"] = sample["image"].half()  # [0, 1] intensities: float16 halves the memory of a training set
        sample["case"] = case
        out.append(sample)
    return out
